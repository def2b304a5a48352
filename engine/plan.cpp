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

// A segment [b, e) is cut at the multiples of the block size B: its block j starts at b (j = 0)
// or at (b / B + j) B, and ends at the next multiple of B or at e, as make_blocks cuts it.

BlockRange::BlockRange(std::vector<Segment> segments, std::uint32_t block_size,
                       std::uint64_t first_sequence) {
  if (block_size == 0) throw std::invalid_argument("BlockRange: block size 0");
  auto plan = std::make_shared<Plan>();
  plan->block_size = block_size;
  plan->first_sequence = first_sequence;
  plan->blocks_before.reserve(segments.size() + 1);
  plan->blocks_before.push_back(0);
  for (const auto& s : segments) {
    const std::uint64_t n =
        s.begin < s.end ? (s.end - 1) / block_size - s.begin / block_size + 1 : 0;
    plan->blocks_before.push_back(plan->blocks_before.back() + n);
  }
  plan->segments = std::move(segments);
  last_ = plan->blocks_before.back();
  plan_ = std::move(plan);
}

std::size_t BlockRange::segment_of(std::uint64_t i) const noexcept {
  // The last segment whose first block is at or before i (segments without blocks share their
  // successor's start and are skipped by taking the last).
  const auto& before = plan_->blocks_before;
  const auto it = std::upper_bound(before.begin(), before.end(), i);
  return static_cast<std::size_t>(it - before.begin()) - 1;
}

Block BlockRange::operator[](std::uint64_t i) const noexcept {
  const std::uint64_t at = first_ + i;
  const std::size_t s = segment_of(at);
  const Segment& seg = plan_->segments[s];
  const std::uint64_t bs = plan_->block_size;
  const std::uint64_t j = at - plan_->blocks_before[s];
  const std::uint64_t start = j == 0 ? seg.begin : (seg.begin / bs + j) * bs;
  const std::uint64_t stop = std::min((seg.begin / bs + j + 1) * bs, seg.end);
  return {seg.point, start, static_cast<std::uint32_t>(stop - start), plan_->first_sequence + at};
}

std::uint64_t BlockRange::runs_before(std::uint64_t i) const noexcept {
  if (i == 0) return 0;
  // Runs of the segments before block i's, then of its blocks before i.
  const std::size_t s = segment_of(i - 1);
  std::uint64_t runs = 0;
  for (std::size_t k = 0; k < s; ++k) {
    const Segment& seg = plan_->segments[k];
    if (seg.begin < seg.end) runs += seg.end - seg.begin;
  }
  const Segment& seg = plan_->segments[s];
  const std::uint64_t bs = plan_->block_size;
  const std::uint64_t j = i - plan_->blocks_before[s];  // blocks of segment s before i, >= 1
  return runs + std::min((seg.begin / bs + j) * bs, seg.end) - seg.begin;
}

BlockRange BlockRange::slice(std::uint64_t begin, std::uint64_t end) const noexcept {
  BlockRange part = *this;
  end = std::min(end, size());
  begin = std::min(begin, end);
  part.first_ = first_ + begin;
  part.last_ = first_ + end;
  return part;
}

std::uint64_t BlockRange::runs() const noexcept {
  return empty() ? 0 : runs_before(last_) - runs_before(first_);
}

BlockRange::Extent BlockRange::extent() const noexcept {
  Extent x;
  if (empty()) return x;
  // The segments holding the range's first and last blocks, and every one between.
  for (std::size_t s = segment_of(first_), last = segment_of(last_ - 1); s <= last; ++s) {
    const Segment& seg = plan_->segments[s];
    if (seg.begin >= seg.end) continue;  // no blocks
    x.max_point = std::max(x.max_point, seg.point);
    x.max_end = std::max(x.max_end, seg.end);
  }
  return x;
}

std::vector<Block> BlockRange::materialize() const {
  std::vector<Block> blocks;
  blocks.reserve(size());
  for (std::uint64_t i = 0; i < size(); ++i) blocks.push_back((*this)[i]);
  return blocks;
}

}  // namespace wedge::engine
