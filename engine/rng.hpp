#pragma once
/// Counter-based random streams (MODEL.md §6): every draw of a run is a function of
/// (master seed, design point, replicate) and its position in the run, never of the thread.
#include <Random123/philox.h>

#include <cstdint>
#include <limits>

namespace wedge::engine {

/// Identifies one run's random stream.
struct StreamKey {
  std::uint64_t seed = 0;       ///< master seed of the experiment
  std::uint32_t point = 0;      ///< design point (0 for every point under common random numbers)
  std::uint32_t replicate = 0;  ///< replicate index within the point
};

/// A uniform random bit generator over Philox4x32-10 (Random123), usable with Boost.Random
/// distributions. Key = master seed (64 bits); counter = (block, substream, replicate, point).
/// A run is divided into substreams (the model uses one per round), each an independent sequence
/// of 2^32 Philox blocks of four 32-bit words, so a change in how many numbers one round draws
/// never shifts the draws of the next round. Cheap to copy; never allocates.
class Stream {
 public:
  using result_type = std::uint32_t;
  using Philox = r123::Philox4x32_R<10>;

  explicit Stream(const StreamKey& key, std::uint32_t substream = 0) noexcept {
    key_.v[0] = static_cast<std::uint32_t>(key.seed);
    key_.v[1] = static_cast<std::uint32_t>(key.seed >> 32);
    counter_.v[0] = 0;
    counter_.v[1] = substream;
    counter_.v[2] = key.replicate;
    counter_.v[3] = key.point;
  }

  static constexpr result_type min() noexcept { return 0; }
  static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

  /// Next 32 random bits of the current substream.
  result_type operator()() noexcept {
    if (used_ == 4) refill();
    return buffer_.v[used_++];
  }

  /// Restarts at the beginning of substream `substream` of the same run.
  void seek_substream(std::uint32_t substream) noexcept {
    counter_.v[0] = 0;
    counter_.v[1] = substream;
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
  StreamKey key() const noexcept {
    return {static_cast<std::uint64_t>(key_.v[0]) | static_cast<std::uint64_t>(key_.v[1]) << 32,
            counter_.v[3], counter_.v[2]};
  }

  /// Number of 32-bit words drawn so far from the current substream.
  std::uint64_t words_drawn() const noexcept {
    return static_cast<std::uint64_t>(counter_.v[0]) * 4 - (4 - used_);
  }

 private:
  void refill() noexcept {
    buffer_ = Philox()(counter_, key_);
    ++counter_.v[0];
    used_ = 0;
  }

  Philox::key_type key_{};
  Philox::ctr_type counter_{};
  Philox::ctr_type buffer_{};
  unsigned used_ = 4;
};

}  // namespace wedge::engine
