#pragma once
/// Elementary functions on lanes (lanes.hpp), built only from IEEE-754 basic operations so that
/// every width and CPU gives the same bits, and no libm call (whose results may change between
/// glibc versions) sits in a model's hot path. They are as accurate as a Monte Carlo model's
/// probabilities and variates need, not libm replacements: each states its error bound and is
/// tested against libm (tests/engine/test_simd.cpp).
#include "engine/simd/lanes.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>

namespace wedge::engine::simd {

/// 2^t for t in [-1021, 1023] (the caller clamps; outside, the result is wrong), relative error
/// below 1.9e-9: t = k + f with k = round(t) and |f| <= 1/2, 2^f from a degree-6 polynomial (fit
/// for relative error on [-1/2, 1/2]), and k added to the exponent bits as an integer.
template <class L>
inline typename L::D pow2(typename L::D t) {
  using D = typename L::D;
  using U = typename L::U;
  const D shifted = t + SHIFT;  // k in the low bits of the mantissa
  const D f = t - (shifted - SHIFT);
  D p = splat<L>(0x1.41ee56c4764c0p-13);
  p = p * f + 0x1.5f45b17f7c7c0p-10;
  p = p * f + 0x1.3b2d936894ec8p-7;
  p = p * f + 0x1.c6aed40722d16p-5;
  p = p * f + 0x1.ebfbdb1846acep-3;
  p = p * f + 0x1.62e430c89b6e8p-1;
  p = p * f + 0x1.0000000247a21p+0;
  // SHIFT's own bits vanish in the shift: bits(shifted) << 52 is k << 52 modulo 2^64.
  return std::bit_cast<D>(std::bit_cast<U>(p) + (std::bit_cast<U>(shifted) << 52));
}

/// e^x for x <= 709 (below -707, e^-707 ~ 1e-307 instead of less), with pow2's relative error
/// plus |x| * 1.1e-16 from rounding x * log2(e).
template <class L>
inline typename L::D exp(typename L::D x) {
  return pow2<L>(max<L>(x * 1.4426950408889634, splat<L>(-1020.0)));
}

/// Natural log for normal positive x: x = 2^e m, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s)
/// with s = (m - 1)/(m + 1), |s| <= 0.1716, and atanh(s)/s = 1 + s^2 q(s^2) with q a
/// near-minimax polynomial of degree 3 on [0, 0.0295] (relative error of log m below 4.8e-12 in
/// exact arithmetic; tests/engine/test_simd.cpp checks 5e-12 against libm from 2^-33 to 1).
/// SCALE * log(x * 2^EXP2) with the same bits as SCALE * log(y) for y = x * 2^EXP2 computed apart
/// (SCALE a power of two, y normal): the power 2^EXP2 is added to y's exponent and SCALE is folded
/// into the constants, both exactly, which saves the two multiplications (Box-Muller: -2 log u
/// from the word's w + 1/2, u = (w + 1/2) 2^-32).
template <class L, int SCALE = 1, int EXP2 = 0>
inline typename L::D log(typename L::D x) {
  using D = typename L::D;
  using U = typename L::U;
  static_assert(SCALE != 0 && (SCALE > 0 ? SCALE & (SCALE - 1) : -SCALE & (-SCALE - 1)) == 0,
                "SCALE is a power of two (or its negative): scaling by it is exact");
  constexpr double K = SCALE;
  const U bits = std::bit_cast<U>(x);
  const U exponent = bits >> 52;  // biased (x > 0: the sign bit is 0)
  D m = std::bit_cast<D>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
  // to_double(exponent) - 1023 + EXP2 in one subtraction: (2^52 + exponent) - (2^52 + 1023 -
  // EXP2), exact.
  D e =
      std::bit_cast<D>(exponent | std::bit_cast<std::uint64_t>(TWO52)) - (TWO52 + (1023.0 - EXP2));
  const auto big = m > 1.4142135623730951;
  if constexpr (L::width == 1) {
    // As a bitwise blend: GCC makes the select of one-element vectors a branch, mispredicted
    // often here (m > sqrt 2 for a random mantissa).
    const U keep = std::bit_cast<U>(big);
    m = std::bit_cast<D>((std::bit_cast<U>(m * 0.5) & keep) | (std::bit_cast<U>(m) & ~keep));
    e = std::bit_cast<D>((std::bit_cast<U>(e + 1.0) & keep) | (std::bit_cast<U>(e) & ~keep));
  } else {
    m = sel<L>(big, m * 0.5, m);
    e = sel<L>(big, e + 1.0, e);
  }
  const D s = (m - 1.0) / (m + 1.0);
  const D s2 = s * s;
  D p = splat<L>(0x1.e2f6651e6b942p-4);  // ~1/9 (the series' own: 1/9, 1/7, 1/5, 1/3)
  p = p * s2 + 0x1.2438d7890d912p-3;
  p = p * s2 + 0x1.999a7a8b2a58dp-3;
  p = p * s2 + 0x1.555554fd9c864p-2;
  p = p * s2 + 1.0;
  const D log_m = (2.0 * K) * s * p;
  return e * (K * 6.93147180369123816490e-01) + (log_m + e * (K * 1.90821492927058770002e-10));
}

namespace detail {
/// cos_sin_2pi_word at one lane: the same IEEE operations in the same order on scalars, with the
/// quadrant's swap as a bitwise blend of the float bits. (GCC moves a one-element vector between
/// its float and integer views through the stack, and makes a one-element vector select a branch,
/// mispredicted about once in two at random quadrants.) Every result is bit-identical to a lane of
/// the vector form (tests/engine/test_simd.cpp compares them).
inline void cos_sin_2pi_word_scalar(std::uint32_t w, float& c, float& s) {
  const std::uint32_t v = w + 0x20000000u;
  const std::uint32_t quadrant = v >> 30;
  const auto fraction = static_cast<std::int32_t>((v >> 6) & 0xFFFFFFu) - 0x800000;  // 2^24 f
  const float x = static_cast<float>(fraction) * 0x1.921fb6p-24f;  // (pi/2) / 2^24
  const float x2 = x * x;
  float sp = -0x1.994ec6p-13f;
  sp = sp * x2 + 0x1.110760p-7f;
  sp = sp * x2 - 0x1.555546p-3f;
  const float sin_x = x + (x * x2) * sp;
  float cp = -0x1.647588p-10f;
  cp = cp * x2 + 0x1.553f96p-5f;
  cp = cp * x2 - 0x1.ffffbap-2f;
  const float cos_x = 1.0f + x2 * cp;
  const auto cos_bits = std::bit_cast<std::uint32_t>(cos_x);
  const auto sin_bits = std::bit_cast<std::uint32_t>(sin_x);
  const std::uint32_t swap = (cos_bits ^ sin_bits) & (0u - (quadrant & 1u));  // odd n: swapped
  c = std::bit_cast<float>((cos_bits ^ swap) ^ (((quadrant + 1u) & 2u) << 30));
  s = std::bit_cast<float>((sin_bits ^ swap) ^ ((quadrant & 2u) << 30));
}
}  // namespace detail

/// cos(2 pi u) and sin(2 pi u) in single precision for u = floor(w / 2^6) / 2^26, w the 32-bit
/// word in each lane (the low half of a U lane): 16 lanes per AVX-512 register. The quadrant n is
/// the word's top two bits rounded to nearest (v = w + 2^29 modulo 2^32, n = v >> 30), the rest
/// f = (floor(v / 2^6) mod 2^24 - 2^23) / 2^24 in [-1/2, 1/2) is exact in float, x = f pi/2, and
/// sin x, cos x are near-minimax polynomials on |x| <= pi/4 in x^2 (degree 7 and 6; exact
/// arithmetic 2.8e-9 and 3.2e-8) with float coefficients, widened to doubles exactly. Absolute
/// error below 2e-7 against the exact cos and sin of 2 pi u, float rounding included (measured
/// 1.3e-7 over all 2^26 angles; tests/engine/test_simd.cpp checks every 17th angle and every
/// word near a quadrant's edge), against 1e-11 for the double-precision version it replaced: for a
/// Box-Muller normal's direction, not its radius (the tails).
template <class L>
inline void cos_sin_2pi_word(typename L::U w, typename L::D& c, typename L::D& s) {
  using F = typename L::F;
  using FU = typename L::FU;
  using FM = typename L::FM;
  if constexpr (L::width == 1) {
    float c1, s1;
    detail::cos_sin_2pi_word_scalar(static_cast<std::uint32_t>(w[0]), c1, s1);
    c = typename L::D{static_cast<double>(c1)};
    s = typename L::D{static_cast<double>(s1)};
    return;
  }
  const FU v = narrow_u<L>(w) + 0x20000000u;
  const FU quadrant = v >> 30;
  const FM fraction = std::bit_cast<FM>((v >> 6) & 0xFFFFFFu) - 0x800000;  // 2^24 f
  const F x = __builtin_convertvector(fraction, F) * 0x1.921fb6p-24f;      // (pi/2) / 2^24
  const F x2 = x * x;
  F sp = splat_f<L>(-0x1.994ec6p-13f);
  sp = sp * x2 + 0x1.110760p-7f;
  sp = sp * x2 - 0x1.555546p-3f;
  const F sin_x = x + (x * x2) * sp;
  F cp = splat_f<L>(-0x1.647588p-10f);
  cp = cp * x2 + 0x1.553f96p-5f;
  cp = cp * x2 - 0x1.ffffbap-2f;
  const F cos_x = 1.0f + x2 * cp;
  // (cos, sin)(x + n pi/2): n = 0 (cos x, sin x), 1 (-sin x, cos x), 2 (-cos x, -sin x),
  // 3 (sin x, -cos x): swapped for odd n, cos negated for n = 1, 2 and sin for n = 2, 3.
  const FM swap = (quadrant & 1u) != 0u;
  const F c_x = swap ? sin_x : cos_x;
  const F s_x = swap ? cos_x : sin_x;
  c = widen<L>(std::bit_cast<F>(std::bit_cast<FU>(c_x) ^ (((quadrant + 1u) & 2u) << 30)));
  s = widen<L>(std::bit_cast<F>(std::bit_cast<FU>(s_x) ^ ((quadrant & 2u) << 30)));
}

/// Standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, with the Chebyshev fit of Numerical
/// Recipes' erfcc (fractional error of erfc below 1.2e-7 everywhere; exp's error adds 2e-9).
template <class L>
inline typename L::D normal_cdf(typename L::D x) {
  using D = typename L::D;
  using U = typename L::U;
  const D z = x * -0.70710678118654752440;
  // |z| by clearing the sign bit (one AND; the select it replaced took a compare, a negation and a
  // blend). The same bits but at z = -0, where both make 1 + 0.5 |z| = 1 and |z|^2 = +0.
  const D az = std::bit_cast<D>(std::bit_cast<U>(z) & 0x7FFFFFFFFFFFFFFFull);
  const D t = 1.0 / (1.0 + 0.5 * az);
  // The degree-9 polynomial by Estrin's scheme (pairs, then powers t^2, t^4, t^8): 5 dependent
  // steps instead of Horner's 18, since Phi sits on the chain of decisions a round waits on.
  const D t2 = t * t;
  const D t4 = t2 * t2;
  const D t8 = t4 * t4;
  const D q0 = -1.26551223 + 1.00002368 * t;
  const D q1 = 0.37409196 + 0.09678418 * t;
  const D q2 = -0.18628806 + 0.27886807 * t;
  const D q3 = -1.13520398 + 1.48851587 * t;
  const D q4 = -0.82215223 + 0.17087277 * t;
  const D p = ((q0 + q1 * t2) + (q2 + q3 * t2) * t4) + q4 * t8;
  const D ans = t * exp<L>(p - az * az);
  const D erfc = sel<L>(z >= 0.0, ans, 2.0 - ans);
  return 0.5 * erfc;
}

namespace detail {
/// pow2f at one lane: the same IEEE operations in the same order on a scalar float, its bits
/// moved between the float and integer views in registers (GCC moves a one-element vector's
/// through the stack).
inline float pow2f_scalar(float t) {
  constexpr float shift = 0x1.8p23f;
  const float shifted = t + shift;
  const float f = t - (shifted - shift);
  float p = 0x1.5c08e6p-10f;
  p = p * f + 0x1.3d0c52p-7f;
  p = p * f + 0x1.c6b6e4p-5f;
  p = p * f + 0x1.ebf918p-3f;
  p = p * f + 0x1.62e428p-1f;
  p = p * f + 0x1.000002p+0f;
  return std::bit_cast<float>(std::bit_cast<std::uint32_t>(p) +
                              (std::bit_cast<std::uint32_t>(shifted) << 23));
}
}  // namespace detail

/// 2^t in single precision for t in [-125, 127] (the caller clamps; outside, the result is
/// wrong), relative error below 2.4e-7 (the polynomial's 7.5e-8 plus float rounding): t = k + f
/// with k = round(t) and |f| <= 1/2, 2^f from a degree-5 polynomial (minimax for relative error
/// on [-1/2, 1/2], coefficients rounded to float), and k added to the exponent bits as an integer.
template <class L>
inline typename L::F pow2f(typename L::F t) {
  using F = typename L::F;
  using FU = typename L::FU;
  if constexpr (L::width == 1) {
    return F{detail::pow2f_scalar(t[0])};
  }
  constexpr float shift = 0x1.8p23f;  // adding it rounds to an integer held in the low bits
  const F shifted = t + shift;
  const F f = t - (shifted - shift);
  F p = splat_f<L>(0x1.5c08e6p-10f);
  p = p * f + 0x1.3d0c52p-7f;
  p = p * f + 0x1.c6b6e4p-5f;
  p = p * f + 0x1.ebf918p-3f;
  p = p * f + 0x1.62e428p-1f;
  p = p * f + 0x1.000002p+0f;
  // shift's own bits vanish in the shift: bits(shifted) << 23 is k << 23 modulo 2^32.
  return std::bit_cast<F>(std::bit_cast<FU>(p) + (std::bit_cast<FU>(shifted) << 23));
}

/// The sum over terms i of w_i / (1 + 2^t_i) (a weighted sum of logistic functions, with the
/// arguments in base-2 units: 1 / (1 + e^-x) has t = -x log2 e), added one term at a time, in
/// single precision: each t_i given in
/// double, rounded to float and clamped to [-25, 25] (where 1 / (1 + 2^t) is within 2^-25 of 0
/// or 1), kept as one fraction num / den in float (every term 16 lanes per AVX-512 register, one
/// division for any number of terms). Each factor 1 + 2^t is below 2^25 (1 + 2^-25), so 5 of them
/// multiply to below 2^126; after every 5 terms num and den are both multiplied by the power of
/// two that brings den into [1, 2) (exact: a float of the negated exponent, by integer bits), so
/// any number of terms stays finite. With weights w_i >= 0 summing to 1, the value's absolute
/// error is below 1e-6 for up to 16 terms (tests/engine/test_simd.cpp measures it against a long
/// double evaluation; typically ~1e-7), against 5e-10 for the double-precision sum it replaced.
template <class L>
struct LogisticSumFloat {
  static constexpr float CLAMP = 25.0f;  ///< |t| is clamped to this
  static constexpr int GROUP = 5;        ///< terms between renormalisations
  typename L::F num = splat_f<L>(0.0f);
  typename L::F den = splat_f<L>(1.0f);
  int pending = 0;  ///< terms since den was last in [1, 2)

  void add(float w, typename L::D t) {
    using F = typename L::F;
    using FU = typename L::FU;
    if (pending == GROUP) {
      // den = 2^E m with m in [1, 2) and 0 <= E < 126: the float with exponent field 254 - (E +
      // 127) is 2^-E.
      const F scale = std::bit_cast<F>(FU{} + 0x7F000000u - (std::bit_cast<FU>(den) & 0x7F800000u));
      num = num * scale;
      den = den * scale;
      pending = 0;
    }
    const F a =
        1.0f + pow2f<L>(min_f<L>(max_f<L>(narrow<L>(t), splat_f<L>(-CLAMP)), splat_f<L>(CLAMP)));
    num = num * a + w * den;
    den = den * a;
    ++pending;
  }
  /// The sum as doubles (the float value, widened exactly).
  typename L::D value() const { return widen<L>(num / den); }
};

/// LogisticSumFloat at one lane: the same IEEE operations in the same order on scalar floats, so
/// that num and den stay in registers (GCC holds a one-element vector member in memory as an
/// integer and moves it through the stack at every term). Bit-identical to a lane of the vector
/// form (tests/engine/test_simd.cpp compares them).
template <class L>
requires(L::width == 1) struct LogisticSumFloat<L> {
  static constexpr float CLAMP = 25.0f;  ///< |t| is clamped to this
  static constexpr int GROUP = 5;        ///< terms between renormalisations
  float num = 0.0f;
  float den = 1.0f;
  int pending = 0;  ///< terms since den was last in [1, 2)

  void add(float w, typename L::D t) {
    if (pending == GROUP) {
      const float scale =
          std::bit_cast<float>(0x7F000000u - (std::bit_cast<std::uint32_t>(den) & 0x7F800000u));
      num = num * scale;
      den = den * scale;
      pending = 0;
    }
    // The clamp on the one-element vector (GCC lowers it to branch-free MAXSS and a blend, where
    // the same select on scalars became two branches around a constant-folded pow2f).
    const float clamped =
        min_f<L>(max_f<L>(narrow<L>(t), splat_f<L>(-CLAMP)), splat_f<L>(CLAMP))[0];
    const float a = 1.0f + detail::pow2f_scalar(clamped);
    num = num * a + w * den;
    den = den * a;
    ++pending;
  }
  /// The sum as a double (the float value, widened exactly).
  typename L::D value() const { return typename L::D{static_cast<double>(num / den)}; }
};

}  // namespace wedge::engine::simd
