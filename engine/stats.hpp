#pragma once
/// Streaming, mergeable statistics: constant memory in the number of runs.
#include <algorithm>
#include <cstdint>
#include <memory_resource>
#include <vector>

namespace wedge::engine {

/// A 95% (or other) Wilson score interval for a binomial proportion.
struct Interval {
  double low = 0.0;
  double high = 0.0;
};

/// Two-sided standard-normal quantile for 95% intervals.
inline constexpr double Z95 = 1.959963984540054;

/// Wilson score interval for k successes in n trials at quantile z; [0, 1] when n = 0.
Interval wilson(std::uint64_t k, std::uint64_t n, double z = Z95) noexcept;

/// n, mean, variance, min, max and a fixed-bin histogram of a real value. Values are accumulated
/// as sums of (x - shift) and (x - shift)^2 around the first value (no division per value); merges
/// use Chan et al.'s formula. Exact in counts, deterministic in floating point for a fixed order.
class ContinuousStats {
 public:
  /// The histogram's allocator: a copy of an accumulator takes the default resource; a summary in
  /// an arena (Summary's arena constructor) gives its own, through uses-allocator construction.
  using allocator_type = std::pmr::polymorphic_allocator<std::uint64_t>;
  ContinuousStats() = default;
  ContinuousStats(double hist_min, double hist_max, std::uint32_t bins,
                  const allocator_type& allocator = {});
  ContinuousStats(const ContinuousStats& other, const allocator_type& allocator);
  ContinuousStats(ContinuousStats&& other, const allocator_type& allocator);
  ContinuousStats(const ContinuousStats&) = default;
  ContinuousStats(ContinuousStats&&) noexcept = default;
  ContinuousStats& operator=(const ContinuousStats&) = default;
  ContinuousStats& operator=(ContinuousStats&&) = default;

  void add(double x) noexcept { add_values(&x, 1, 1); }
  /// Adds x[0], x[stride], ..., x[(n - 1) stride] in that order: the same bits as n calls of
  /// add(), with the accumulators held in registers across the values (Summary::add_runs).
  void add_values(const double* x, std::size_t stride, std::size_t n) noexcept;
  /// Adds n values to each of `count` accumulators: run k's value of accumulator j at
  /// x[k * count + j] (Summary::add_runs's layout), each accumulator's values in the order of k.
  /// The same bits as stats[j].add_values(x + j, count, n) for every j; accumulators with bins
  /// are updated two at a time in one loop, so that their add chains overlap.
  static void add_columns(ContinuousStats* stats, std::size_t count, const double* x,
                          std::size_t n) noexcept;
  /// Appends `other` (which must have the same histogram) as if its values came after ours.
  void merge(const ContinuousStats& other);
  /// Back to no values, keeping the histogram's range and bins (and its memory): the same state,
  /// bit for bit, as a newly constructed accumulator of that histogram.
  void clear() noexcept {
    n_ = 0;
    shift_ = sum_ = sum2_ = min_ = max_ = 0.0;
    std::fill(hist_.begin(), hist_.end(), std::uint64_t{0});
  }

  std::uint64_t n() const noexcept { return n_; }
  double mean() const noexcept { return mean_of(n_, shift_, sum_); }
  /// Sum of squared deviations from the mean.
  double m2() const noexcept { return m2_of(n_, sum_, sum2_); }
  /// Sample variance (n - 1 denominator); 0 when n < 2.
  double variance() const noexcept;
  double sd() const noexcept;
  double min() const noexcept { return min_; }
  double max() const noexcept { return max_; }
  double hist_min() const noexcept { return hist_min_; }
  double hist_max() const noexcept { return hist_max_; }
  /// Bin counts: [0] underflow, [1..bins] the bins, [bins + 1] overflow.
  const std::pmr::vector<std::uint64_t>& histogram() const noexcept { return hist_; }

  /// The exact accumulator state (the histogram aside): what engine::SummaryState carries.
  struct Raw {
    std::uint64_t n = 0;
    double shift = 0.0, sum = 0.0, sum2 = 0.0, min = 0.0, max = 0.0;
    /// The same state as (shift = mean, sum = 0, sum2 = m2): it has the same mean and m2 bit for
    /// bit, so every later merge gives the same bits (how checkpoints store a point's state).
    Raw normalised() const noexcept {
      return {n, mean_of(n, shift, sum), 0.0, m2_of(n, sum, sum2), min, max};
    }
    friend bool operator==(const Raw&, const Raw&) = default;
  };
  Raw raw() const noexcept { return {n_, shift_, sum_, sum2_, min_, max_}; }
  /// Replaces the accumulator state (the histogram is left as it is).
  void set_raw(const Raw& r) noexcept {
    n_ = r.n;
    shift_ = r.shift;
    sum_ = r.sum;
    sum2_ = r.sum2;
    min_ = r.min;
    max_ = r.max;
  }
  /// Merges another accumulator's moments (not its histogram) as if its values came after ours:
  /// the moment half of merge().
  void merge_moments(const Raw& other) noexcept;
  /// Adds histogram counts bin by bin (`counts` has histogram().size() entries): the integer half
  /// of merge().
  void add_histogram(const std::uint64_t* counts) noexcept {
    for (std::size_t i = 0; i < hist_.size(); ++i) hist_[i] += counts[i];
  }

 private:
  /// add_values for an accumulator without bins (hist_bins = 0: only under- and overflow).
  void add_values_unbinned(const double* x, std::size_t stride, std::size_t n) noexcept;

  static double mean_of(std::uint64_t n, double shift, double sum) noexcept {
    return n == 0 ? 0.0 : shift + sum / static_cast<double>(n);
  }
  static double m2_of(std::uint64_t n, double sum, double sum2) noexcept {
    return n == 0 ? 0.0 : std::max(0.0, sum2 - sum * sum / static_cast<double>(n));
  }

  std::uint64_t n_ = 0;
  double shift_ = 0.0;  ///< the first value (or the mean after a merge)
  double sum_ = 0.0;    ///< sum of (x - shift)
  double sum2_ = 0.0;   ///< sum of (x - shift)^2
  double min_ = 0.0;
  double max_ = 0.0;
  double hist_min_ = 0.0;
  double hist_max_ = 1.0;
  double bin_scale_ = 0.0;
  std::pmr::vector<std::uint64_t> hist_;
};

}  // namespace wedge::engine
