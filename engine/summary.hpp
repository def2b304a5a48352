#pragma once
/// The streaming summary of one design point: category counts of every categorical field and
/// ContinuousStats of every continuous field. Constant memory in the number of runs; mergeable.
#include "engine/fields.hpp"
#include "engine/stats.hpp"

#include <cstdint>
#include <memory>
#include <memory_resource>
#include <span>
#include <vector>

namespace wedge::engine {

class Summary {
 public:
  explicit Summary(std::shared_ptr<const FieldLayout> layout);
  /// A copy of `other` whose memory (its category counts, ~3.4 KB of TugOfWar's ~4.5 KB, its
  /// histograms and the rest: arena_bytes) is allocated from `arena`, which the summary keeps alive
  /// (make_summaries: one arena for every point's counts, on huge pages). Equal (operator==) to
  /// `other`, and behaves as it in everything; only where its memory is differs. A null `arena`
  /// means the default allocator.
  Summary(const Summary& other, std::shared_ptr<std::pmr::memory_resource> arena);
  /// The bytes a summary of `layout` takes in a BumpArena (engine/memory.hpp), its pieces rounded
  /// as the arena rounds them: make_summaries sizes one arena for all points by it.
  static std::size_t arena_bytes(const FieldLayout& layout);
  /// Copies use the default allocator, whatever `other`'s; moves take `other`'s memory (and share
  /// its arena, which a moved-from summary keeps too: its counts' allocator still refers to it);
  /// assignments keep this summary's own allocator.
  Summary(const Summary& other);
  Summary(Summary&& other) noexcept;
  Summary& operator=(const Summary& other);
  Summary& operator=(Summary&& other);
  ~Summary() = default;

  /// Adds one run: `categories[i]` is the category index of categorical field i, `values[j]` the
  /// value of continuous field j (the order of FieldLayout).
  void add(const std::uint16_t* categories, const double* values) noexcept {
    for (std::size_t i = 0; i < offsets_.size(); ++i) ++counts_[offsets_[i] + categories[i]];
    for (std::size_t j = 0; j < continuous_.size(); ++j) continuous_[j].add(values[j]);
    ++runs_;
  }

  /// Adds `n` runs at once, field by field: run k's categorical field i at
  /// categories[k * C + i] and continuous field j at values[k * V + j], where C and V are the
  /// layout's numbers of categorical and continuous fields. The same summary, bit for bit, as n
  /// calls of add() in the order of k.
  void add_runs(const std::uint16_t* categories, const double* values, std::size_t n) noexcept;

  /// Appends `other`'s runs (same layout). Deterministic for a fixed merge order.
  void merge(const Summary& other);
  /// Back to no runs, keeping the layout.
  void reset();

  std::uint64_t runs() const noexcept { return runs_; }
  const FieldLayout& layout() const noexcept { return *layout_; }
  std::shared_ptr<const FieldLayout> layout_ptr() const noexcept { return layout_; }
  /// Counts of categorical field i, one per category.
  std::span<const std::uint64_t> counts(std::size_t i) const noexcept {
    return {counts_.data() + offsets_[i], layout_->categorical[i].categories.size()};
  }
  std::span<std::uint64_t> counts(std::size_t i) noexcept {
    return {counts_.data() + offsets_[i], layout_->categorical[i].categories.size()};
  }
  const ContinuousStats& continuous(std::size_t j) const noexcept { return continuous_[j]; }
  ContinuousStats& continuous(std::size_t j) noexcept { return continuous_[j]; }
  /// Index of the categorical field named `name`, or -1.
  int categorical_index(std::string_view name) const noexcept;
  /// Index of the continuous field named `name`, or -1.
  int continuous_index(std::string_view name) const noexcept;

  /// Largest 95% Wilson half-width over the categories of the given categorical fields.
  double max_half_width(std::span<const int> fields) const noexcept;

  friend bool operator==(const Summary& a, const Summary& b) noexcept;
  friend struct SummaryState;

 private:
  std::shared_ptr<const FieldLayout> layout_;
  /// The resource of counts_'s allocator when it is not the default one, kept alive as long as
  /// counts_ may allocate from it (declared first: destroyed after it).
  std::shared_ptr<std::pmr::memory_resource> arena_;
  std::pmr::vector<std::size_t> offsets_;
  std::pmr::vector<std::uint64_t> counts_;
  std::pmr::vector<ContinuousStats> continuous_;
  std::uint64_t runs_ = 0;
};

/// The exact, mergeable state of a list of summaries (of design points, or of blocks) as flat
/// arrays: the one serialisation of a Summary. Results files store it (checkpoints: every part;
/// `/blocks`: the moments of each block) and MPI ranks exchange it (integers summed, moments
/// gathered in plan order), so all three agree by construction.
///
/// The state has two parts. Integers (runs, every category count, every histogram bin) add exactly
/// in any order. Moments (each continuous field's ContinuousStats::Raw) merge by Chan's formula,
/// whose floating-point result depends on the order: replaying the same merges in the same order
/// gives the same bits. Either part may be left empty when only the other is carried.
struct SummaryState {
  /// Where each part of a row sits in `integers`, for a field layout.
  struct Offsets {
    explicit Offsets(const FieldLayout& layout);
    std::size_t width = 0;                ///< integers per row
    std::size_t runs = 0;                 ///< the run count
    std::vector<std::size_t> counts;      ///< categorical field i's counts (its categories)
    std::vector<std::size_t> histograms;  ///< continuous field j's bins (hist_bins + 2)
  };

  std::size_t rows = 0;
  std::vector<std::uint64_t> integers;        ///< rows x Offsets::width, or empty
  std::vector<ContinuousStats::Raw> moments;  ///< rows x continuous fields, or empty

  /// Both parts of `summaries` (one row each, in order; all of one layout).
  static SummaryState pack(std::span<const Summary> summaries);
  /// Summaries equal (operator==) to the packed ones; both parts must be present.
  std::vector<Summary> unpack(const std::shared_ptr<const FieldLayout>& layout) const;
  /// Adds row `row`'s integers (runs, counts, histogram bins) to `target`.
  void add_integers(std::size_t row, Summary& target) const;
  /// Merges row `row`'s moments into `target`'s continuous fields, after what it holds.
  void merge_moments(std::size_t row, Summary& target) const;
};

}  // namespace wedge::engine
