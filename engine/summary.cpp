#include "engine/summary.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

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

void Summary::merge(const Summary& other) {
  if (counts_.size() != other.counts_.size() || continuous_.size() != other.continuous_.size()) {
    throw std::invalid_argument("Summary::merge: layouts differ");
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  for (std::size_t j = 0; j < continuous_.size(); ++j) continuous_[j].merge(other.continuous_[j]);
  runs_ += other.runs_;
}

void Summary::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  for (std::size_t j = 0; j < continuous_.size(); ++j) {
    const auto& f = layout_->continuous[j];
    continuous_[j] = ContinuousStats(f.hist_min, f.hist_max, f.hist_bins);
  }
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
  if (a.runs_ != b.runs_ || a.counts_ != b.counts_ || a.continuous_.size() != b.continuous_.size()) {
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

}  // namespace wedge::engine
