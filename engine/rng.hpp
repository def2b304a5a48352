#pragma once
/// Counter-based random streams (MODEL.md §6): every draw of a run is a function of
/// (master seed, design point, replicate) and its position in the run, never of the thread.
///
/// One generator, Philox4x32-10 (engine/simd/philox.hpp), with one layout: key = the 64-bit
/// master seed; counter = (block, substream, replicate, point). A run's stream is divided into
/// substreams (a model uses one per round), each a sequence of 2^32 blocks of four 32-bit words,
/// so a change in how many numbers one round draws never shifts the draws of the next. Models
/// read their streams through LaneStreams (W runs in SIMD lanes, by substream and block); the
/// scalar Stream is the same generator and layout read word by word, for Boost.Random
/// distributions and the designs.
#include "engine/simd/lanes.hpp"
#include "engine/simd/philox.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

namespace wedge::engine {

/// Identifies one run's random stream.
struct StreamKey {
  std::uint64_t seed = 0;       ///< master seed of the experiment
  std::uint32_t point = 0;      ///< design point (0 for every point under common random numbers)
  std::uint32_t replicate = 0;  ///< replicate index within the point
};

/// The streams of W = L::width runs of one design point and seed, one per lane: lane i reads the
/// stream of replicate replicate()[i]. What a model receives from the engine to draw from: it
/// asks for blocks of a substream and never positions a counter itself. Cheap to copy.
template <class L>
class LaneStreams {
 public:
  using U = typename L::U;

  /// The streams of (key.seed, key.point), every lane on replicate key.replicate.
  explicit LaneStreams(const StreamKey& key) noexcept
      : key0_(static_cast<std::uint32_t>(key.seed)),
        key1_(static_cast<std::uint32_t>(key.seed >> 32)),
        point_(simd::splat_u<L>(key.point)),
        replicate_(simd::splat_u<L>(key.replicate)) {}

  /// Lane `lane` now reads the stream of replicate `replicate` (< 2^32) of the same point.
  void assign(int lane, std::uint64_t replicate) noexcept {
    simd::set_lane(replicate_, lane, replicate);
  }
  /// Lane i now reads the stream of replicate replicates[i] (< 2^32) of the same point.
  void assign(const U& replicates) noexcept { replicate_ = replicates; }

  /// The replicate each lane reads.
  const U& replicate() const noexcept { return replicate_; }

  /// Block `block` (words 4·block … 4·block + 3) of substream `substream[i]` of lane i's stream.
  void block(U substream, std::uint32_t block, U& w0, U& w1, U& w2, U& w3) const noexcept {
    const simd::Philox<L> philox{simd::splat_u<L>(block), substream, replicate_ & 0xFFFFFFFFull,
                                 point_};
    philox.generate(key0_, key1_, w0, w1, w2, w3);
  }
  void block(U substream, std::uint32_t block, U (&words)[4]) const noexcept {
    this->block(substream, block, words[0], words[1], words[2], words[3]);
  }

  /// The first N words (N a multiple of 4) of substream `substream[i]` of lane i's stream.
  template <std::size_t N>
  void words(U substream, U (&words)[N]) const noexcept {
    static_assert(N % 4 == 0, "whole blocks of four words");
    // Unrolled: each block's words go straight to their place.
    [&]<std::size_t... B>(std::index_sequence<B...>) {
      (block(substream, B, words[4 * B], words[4 * B + 1], words[4 * B + 2], words[4 * B + 3]),
       ...);
    }
    (std::make_index_sequence<N / 4>{});
  }

 private:
  std::uint32_t key0_, key1_;
  U point_;
  U replicate_;
};

/// One run's stream read word by word: a uniform random bit generator usable with Boost.Random
/// distributions. The same generator and layout as LaneStreams (its one-lane case). Cheap to
/// copy; never allocates.
class Stream {
 public:
  using result_type = std::uint32_t;

  explicit Stream(const StreamKey& key, std::uint32_t substream = 0) noexcept
      : key_(key), substream_(substream) {}

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  /// Next 32 random bits of the current substream.
  result_type operator()() noexcept {
    if (used_ == 4) refill();
    return buffer_[used_++];
  }

  /// Restarts at the beginning of substream `substream` of the same run.
  void seek_substream(std::uint32_t substream) noexcept {
    substream_ = substream;
    block_ = 0;
    used_ = 4;
  }

  /// Uniform double in [0, 1) with 53 random bits (two 32-bit words).
  double uniform() noexcept {
    const std::uint64_t hi = (*this)() >> 5;  // 27 bits
    const std::uint64_t lo = (*this)() >> 6;  // 26 bits
    return static_cast<double>((hi << 26) | lo) * 0x1.0p-53;
  }

  /// True with probability p (p outside [0, 1] saturates). Consumes two words.
  bool bernoulli(double p) noexcept { return uniform() < p; }

  /// The run this stream belongs to.
  StreamKey key() const noexcept { return key_; }

  /// Number of 32-bit words drawn so far from the current substream.
  std::uint64_t words_drawn() const noexcept {
    return static_cast<std::uint64_t>(block_) * 4 - (4 - used_);
  }

 private:
  /// Next block of the substream: the one-lane generator.
  void refill() noexcept;

  StreamKey key_;
  std::uint32_t substream_ = 0;
  std::uint32_t block_ = 0;  ///< next block to generate
  std::array<std::uint32_t, 4> buffer_{};
  unsigned used_ = 4;
};

// Inline, so that consecutive blocks' Philox rounds overlap in the CPU (twice the words per second
// of an out-of-line call). Files compiled for a wider instruction set than the rest of the program
// (WEDGE_ISA_KERNEL: the SIMD kernels) leave it out, so the copy the linker keeps is always one
// compiled for the baseline (engine/simd/lanes.hpp).
#if !defined(WEDGE_ISA_KERNEL)
inline void Stream::refill() noexcept {
  using L = simd::Lanes<1>;
  typename L::U words[4];
  LaneStreams<L>(key_).block(simd::splat_u<L>(substream_), block_, words);
  for (std::size_t i = 0; i < 4; ++i) buffer_[i] = static_cast<std::uint32_t>(words[i][0]);
  ++block_;
  used_ = 0;
}
#endif

}  // namespace wedge::engine
