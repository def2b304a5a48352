#pragma once
/// Random variates on lanes from 32-bit generator words (philox.hpp): uniforms and Box-Muller
/// normals, a fixed number of words each, so a draw never shifts the next (MODEL.md §6).
#include "engine/simd/lanes.hpp"
#include "engine/simd/math.hpp"

#include <bit>
#include <cstdint>

namespace wedge::engine::simd {

/// A uniform in (0, 1) from a 32-bit word: (w + 1/2) / 2^32.
template <class L>
inline typename L::D uniform(typename L::U word) {
  // (2^52 + w) - (2^52 - 1/2) = w + 1/2 exactly: to_double and the + 1/2 in one subtraction.
  return (std::bit_cast<typename L::D>(word | std::bit_cast<std::uint64_t>(TWO52)) -
          (TWO52 - 0.5)) *
         0x1p-32;
}

/// The threshold of probability p on 32-bit words: uniform(w) < p exactly when w < t, for every
/// word w in [0, 2^32). t is in [0, 2^32]: 0 when p <= 2^-33 or p is NaN (no word is below),
/// 2^32 when p > 1 - 2^-33 (every word is). Why: uniform(w) = (w + 1/2) 2^-32 exactly, so
/// u < p <=> w + 1/2 < P with P = p 2^32 (exact: a power of two) <=> w < P - 1/2 <=> w <
/// ceil(P - 1/2) for integer w; P - 1/2 is computed exactly where it matters (0.5 <= P < 2^52:
/// both are multiples of ulp(P)); below 0.5 and from 2^52 on the clamps decide whatever the
/// rounding. tests/engine/test_simd.cpp checks t - 1 and t against uniform() itself.
constexpr std::uint64_t uniform_threshold(double p) {
  const double x = p * 0x1p32 - 0.5;
  if (!(x > 0.0)) return 0;  // also NaN
  if (x >= 0x1p32) return std::uint64_t{1} << 32;
  const auto floor = static_cast<std::uint64_t>(x);  // x > 0: truncation is floor
  return floor + (static_cast<double>(floor) < x ? 1 : 0);
}

/// Lanes whose word w (< 2^32) is below threshold t (<= 2^32; uniform_threshold): where the
/// word's uniform (w + 1/2) 2^-32 is below the threshold's probability. The same bits as
/// uniform<L>(w) < p, without converting the word.
template <class L>
inline typename L::M below_threshold(typename L::U w, typename L::U t) {
  using M = typename L::M;
  // Both below 2^63: the signed comparison (one instruction on AVX2, which has no unsigned one).
  return std::bit_cast<M>(w) < std::bit_cast<M>(t);
}
template <class L>
inline typename L::M below_threshold(typename L::U w, std::uint64_t t) {
  return std::bit_cast<typename L::M>(w) < static_cast<std::int64_t>(t);
}

/// A uniform in [0, 1) with 53 random bits from two 32-bit words.
template <class L>
inline typename L::D uniform53(typename L::U hi_word, typename L::U lo_word) {
  return (to_double<L>(hi_word >> 5) * 0x1p26 + to_double<L>(lo_word >> 6)) * 0x1p-53;
}

/// Two standard normals from two words (Box-Muller): sqrt(-2 ln u1) (cos, sin)(2 pi u2), the
/// radius in double from u1 = (w1 + 1/2) / 2^32 (its tails as fine as u1's 32 bits allow), the
/// direction in single precision from u2 = floor(w2 / 2^6) / 2^26 (cos_sin_2pi_word: absolute
/// error below 2e-7).
template <class L>
inline void box_muller(typename L::U w1, typename L::U w2, typename L::D& z0, typename L::D& z1) {
  using D = typename L::D;
  // -2 log u = -2 log((w1 + 1/2) 2^-32), the -2 and the 2^-32 folded into log (the same bits as
  // -2.0 * log(uniform(w1))); (2^52 + w1) - (2^52 - 1/2) = w1 + 1/2 exactly.
  const D half_up = std::bit_cast<D>(w1 | std::bit_cast<std::uint64_t>(TWO52)) - (TWO52 - 0.5);
  const D radius = sqrt<L>(log<L, -2, -32>(half_up));
  D c, s;
  cos_sin_2pi_word<L>(w2, c, s);
  z0 = radius * c;
  z1 = radius * s;
}

}  // namespace wedge::engine::simd
