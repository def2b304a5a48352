#pragma once
/// Run plans: design points x replicates, cut into blocks whose boundaries belong to the plan
/// (never to the scheduler), so that every merge happens in the same order on any thread count.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
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
/// Every block is made at once (32 bytes each): for a plan of any size use BlockRange, which
/// computes the same blocks on demand. Throws std::invalid_argument if `block_size` is 0.
std::vector<Block> make_blocks(const std::vector<Segment>& segments,
                               std::uint32_t block_size = DEFAULT_BLOCK_SIZE,
                               std::uint64_t first_sequence = 0);

/// Segments for `points` points with replicates [0, replicates) each, point by point.
std::vector<Segment> full_plan(std::uint32_t points, std::uint64_t replicates);

/// The blocks of make_blocks(segments, block_size, first_sequence), or a contiguous part of them,
/// computed on demand from the plan's arithmetic: memory is O(segments) (one per design point for
/// a full plan) whatever the number of runs, and block i is found in O(log segments). Copies
/// share the segments (immutable). A random-access range of Block values (by value: the blocks
/// exist only when asked for); indices are relative to the range, `sequence` is the plan's.
class BlockRange {
 public:
  class Iterator;

  /// No blocks.
  BlockRange() = default;
  /// Every block of `segments` (see make_blocks; a segment with begin >= end has none). Throws
  /// std::invalid_argument if `block_size` is 0.
  explicit BlockRange(std::vector<Segment> segments, std::uint32_t block_size = DEFAULT_BLOCK_SIZE,
                      std::uint64_t first_sequence = 0);

  /// Blocks in the range.
  std::uint64_t size() const noexcept { return last_ - first_; }
  bool empty() const noexcept { return first_ == last_; }
  /// Block i of the range, i < size() (unchecked, like a span's).
  Block operator[](std::uint64_t i) const noexcept;
  Block front() const noexcept { return (*this)[0]; }
  Block back() const noexcept { return (*this)[size() - 1]; }
  Iterator begin() const noexcept;
  Iterator end() const noexcept;

  /// Blocks [begin, end) of this range (clamped to it), as a span's subspan.
  BlockRange slice(std::uint64_t begin, std::uint64_t end) const noexcept;
  /// The first `n` blocks (all if fewer), and all but the first `n` (none if fewer).
  BlockRange first(std::uint64_t n) const noexcept { return slice(0, n); }
  BlockRange drop(std::uint64_t n) const noexcept { return slice(n, size()); }
  /// Runs (replicates) in the range's blocks, in O(segments).
  std::uint64_t runs() const noexcept;
  /// The blocks, made (32 bytes each; for tests and small plans).
  std::vector<Block> materialize() const;
  /// Bounds of the range's blocks, in O(segments): every block has point <= max_point and
  /// replicate_begin + count <= max_end ({0, 0} for an empty range). What run_blocks checks
  /// instead of visiting every block (2 * 10^11 of them for 10^5 points x 2^32 runs).
  struct Extent {
    std::uint32_t max_point = 0;
    std::uint64_t max_end = 0;
  };
  Extent extent() const noexcept;

 private:
  struct Plan {
    std::vector<Segment> segments;
    /// Blocks before segment s (size segments + 1; the last entry is the total).
    std::vector<std::uint64_t> blocks_before;
    std::uint32_t block_size = DEFAULT_BLOCK_SIZE;
    std::uint64_t first_sequence = 0;
  };
  /// Index of the segment holding plan block i (i < total).
  std::size_t segment_of(std::uint64_t i) const noexcept;
  /// Runs in the plan's blocks before block i (i <= total).
  std::uint64_t runs_before(std::uint64_t i) const noexcept;

  std::shared_ptr<const Plan> plan_;
  std::uint64_t first_ = 0;  ///< plan block indices [first_, last_)
  std::uint64_t last_ = 0;
};

/// A random-access iterator over a BlockRange's blocks (dereferences to a Block value, so to the
/// C++17 algorithms, which expect a reference, it is an input iterator, as std::views::iota's).
class BlockRange::Iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using iterator_concept = std::random_access_iterator_tag;
  using value_type = Block;
  using difference_type = std::ptrdiff_t;
  using reference = Block;
  using pointer = void;

  Iterator() = default;
  Iterator(const BlockRange* range, std::uint64_t i) noexcept : range_(range), i_(i) {}
  Block operator*() const noexcept { return (*range_)[i_]; }
  Block operator[](difference_type n) const noexcept {
    return (*range_)[i_ + static_cast<std::uint64_t>(n)];
  }
  Iterator& operator++() noexcept { return ++i_, *this; }
  Iterator operator++(int) noexcept { return {range_, i_++}; }
  Iterator& operator--() noexcept { return --i_, *this; }
  Iterator operator--(int) noexcept { return {range_, i_--}; }
  Iterator& operator+=(difference_type n) noexcept {
    return i_ += static_cast<std::uint64_t>(n), *this;
  }
  Iterator& operator-=(difference_type n) noexcept {
    return i_ -= static_cast<std::uint64_t>(n), *this;
  }
  friend Iterator operator+(Iterator it, difference_type n) noexcept { return it += n; }
  friend Iterator operator+(difference_type n, Iterator it) noexcept { return it += n; }
  friend Iterator operator-(Iterator it, difference_type n) noexcept { return it -= n; }
  friend difference_type operator-(const Iterator& a, const Iterator& b) noexcept {
    return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
  }
  friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.i_ == b.i_; }
  friend auto operator<=>(const Iterator& a, const Iterator& b) noexcept { return a.i_ <=> b.i_; }

 private:
  const BlockRange* range_ = nullptr;
  std::uint64_t i_ = 0;
};

inline BlockRange::Iterator BlockRange::begin() const noexcept { return {this, 0}; }
inline BlockRange::Iterator BlockRange::end() const noexcept { return {this, size()}; }

}  // namespace wedge::engine
