#pragma once
/// Run plans: design points x replicates, cut into blocks whose boundaries belong to the plan
/// (never to the scheduler), so that every merge happens in the same order on any thread count.
#include <cstdint>
#include <vector>

namespace wedge::engine {

/// A contiguous range of replicates of one design point.
struct Block {
  std::uint32_t point = 0;
  std::uint64_t replicate_begin = 0;
  std::uint32_t count = 0;
  /// Position of the block in the whole run's order of blocks (what a results file stores them by).
  std::uint64_t sequence = 0;
  friend bool operator==(const Block&, const Block&) = default;
};

/// Replicates [begin, end) of one design point.
struct Segment {
  std::uint32_t point = 0;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

/// Default replicates per block: large enough to amortise scheduling, small enough for prompt
/// cancellation and good load balance.
inline constexpr std::uint32_t DEFAULT_BLOCK_SIZE = 2048;

/// Cuts segments into blocks aligned on multiples of `block_size` within each point, so a
/// replicate always falls in the same block whichever segment (batch, shard, resume) holds it.
std::vector<Block> make_blocks(const std::vector<Segment>& segments,
                               std::uint32_t block_size = DEFAULT_BLOCK_SIZE,
                               std::uint64_t first_sequence = 0);

/// Segments for `points` points with replicates [0, replicates) each, point by point.
std::vector<Segment> full_plan(std::uint32_t points, std::uint64_t replicates);

}  // namespace wedge::engine
