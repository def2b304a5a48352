#include "engine/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace wedge::engine {

Interval wilson(std::uint64_t k, std::uint64_t n, double z) noexcept {
  if (n == 0) return {0.0, 1.0};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = z * z;
  const double denom = 1.0 + z2 / nn;
  const double centre = (p + z2 / (2.0 * nn)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
  // The bounds are exactly 0 at k = 0 and 1 at k = n (rounding would leave 1 - epsilon).
  return {k == 0 ? 0.0 : std::max(0.0, centre - half), k == n ? 1.0 : std::min(1.0, centre + half)};
}

ContinuousStats::ContinuousStats(double hist_min, double hist_max, std::uint32_t bins,
                                 const allocator_type& allocator)
    : hist_min_(hist_min),
      hist_max_(hist_max),
      bin_scale_(bins > 0 ? static_cast<double>(bins) / (hist_max - hist_min) : 0.0),
      hist_(bins + 2, 0, allocator) {}

ContinuousStats::ContinuousStats(const ContinuousStats& other, const allocator_type& allocator)
    : n_(other.n_),
      shift_(other.shift_),
      sum_(other.sum_),
      sum2_(other.sum2_),
      min_(other.min_),
      max_(other.max_),
      hist_min_(other.hist_min_),
      hist_max_(other.hist_max_),
      bin_scale_(other.bin_scale_),
      hist_(other.hist_, allocator) {}

ContinuousStats::ContinuousStats(ContinuousStats&& other, const allocator_type& allocator)
    : n_(other.n_),
      shift_(other.shift_),
      sum_(other.sum_),
      sum2_(other.sum2_),
      min_(other.min_),
      max_(other.max_),
      hist_min_(other.hist_min_),
      hist_max_(other.hist_max_),
      bin_scale_(other.bin_scale_),
      hist_(std::move(other.hist_), allocator) {}

namespace {

/// The running moments add_values updates, kept in locals (registers: the histogram's stores
/// could otherwise alias the members).
struct Running {
  double shift, sum, sum2, lo, hi;
};

/// One value added exactly as one add() would. Binned (hist_bins > 0): the bin from a double
/// clamped to the last bin (one MINSD, which also sends NaN to the last bin); unbinned: the
/// size_t index clamped, as before.
template <bool Binned>
inline void accumulate_one(double v, Running& r, std::uint64_t* hist, std::size_t bins,
                           double hist_min, double hist_max, double bin_scale) noexcept {
  // The last bin's index as a double: min(floor(d), bins - 1) = floor(min(d, bins - 1)).
  const double top = Binned ? static_cast<double>(bins - 1) : 0.0;
  r.lo = std::min(r.lo, v);
  r.hi = std::max(r.hi, v);
  const double d = v - r.shift;
  r.sum += d;
  r.sum2 += d * d;
  if (v < hist_min) {
    ++hist[0];
  } else if (v > hist_max) {
    ++hist[bins + 1];
  } else if constexpr (Binned) {
    // The top edge belongs to the last bin.
    double b = (v - hist_min) * bin_scale;
    b = b < top ? b : top;
    ++hist[1 + static_cast<std::size_t>(static_cast<std::int64_t>(b))];
  } else {
    const auto bin = static_cast<std::size_t>((v - hist_min) * bin_scale);
    ++hist[1 + std::min(bin, bins - 1)];
  }
}

/// The one loop of add_values and add_values_unbinned: each value is added exactly as one add()
/// would.
template <bool Binned>
void accumulate(const double* x, std::size_t stride, std::size_t n, Running& r, std::uint64_t* hist,
                std::size_t bins, double hist_min, double hist_max, double bin_scale) noexcept {
  for (std::size_t k = 0; k < n; ++k) {
    accumulate_one<Binned>(x[k * stride], r, hist, bins, hist_min, hist_max, bin_scale);
  }
}

/// Counts v in a binned histogram of `bins` bins (hist: under, bins, over), `bin` its bin index as
/// a double already clamped to the last bin, as accumulate<true> counts it.
inline void count_in(std::uint64_t* hist, std::size_t bins, double v, double hist_min,
                     double hist_max, double bin) noexcept {
  if (v < hist_min) {
    ++hist[0];
  } else if (v > hist_max) {
    ++hist[bins + 1];
  } else {
    ++hist[1 + static_cast<std::size_t>(static_cast<std::int64_t>(bin))];
  }
}

}  // namespace

void ContinuousStats::add_columns(ContinuousStats* stats, std::size_t count, const double* x,
                                  std::size_t n) noexcept {
  if (n == 0) return;
  std::size_t j = 0;
  while (j < count) {
    ContinuousStats& a = stats[j];
    if (j + 1 == count || a.hist_.size() == 2 || stats[j + 1].hist_.size() == 2) {
      a.add_values(x + j, count, n);
      ++j;
      continue;
    }
    // Two binned accumulators in one loop, their moments as the two lanes of a vector (each
    // lane's operations those of add_values, in the same order: the same bits), each one's
    // values in order.
    using Pair = double __attribute__((vector_size(2 * sizeof(double))));
    ContinuousStats& b = stats[j + 1];
    if (a.n_ == 0) a.min_ = a.max_ = a.shift_ = x[j];
    if (b.n_ == 0) b.min_ = b.max_ = b.shift_ = x[j + 1];
    const Pair shift{a.shift_, b.shift_};
    Pair sum{a.sum_, b.sum_}, sum2{a.sum2_, b.sum2_}, lo{a.min_, b.min_}, hi{a.max_, b.max_};
    const Pair hist_min{a.hist_min_, b.hist_min_}, hist_max{a.hist_max_, b.hist_max_};
    const Pair scale{a.bin_scale_, b.bin_scale_};
    std::uint64_t* const ha = a.hist_.data();
    std::uint64_t* const hb = b.hist_.data();
    const std::size_t na = a.hist_.size() - 2, nb = b.hist_.size() - 2;
    // The last bin's index as a double: min(floor(d), bins - 1) = floor(min(d, bins - 1)).
    const Pair top{static_cast<double>(na - 1), static_cast<double>(nb - 1)};
    const double* at = x + j;
    for (std::size_t k = 0; k < n; ++k, at += count) {
      Pair v;
      std::memcpy(&v, at, sizeof v);
      lo = v < lo ? v : lo;  // std::min(lo, v)
      hi = hi < v ? v : hi;  // std::max(hi, v)
      const Pair d = v - shift;
      sum += d;
      sum2 += d * d;
      Pair bin = (v - hist_min) * scale;
      bin = bin < top ? bin : top;  // the top edge (and NaN) in the last bin
      count_in(ha, na, v[0], hist_min[0], hist_max[0], bin[0]);
      count_in(hb, nb, v[1], hist_min[1], hist_max[1], bin[1]);
    }
    a.n_ += n;
    b.n_ += n;
    a.sum_ = sum[0];
    b.sum_ = sum[1];
    a.sum2_ = sum2[0];
    b.sum2_ = sum2[1];
    a.min_ = lo[0];
    b.min_ = lo[1];
    a.max_ = hi[0];
    b.max_ = hi[1];
    j += 2;
  }
}

void ContinuousStats::add_values(const double* x, std::size_t stride, std::size_t n) noexcept {
  if (n == 0) return;
  if (n_ == 0) min_ = max_ = shift_ = x[0];
  if (hist_.size() == 2) {
    add_values_unbinned(x, stride, n);
    return;
  }
  Running r{shift_, sum_, sum2_, min_, max_};
  accumulate<true>(x, stride, n, r, hist_.data(), hist_.size() - 2, hist_min_, hist_max_,
                   bin_scale_);
  n_ += n;
  sum_ = r.sum;
  sum2_ = r.sum2;
  min_ = r.lo;
  max_ = r.hi;
}

void ContinuousStats::add_values_unbinned(const double* x, std::size_t stride,
                                          std::size_t n) noexcept {
  Running r{shift_, sum_, sum2_, min_, max_};
  accumulate<false>(x, stride, n, r, hist_.data(), hist_.size() - 2, hist_min_, hist_max_,
                    bin_scale_);
  n_ += n;
  sum_ = r.sum;
  sum2_ = r.sum2;
  min_ = r.lo;
  max_ = r.hi;
}

void ContinuousStats::merge(const ContinuousStats& other) {
  if (hist_.size() != other.hist_.size()) {
    throw std::invalid_argument("ContinuousStats::merge: histograms differ");
  }
  if (other.n_ == 0) return;
  add_histogram(other.hist_.data());
  merge_moments(other.raw());
}

void ContinuousStats::merge_moments(const Raw& other) noexcept {
  if (other.n == 0) return;
  if (n_ == 0) {
    set_raw(other);
    return;
  }
  // Chan et al.'s pairwise update; the result is stored as (shift = mean, sum = 0, sum2 = m2).
  const double na = static_cast<double>(n_);
  const double nb = static_cast<double>(other.n);
  const double n = na + nb;
  const double mean_a = mean();
  const double mean_b = mean_of(other.n, other.shift, other.sum);
  const double delta = mean_b - mean_a;
  const double merged_m2 =
      m2() + m2_of(other.n, other.sum, other.sum2) + delta * delta * na * nb / n;
  shift_ = mean_a + delta * nb / n;
  sum_ = 0.0;
  sum2_ = merged_m2;
  n_ += other.n;
  min_ = std::min(min_, other.min);
  max_ = std::max(max_, other.max);
}

double ContinuousStats::variance() const noexcept {
  return n_ < 2 ? 0.0 : m2() / static_cast<double>(n_ - 1);
}

double ContinuousStats::sd() const noexcept { return std::sqrt(variance()); }

}  // namespace wedge::engine
