#include "engine/rng.hpp"

namespace wedge::engine {

// Out of line, so the one-lane generator behind Stream is compiled once, for the baseline
// instruction set (never in a translation unit compiled for AVX-512: engine/simd/lanes.hpp).
void Stream::refill() noexcept {
  using L = simd::Lanes<1>;
  const LaneStreams<L> stream(key_);
  L::U words[4];
  stream.block(simd::splat_u<L>(substream_), block_, words);
  for (std::size_t i = 0; i < 4; ++i) buffer_[i] = static_cast<std::uint32_t>(words[i][0]);
  ++block_;
  used_ = 0;
}

}  // namespace wedge::engine
