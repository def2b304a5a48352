#include "engine/summary.hpp"

#include "engine/memory.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace wedge::engine {

Summary::Summary(std::shared_ptr<const FieldLayout> layout) : layout_(std::move(layout)) {
  std::size_t total = 0;
  for (const auto& f : layout_->categorical) {
    offsets_.push_back(total);
    total += f.categories.size();
  }
  counts_.assign(total, 0);
  for (const auto& f : layout_->continuous) {
    continuous_.emplace_back(f.hist_min, f.hist_max, f.hist_bins);
  }
}

Summary::Summary(const Summary& other, std::shared_ptr<std::pmr::memory_resource> arena)
    : layout_(other.layout_),
      arena_(std::move(arena)),
      offsets_(other.offsets_, arena_ != nullptr ? arena_.get() : std::pmr::get_default_resource()),
      counts_(other.counts_, offsets_.get_allocator()),
      continuous_(other.continuous_, offsets_.get_allocator()),  // histograms too (uses-allocator)
      runs_(other.runs_) {}

std::size_t Summary::arena_bytes(const FieldLayout& layout) {
  const auto piece = [](std::size_t bytes) { return BumpArena::piece_bytes(bytes); };
  std::size_t cells = 0;
  for (const auto& f : layout.categorical) cells += f.categories.size();
  std::size_t bytes = piece(layout.categorical.size() * sizeof(std::size_t)) +
                      piece(cells * sizeof(std::uint64_t)) +
                      piece(layout.continuous.size() * sizeof(ContinuousStats));
  for (const auto& f : layout.continuous) bytes += piece((f.hist_bins + 2) * sizeof(std::uint64_t));
  return bytes;
}

Summary::Summary(const Summary& other) : Summary(other, nullptr) {}

Summary::Summary(Summary&& other) noexcept
    : layout_(std::move(other.layout_)),
      arena_(other.arena_),  // shared: other's vectors keep their allocator, so the arena too
      offsets_(std::move(other.offsets_)),
      counts_(std::move(other.counts_)),
      continuous_(std::move(other.continuous_)),
      runs_(other.runs_) {}

// Assignments copy or move every member but arena_: counts_ keeps its own allocator (a
// polymorphic allocator does not propagate), so this summary's arena must stay with it. Between
// two summaries of one allocator the move of counts_ takes the other's memory, which that same
// arena holds.
Summary& Summary::operator=(const Summary& other) {
  if (this != &other) {
    layout_ = other.layout_;
    offsets_ = other.offsets_;
    counts_ = other.counts_;
    continuous_ = other.continuous_;
    runs_ = other.runs_;
  }
  return *this;
}

Summary& Summary::operator=(Summary&& other) {
  if (this != &other) {
    layout_ = std::move(other.layout_);
    offsets_ = std::move(other.offsets_);
    counts_ = std::move(other.counts_);
    continuous_ = std::move(other.continuous_);
    runs_ = other.runs_;
  }
  return *this;
}

void Summary::merge(const Summary& other) {
  if (counts_.size() != other.counts_.size() || continuous_.size() != other.continuous_.size()) {
    throw std::invalid_argument("Summary::merge: layouts differ");
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  for (std::size_t j = 0; j < continuous_.size(); ++j) continuous_[j].merge(other.continuous_[j]);
  runs_ += other.runs_;
}

namespace {

/// Counts the categorical fields of n runs (run k's field i at categories[k * NC + i]) with the
/// number of fields known at compile time: the field loop unrolled, each field's counts reached
/// through its own pointer (at[i]), so a run costs one load and one increment per field.
template <std::size_t NC>
void count_runs(std::uint64_t* const* at, const std::uint16_t* categories, std::size_t n) noexcept {
  std::array<std::uint64_t*, NC> p;
  for (std::size_t i = 0; i < NC; ++i) p[i] = at[i];
  for (std::size_t k = 0; k < n; ++k, categories += NC) {
    for (std::size_t i = 0; i < NC; ++i) ++p[i][categories[i]];
  }
}

/// The same for any number of fields.
void count_runs_any(std::uint64_t* const* at, std::size_t nc, const std::uint16_t* categories,
                    std::size_t n) noexcept {
  for (std::size_t k = 0; k < n; ++k, categories += nc) {
    for (std::size_t i = 0; i < nc; ++i) ++at[i][categories[i]];
  }
}

using CountRuns = void (*)(std::uint64_t* const*, const std::uint16_t*, std::size_t) noexcept;

/// count_runs<NC> for NC = 0 .. FIXED - 1.
constexpr std::size_t FIXED = 17;
template <std::size_t... NC>
constexpr std::array<CountRuns, FIXED> count_table(std::index_sequence<NC...>) {
  return {&count_runs<NC>...};
}
constexpr std::array<CountRuns, FIXED> COUNT_RUNS = count_table(std::make_index_sequence<FIXED>());

}  // namespace

void Summary::add_runs(const std::uint16_t* categories, const double* values,
                       std::size_t n) noexcept {
  const std::size_t nc = offsets_.size(), nv = continuous_.size();
  // Categorical fields run by run, so that the fields' increments (each often of the same count
  // as the run before) form independent chains; continuous fields one at a time, each with its
  // accumulators in registers. Counts are integers: any order of increments gives the same counts.
  constexpr std::size_t MANY = 64;
  if (nc <= MANY) {
    std::array<std::uint64_t*, MANY> at{};
    for (std::size_t i = 0; i < nc; ++i) at[i] = counts_.data() + offsets_[i];
    if (nc < FIXED) {
      COUNT_RUNS[nc](at.data(), categories, n);
    } else {
      count_runs_any(at.data(), nc, categories, n);
    }
  } else {
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t i = 0; i < nc; ++i) ++counts_[offsets_[i] + categories[k * nc + i]];
    }
  }
  for (std::size_t j = 0; j < nv; ++j) continuous_[j].add_values(values + j, nv, n);
  runs_ += n;
}

void Summary::reset() {
  // In place: the runner resets a block's summary before every block, so no histogram is
  // reallocated (a malloc and a free per continuous field per block before).
  std::fill(counts_.begin(), counts_.end(), 0);
  for (auto& c : continuous_) c.clear();
  runs_ = 0;
}

int Summary::categorical_index(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < layout_->categorical.size(); ++i) {
    if (layout_->categorical[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Summary::continuous_index(std::string_view name) const noexcept {
  for (std::size_t j = 0; j < layout_->continuous.size(); ++j) {
    if (layout_->continuous[j].name == name) return static_cast<int>(j);
  }
  return -1;
}

double Summary::max_half_width(std::span<const int> fields) const noexcept {
  double worst = 0.0;
  for (int f : fields) {
    for (std::uint64_t k : counts(static_cast<std::size_t>(f))) {
      const Interval ci = wilson(k, runs_);
      worst = std::max(worst, 0.5 * (ci.high - ci.low));
    }
  }
  return worst;
}

namespace {
bool same_bits(double a, double b) noexcept { return std::memcmp(&a, &b, sizeof a) == 0; }
}  // namespace

bool operator==(const Summary& a, const Summary& b) noexcept {
  if (a.runs_ != b.runs_ || a.counts_ != b.counts_ ||
      a.continuous_.size() != b.continuous_.size()) {
    return false;
  }
  for (std::size_t j = 0; j < a.continuous_.size(); ++j) {
    const auto& x = a.continuous_[j];
    const auto& y = b.continuous_[j];
    if (x.n() != y.n() || !same_bits(x.mean(), y.mean()) || !same_bits(x.m2(), y.m2()) ||
        !same_bits(x.min(), y.min()) || !same_bits(x.max(), y.max()) ||
        x.histogram() != y.histogram()) {
      return false;
    }
  }
  return true;
}

SummaryState::Offsets::Offsets(const FieldLayout& layout) {
  width = 1;  // runs
  for (const auto& f : layout.categorical) {
    counts.push_back(width);
    width += f.categories.size();
  }
  for (const auto& f : layout.continuous) {
    histograms.push_back(width);
    width += f.hist_bins + 2;
  }
}

SummaryState SummaryState::pack(std::span<const Summary> summaries) {
  SummaryState state;
  state.rows = summaries.size();
  if (summaries.empty()) return state;
  const Offsets at(summaries.front().layout());
  const std::size_t nv = summaries.front().continuous_.size();
  state.integers.resize(state.rows * at.width);
  state.moments.reserve(state.rows * nv);
  for (std::size_t r = 0; r < state.rows; ++r) {
    const Summary& s = summaries[r];
    const std::size_t count_width = (nv > 0 ? at.histograms.front() : at.width) - 1;
    if (s.counts_.size() != count_width || s.continuous_.size() != nv) {
      throw std::invalid_argument("SummaryState::pack: layouts differ");
    }
    std::uint64_t* row = state.integers.data() + r * at.width;
    row[at.runs] = s.runs_;
    std::copy(s.counts_.begin(), s.counts_.end(), row + 1);  // categorical counts are contiguous
    for (std::size_t j = 0; j < nv; ++j) {
      const auto& h = s.continuous_[j].histogram();
      const std::size_t end = j + 1 < nv ? at.histograms[j + 1] : at.width;
      if (h.size() != end - at.histograms[j])
        throw std::invalid_argument("SummaryState::pack: layouts differ");
      std::copy(h.begin(), h.end(), row + at.histograms[j]);
      state.moments.push_back(s.continuous_[j].raw());
    }
  }
  return state;
}

std::vector<Summary> SummaryState::unpack(const std::shared_ptr<const FieldLayout>& layout) const {
  std::vector<Summary> out(rows, Summary(layout));
  for (std::size_t r = 0; r < rows; ++r) {
    add_integers(r, out[r]);
    merge_moments(r, out[r]);
  }
  return out;
}

void SummaryState::add_integers(std::size_t row, Summary& target) const {
  const Offsets at(target.layout());
  if (integers.size() != rows * at.width || row >= rows) {
    throw std::invalid_argument("SummaryState::add_integers: no such row, or another layout");
  }
  const std::uint64_t* in = integers.data() + row * at.width;
  target.runs_ += in[at.runs];
  for (std::size_t i = 0; i < target.counts_.size(); ++i) target.counts_[i] += in[1 + i];
  for (std::size_t j = 0; j < target.continuous_.size(); ++j) {
    target.continuous_[j].add_histogram(in + at.histograms[j]);
  }
}

void SummaryState::merge_moments(std::size_t row, Summary& target) const {
  const std::size_t nv = target.continuous_.size();
  if (moments.size() != rows * nv || row >= rows) {
    throw std::invalid_argument("SummaryState::merge_moments: no such row, or another layout");
  }
  for (std::size_t j = 0; j < nv; ++j) target.continuous_[j].merge_moments(moments[row * nv + j]);
}

}  // namespace wedge::engine
