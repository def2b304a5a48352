#pragma once
/// Elementary functions on lanes (lanes.hpp), built only from IEEE-754 basic operations so that
/// every width and CPU gives the same bits, and no libm call (whose results may change between
/// glibc versions) sits in a model's hot path. Each is tested against libm
/// (tests/engine/test_simd.cpp).
#include "engine/simd/lanes.hpp"

#include <bit>
#include <cstddef>

namespace wedge::engine::simd {

/// e^x for |x| <= 708 (clamped beyond): x = k ln2 + r, |r| <= ln2/2, Taylor series to r^13
/// (truncation < 5e-18 relative), 2^k from the exponent bits. Within a few ulp of libm's exp.
template <class L>
inline typename L::D exp(typename L::D x) {
  using D = typename L::D;
  x = max<L>(min<L>(x, splat<L>(708.0)), splat<L>(-708.0));
  const D t = x * 1.4426950408889634 + SHIFT;  // log2(e)
  const D k = t - SHIFT;
  const D r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;  // ln2 hi, lo
  D p = splat<L>(1.0 / 6227020800.0);  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const auto k_bits = std::bit_cast<typename L::U>(t) - std::bit_cast<std::uint64_t>(SHIFT);
  const D scale = std::bit_cast<D>((k_bits + 1023u) << 52);
  return p * scale;
}

/// Natural log for normal positive x: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s)
/// with s = (m - 1)/(m + 1), |s| <= 0.1716, series to s^23 (truncation < 1e-19).
template <class L>
inline typename L::D log(typename L::D x) {
  using D = typename L::D;
  using U = typename L::U;
  const U bits = std::bit_cast<U>(x);
  const U exponent = (bits >> 52) & 0x7FFu;  // biased
  D m = std::bit_cast<D>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
  D e = to_double<L>(exponent) - 1023.0;
  const auto big = m > 1.4142135623730951;
  m = sel<L>(big, m * 0.5, m);
  e = sel<L>(big, e + 1.0, e);
  const D s = (m - 1.0) / (m + 1.0);
  const D s2 = s * s;
  D p = splat<L>(1.0 / 23.0);
  p = p * s2 + 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  const D log_m = 2.0 * s * p;
  return e * 6.93147180369123816490e-01 + (log_m + e * 1.90821492927058770002e-10);
}

/// cos(2 pi u) and sin(2 pi u) for u in [0, 1): quadrant from 4u, Taylor series on |x| <= pi/4.
template <class L>
inline void cos_sin_2pi(typename L::D u, typename L::D& c, typename L::D& s) {
  using D = typename L::D;
  const D t = u * 4.0;
  const D n_shifted = t + SHIFT;
  const D f = t - (n_shifted - SHIFT);  // in [-1/2, 1/2]
  const auto quadrant = std::bit_cast<typename L::U>(n_shifted) & 3u;
  const D x = f * 1.5707963267948966;  // pi/2
  const D x2 = x * x;
  D sp = splat<L>(1.0 / 355687428096000.0);  // 1/17!
  sp = sp * x2 - 1.0 / 1307674368000.0;
  sp = sp * x2 + 1.0 / 6227020800.0;
  sp = sp * x2 - 1.0 / 39916800.0;
  sp = sp * x2 + 1.0 / 362880.0;
  sp = sp * x2 - 1.0 / 5040.0;
  sp = sp * x2 + 1.0 / 120.0;
  sp = sp * x2 - 1.0 / 6.0;
  sp = sp * x2 + 1.0;
  const D sin_x = sp * x;
  D cp = splat<L>(-1.0 / 6402373705728000.0);  // -1/18!
  cp = cp * x2 + 1.0 / 20922789888000.0;
  cp = cp * x2 - 1.0 / 87178291200.0;
  cp = cp * x2 + 1.0 / 479001600.0;
  cp = cp * x2 - 1.0 / 3628800.0;
  cp = cp * x2 + 1.0 / 40320.0;
  cp = cp * x2 - 1.0 / 720.0;
  cp = cp * x2 + 1.0 / 24.0;
  cp = cp * x2 - 0.5;
  const D cos_x = cp * x2 + 1.0;
  const auto q0 = quadrant == 0u, q1 = quadrant == 1u, q2 = quadrant == 2u;
  c = sel<L>(q0, cos_x, sel<L>(q1, -sin_x, sel<L>(q2, -cos_x, sin_x)));
  s = sel<L>(q0, sin_x, sel<L>(q1, cos_x, sel<L>(q2, -sin_x, -cos_x)));
}

/// Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, with the Chebyshev fit of Numerical
/// Recipes' erfcc (fractional error of erfc below 1.2e-7 everywhere).
template <class L>
inline typename L::D normal_cdf(typename L::D x) {
  using D = typename L::D;
  const D z = x * -0.70710678118654752440;
  const D az = sel<L>(z < 0.0, -z, z);
  const D t = 1.0 / (1.0 + 0.5 * az);
  D p = splat<L>(0.17087277);
  p = p * t - 0.82215223;
  p = p * t + 1.48851587;
  p = p * t - 1.13520398;
  p = p * t + 0.27886807;
  p = p * t - 0.18628806;
  p = p * t + 0.09678418;
  p = p * t + 0.37409196;
  p = p * t + 1.00002368;
  p = p * t - 1.26551223;
  const D ans = t * exp<L>(p - az * az);
  const D erfc = sel<L>(z >= 0.0, ans, 2.0 - ans);
  return 0.5 * erfc;
}

/// The logistic function 1 / (1 + e^-x).
template <class L>
inline typename L::D logistic(typename L::D x) {
  return 1.0 / (1.0 + exp<L>(-x));
}

/// Sum over i of weights[i] * logistic(x[i]) for N terms, with one division: the terms share the
/// denominator prod(1 + e^-x). Arguments are clamped to [-60, 60], where the logistic is within
/// 1e-26 of 0 or 1, so the products stay far from overflow.
template <class L, std::size_t N>
inline typename L::D weighted_logistic_sum(const typename L::D (&x)[N], const double (&weights)[N]) {
  using D = typename L::D;
  D a[N];
  for (std::size_t i = 0; i < N; ++i) a[i] = 1.0 + exp<L>(-max<L>(min<L>(x[i], splat<L>(60.0)), splat<L>(-60.0)));
  D prefix[N];  // prefix[i] = a[0] ... a[i-1]
  prefix[0] = splat<L>(1.0);
  for (std::size_t i = 1; i < N; ++i) prefix[i] = prefix[i - 1] * a[i - 1];
  D suffix = splat<L>(1.0);  // a[i+1] ... a[N-1]
  D num = splat<L>(0.0);
  for (std::size_t i = N; i-- > 0;) {
    num += weights[i] * (prefix[i] * suffix);
    suffix = suffix * a[i];
  }
  return num / suffix;
}

/// The same sum for a runtime number of terms n (0 < n <= 16): terms in groups of five, each group
/// with one division as above, the groups' sums added in order. For n <= 5 exactly the bits of
/// the fixed-size version.
template <class L>
inline typename L::D weighted_logistic_sum(const typename L::D* x, const double* weights, std::size_t n) {
  using D = typename L::D;
  constexpr std::size_t GROUP = 5;
  D total = splat<L>(0.0);
  for (std::size_t first = 0; first < n; first += GROUP) {
    const std::size_t m = n - first < GROUP ? n - first : GROUP;
    D a[GROUP];
    for (std::size_t i = 0; i < m; ++i) {
      a[i] = 1.0 + exp<L>(-max<L>(min<L>(x[first + i], splat<L>(60.0)), splat<L>(-60.0)));
    }
    D prefix[GROUP];
    prefix[0] = splat<L>(1.0);
    for (std::size_t i = 1; i < m; ++i) prefix[i] = prefix[i - 1] * a[i - 1];
    D suffix = splat<L>(1.0);
    D num = splat<L>(0.0);
    for (std::size_t i = m; i-- > 0;) {
      num += weights[first + i] * (prefix[i] * suffix);
      suffix = suffix * a[i];
    }
    total = first == 0 ? num / suffix : total + num / suffix;
  }
  return total;
}

}  // namespace wedge::engine::simd
