#pragma once
/// Lanes: W runs advanced side by side in GCC vector types (W = 1, 4, 8), with the arithmetic the
/// model needs built only from IEEE-754 basic operations (+, -, *, /, sqrt, comparisons) and
/// integer bit manipulation. Every lane computes exactly the same bits whatever the width, the
/// instruction set or the compiler's vectorisation (with -ffp-contract=off: no FMA contraction),
/// so results never depend on the machine (docs/design.md, "Determinism").
///
/// Everything here is a template on the lane type, so each width is instantiated in exactly one
/// translation unit (compiled for its instruction set); nothing is shared between them.
#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace wedge::agents::simd {

/// Instruction sets a lane type is compiled for. Each (width, ISA) pair is instantiated in one
/// translation unit only, so no function compiled for AVX-512 can stand in for a portable one.
enum Isa : int { PORTABLE = 0, AVX2 = 2, AVX512 = 3 };

/// W lanes: D = doubles, U = 64-bit unsigned integers, M = masks (-1 true, 0 false).
template <int W, int ISA = PORTABLE>
struct Lanes {
  static constexpr int width = W;
  static constexpr int isa = ISA;
  typedef double D __attribute__((vector_size(8 * W)));
  typedef std::uint64_t U __attribute__((vector_size(8 * W)));
  typedef std::int64_t M __attribute__((vector_size(8 * W)));
};

template <class L>
inline typename L::D splat(double x) {
  return typename L::D{} + x;
}
template <class L>
inline typename L::U splat_u(std::uint64_t x) {
  return typename L::U{} + x;
}
template <class L>
inline typename L::M splat_m(bool b) {
  return typename L::M{} + (b ? std::int64_t{-1} : std::int64_t{0});
}
/// m ? a : b, lane by lane.
template <class L>
inline typename L::D sel(typename L::M m, typename L::D a, typename L::D b) {
  return m ? a : b;
}
template <class L>
inline typename L::U sel_u(typename L::M m, typename L::U a, typename L::U b) {
  return m ? a : b;
}
template <class L>
inline typename L::D as_double(typename L::M m) {  // 1.0 where m, else 0.0
  return sel<L>(m, splat<L>(1.0), splat<L>(0.0));
}
template <class L>
inline bool any(typename L::M m) {
  for (int i = 0; i < L::width; ++i) {
    if (m[i] != 0) return true;
  }
  return false;
}
template <class L>
inline typename L::D min(typename L::D a, typename L::D b) {
  return sel<L>(b < a, b, a);
}
template <class L>
inline typename L::D max(typename L::D a, typename L::D b) {
  return sel<L>(b > a, b, a);
}
template <class L>
inline typename L::D clamp01(typename L::D x) {
  return min<L>(max<L>(x, splat<L>(0.0)), splat<L>(1.0));
}

inline constexpr double SHIFT = 0x1.8p52;  ///< adding it rounds to an integer held in the low bits
inline constexpr double TWO52 = 0x1p52;

/// Integers below 2^52 held in U, converted to doubles exactly.
template <class L>
inline typename L::D to_double(typename L::U x) {
  return std::bit_cast<typename L::D>(x | std::bit_cast<std::uint64_t>(TWO52)) - TWO52;
}
/// Non-negative integer-valued doubles below 2^52, converted to U exactly.
template <class L>
inline typename L::U to_uint(typename L::D x) {
  return std::bit_cast<typename L::U>(x + TWO52) & 0x000FFFFFFFFFFFFFull;
}

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

/// Square root, lane by lane (IEEE: correctly rounded on every instruction set). The vector
/// instructions are used where this translation unit is compiled for them.
template <class L>
inline typename L::D sqrt(typename L::D x) {
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::width == 8) {
    return reinterpret_cast<typename L::D>(_mm512_sqrt_pd(reinterpret_cast<__m512d>(x)));
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::width == 4) {
    return reinterpret_cast<typename L::D>(_mm256_sqrt_pd(reinterpret_cast<__m256d>(x)));
  }
#endif
  typename L::D out;
  for (int i = 0; i < L::width; ++i) out[i] = __builtin_sqrt(x[i]);
  return out;
}

/// Low 32 bits of a times low 32 bits of b, as 64-bit products (exact).
template <class L>
inline typename L::U mul32(typename L::U a, typename L::U b) {
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::width == 8) {
    return reinterpret_cast<typename L::U>(_mm512_mul_epu32(reinterpret_cast<__m512i>(a), reinterpret_cast<__m512i>(b)));
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::width == 4) {
    return reinterpret_cast<typename L::U>(_mm256_mul_epu32(reinterpret_cast<__m256i>(a), reinterpret_cast<__m256i>(b)));
  }
#endif
  return (a & 0xFFFFFFFFull) * (b & 0xFFFFFFFFull);
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

/// A uniform in (0, 1) from a 32-bit word: (w + 1/2) / 2^32.
template <class L>
inline typename L::D uniform(typename L::U word) {
  return (to_double<L>(word) + 0.5) * 0x1p-32;
}

/// A uniform in [0, 1) with 53 random bits from two 32-bit words.
template <class L>
inline typename L::D uniform53(typename L::U hi_word, typename L::U lo_word) {
  return (to_double<L>(hi_word >> 5) * 0x1p26 + to_double<L>(lo_word >> 6)) * 0x1p-53;
}

/// Two standard normals from two words (Box-Muller): sqrt(-2 ln u1) (cos, sin)(2 pi u2).
template <class L>
inline void box_muller(typename L::U w1, typename L::U w2, typename L::D& z0, typename L::D& z1) {
  using D = typename L::D;
  const D radius = sqrt<L>(-2.0 * log<L>(uniform<L>(w1)));
  D c, s;
  cos_sin_2pi<L>(to_double<L>(w2) * 0x1p-32, c, s);  // u2 = w2 / 2^32 in [0, 1)
  z0 = radius * c;
  z1 = radius * s;
}

/// Philox4x32-10 (Random123's algorithm) on W counters at once; one 32-bit word per U lane.
template <class L>
struct Philox {
  using U = typename L::U;
  U c0, c1, c2, c3;  ///< counter words (block, substream, replicate, point)

  /// Returns the four output words for key (k0, k1).
  void generate(std::uint32_t k0, std::uint32_t k1, U& o0, U& o1, U& o2, U& o3) const {
    constexpr std::uint64_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, LOW = 0xFFFFFFFFu;
    U x0 = c0, x1 = c1, x2 = c2, x3 = c3;
    std::uint64_t key0 = k0, key1 = k1;
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        key0 = (key0 + 0x9E3779B9u) & LOW;
        key1 = (key1 + 0xBB67AE85u) & LOW;
      }
      const U p0 = mul32<L>(x0, splat_u<L>(M0));  // 32 x 32 -> 64 bits
      const U p1 = mul32<L>(x2, splat_u<L>(M1));
      const U y0 = ((p1 >> 32) ^ x1 ^ key0) & LOW;
      const U y1 = p1 & LOW;
      const U y2 = ((p0 >> 32) ^ x3 ^ key1) & LOW;
      const U y3 = p0 & LOW;
      x0 = y0;
      x1 = y1;
      x2 = y2;
      x3 = y3;
    }
    o0 = x0;
    o1 = x1;
    o2 = x2;
    o3 = x3;
  }
};

}  // namespace wedge::agents::simd
