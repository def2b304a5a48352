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
