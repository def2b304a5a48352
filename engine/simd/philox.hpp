#pragma once
/// Philox4x32-10 (Salmon et al., SC'11; the algorithm of Random123's philox.h) on lanes: W
/// counters at once, one 32-bit word per 64-bit lane. The engine's one generator: the scalar
/// stream (engine/rng.hpp) is its one-lane instance. Checked against Random123's known-answer
/// vectors and against Random123 itself (tests/engine/test_rng.cpp).
#include "engine/simd/lanes.hpp"

#include <cstdint>

namespace wedge::engine::simd {

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

}  // namespace wedge::engine::simd
