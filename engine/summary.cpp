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

/// Most categories a field may have to be counted in a register (8-bit lanes, two fields a
/// register: 4 lanes each).
constexpr std::size_t PACKED_CATEGORIES = 4;
/// Most runs counted in registers between two flushes: an 8-bit lane holds 255.
constexpr std::size_t PACKED_RUNS = 0xff;
/// Most leading fields counted in registers (registers are kept for the rest).
constexpr std::size_t PACKED_FIELDS = 8;
/// Largest number of fields counted in memory by a specialised loop.
constexpr std::size_t MEMORY_FIELDS = 16;

/// Counts the categorical fields of n runs (run k's field i at categories[k * (NP + NM) + i])
/// with the numbers of fields known at compile time. The first NP fields (each of at most
/// PACKED_CATEGORIES categories) are counted in registers, two fields a register: field i's
/// category c adds 1 to the 8-bit lane 4 (i mod 2) + c of acc[i / 2] (the value to add read from
/// a table, lane[i][c]). The lanes are added to the fields' counts (at[i]) every PACKED_RUNS
/// runs and at the end, so no lane overflows, and runs that repeat a category make no chain
/// through memory. The other NM fields are counted in memory, one increment per field per run,
/// each field's counts reached through its own pointer. Counts are integers: the same counts as
/// incrementing them run by run.
template <std::size_t NP, std::size_t NM>
void count_runs(std::uint64_t* const* at, const std::size_t* sizes, const std::uint16_t* categories,
                std::size_t n) noexcept {
  constexpr std::size_t NC = NP + NM;
  constexpr std::size_t NA = (NP + 1) / 2;
  std::array<std::array<std::uint64_t, PACKED_CATEGORIES>, NP> lane;
  for (std::size_t i = 0; i < NP; ++i) {
    for (std::size_t c = 0; c < PACKED_CATEGORIES; ++c) {
      lane[i][c] = std::uint64_t{1} << (32 * (i % 2) + 8 * c);
    }
  }
  std::array<std::uint64_t*, NM> p;
  for (std::size_t i = 0; i < NM; ++i) p[i] = at[NP + i];
  if constexpr (NP == PACKED_FIELDS) {
    // Eight fields: a run's eight categories in one 16-byte vector, compared with each category
    // 0..3 (a lane of -1 where it matches), subtracted from a vector of 16-bit counts per
    // category: lane i of acc[c] counts field i's category c, flushed every 65,535 runs.
    using Lanes = std::uint16_t __attribute__((vector_size(16)));
    static_assert(PACKED_FIELDS * sizeof(std::uint16_t) == sizeof(Lanes));
    while (n > 0) {
      const std::size_t m = std::min<std::size_t>(n, 0xffff);
      std::array<Lanes, PACKED_CATEGORIES> acc{};
      for (std::size_t k = 0; k < m; ++k, categories += NC) {
        Lanes v;
        std::memcpy(&v, categories, sizeof v);
        for (std::size_t c = 0; c < PACKED_CATEGORIES; ++c) {
          acc[c] += static_cast<Lanes>(v == static_cast<std::uint16_t>(c));  // -1 where equal
        }
        for (std::size_t i = 0; i < NM; ++i) ++p[i][categories[NP + i]];
      }
      for (std::size_t i = 0; i < NP; ++i) {
        for (std::size_t c = 0; c < sizes[i]; ++c) {
          at[i][c] += static_cast<std::uint16_t>(-acc[c][i]);  // the lane counts down from 0
        }
      }
      n -= m;
    }
    return;
  }
  while (n > 0) {
    const std::size_t m = std::min(n, PACKED_RUNS);
    std::array<std::uint64_t, NA> acc{};
    for (std::size_t k = 0; k < m; ++k, categories += NC) {
      for (std::size_t i = 0; i < NP; ++i) acc[i / 2] += lane[i][categories[i]];
      for (std::size_t i = 0; i < NM; ++i) ++p[i][categories[NP + i]];
    }
    for (std::size_t i = 0; i < NP; ++i) {
      const std::uint64_t a = acc[i / 2] >> (32 * (i % 2));
      for (std::size_t c = 0; c < sizes[i]; ++c) at[i][c] += (a >> (8 * c)) & 0xffu;
    }
    n -= m;
  }
}

/// The same for any number of fields, all in memory.
void count_runs_any(std::uint64_t* const* at, std::size_t nc, const std::uint16_t* categories,
                    std::size_t n) noexcept {
  for (std::size_t k = 0; k < n; ++k, categories += nc) {
    for (std::size_t i = 0; i < nc; ++i) ++at[i][categories[i]];
  }
}

using CountRuns = void (*)(std::uint64_t* const*, const std::size_t*, const std::uint16_t*,
                           std::size_t) noexcept;

/// count_runs<NP, NM> for NP = 0 .. PACKED_FIELDS and NM = 0 .. MEMORY_FIELDS, at
/// COUNT_RUNS[NP * (MEMORY_FIELDS + 1) + NM].
template <std::size_t... I>
constexpr auto count_table(std::index_sequence<I...>) {
  return std::array<CountRuns, sizeof...(I)>{
      &count_runs<I / (MEMORY_FIELDS + 1), I % (MEMORY_FIELDS + 1)>...};
}
constexpr auto COUNT_RUNS =
    count_table(std::make_index_sequence<(PACKED_FIELDS + 1) * (MEMORY_FIELDS + 1)>());

}  // namespace

void Summary::add_runs(const std::uint16_t* categories, const double* values,
                       std::size_t n) noexcept {
  const std::size_t nc = offsets_.size(), nv = continuous_.size();
  // Categorical fields run by run, so that the fields' increments (each often of the same count
  // as the run before) form independent chains; the leading fields of few categories (up to
  // PACKED_FIELDS of them) in registers. Continuous fields together (ContinuousStats::add_columns).
  // Counts are integers: any order of increments gives the same counts.
  constexpr std::size_t MANY = 64;
  if (nc <= MANY) {
    std::array<std::uint64_t*, MANY> at{};
    std::array<std::size_t, MANY> sizes{};
    std::size_t packed = 0;
    for (std::size_t i = 0; i < nc; ++i) {
      at[i] = counts_.data() + offsets_[i];
      sizes[i] = layout_->categorical[i].categories.size();
      if (packed == i && packed < PACKED_FIELDS && sizes[i] <= PACKED_CATEGORIES) ++packed;
    }
    if (nc - packed <= MEMORY_FIELDS) {
      COUNT_RUNS[packed * (MEMORY_FIELDS + 1) + (nc - packed)](at.data(), sizes.data(), categories,
                                                               n);
    } else {
      count_runs_any(at.data(), nc, categories, n);
    }
  } else {
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t i = 0; i < nc; ++i) ++counts_[offsets_[i] + categories[k * nc + i]];
    }
  }
  ContinuousStats::add_columns(continuous_.data(), nv, values, n);
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
