#include "engine/plan.hpp"

#include <algorithm>
#include <stdexcept>

namespace wedge::engine {

std::vector<Block> make_blocks(const std::vector<Segment>& segments, std::uint32_t block_size,
                               std::uint64_t first_sequence) {
  if (block_size == 0) throw std::invalid_argument("make_blocks: block size 0");
  std::vector<Block> blocks;
  for (const auto& s : segments) {
    std::uint64_t r = s.begin;
    while (r < s.end) {
      const std::uint64_t boundary = (r / block_size + 1) * block_size;
      const std::uint64_t stop = std::min(boundary, s.end);
      blocks.push_back(
          {s.point, r, static_cast<std::uint32_t>(stop - r), first_sequence + blocks.size()});
      r = stop;
    }
  }
  return blocks;
}

std::vector<Segment> full_plan(std::uint32_t points, std::uint64_t replicates) {
  std::vector<Segment> segments;
  segments.reserve(points);
  for (std::uint32_t p = 0; p < points; ++p) segments.push_back({p, 0, replicates});
  return segments;
}

}  // namespace wedge::engine
