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
    // Only the low 32 bits of each word are Philox's; the high halves carry garbage that nothing
    // reads (the multiplications take the low 32 bits of x0 and x2, and x1, x3 only reach the
    // low halves of the next x0, x2 through XOR), so the words are masked once, at the end.
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        key0 = (key0 + 0x9E3779B9u) & LOW;
        key1 = (key1 + 0xBB67AE85u) & LOW;
      }
      const U p0 = mul32<L>(x0, splat_u<L>(M0));  // 32 x 32 -> 64 bits
      const U p1 = mul32<L>(x2, splat_u<L>(M1));
      x0 = (p1 >> 32) ^ x1 ^ key0;
      x1 = p1;
      x2 = (p0 >> 32) ^ x3 ^ key1;
      x3 = p0;
    }
    o0 = x0 & LOW;
    o1 = x1 & LOW;
    o2 = x2 & LOW;
    o3 = x3 & LOW;
  }
};

}  // namespace wedge::engine::simd
