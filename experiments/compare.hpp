#pragma once
/// Paired comparison of two scenarios (`wedge compare A.toml B.toml`, `wedge.compare`).
///
/// A run is a function of (seed, point, replicate) alone, so replicate r of scenario A and
/// replicate r of scenario B, run with the same seed, draw the same random numbers: the two runs
/// are a pair. compare() executes A and B as two Sessions with the same seed and runs, side by
/// side, and a pairing sink matches their records block by block (both plans have the same
/// blocks), with a bounded buffer for whichever side is ahead. It keeps, per categorical field, the
/// K x K table of (A's category, B's category) over the pairs, and per continuous field the
/// moments of the paired differences: memory is independent of the number of runs, and every
/// number is the same on any thread count (the sink sees the pairs in plan order).
///
/// The statistics come from those tables. For category c, d_r = 1[B_r = c] - 1[A_r = c] takes the
/// values +1 (only B in c), -1 (only A in c) and 0, so the paired difference P_B - P_A and its
/// variance follow from the two discordant counts; the unpaired interval is the one two
/// independent samples of the same size would give. Both are normal-approximation (Wald)
/// intervals of the same estimator, so the ratio of their variances is the variance reduction
/// that pairing buys.
#include "engine/cancel.hpp"
#include "engine/progress.hpp"
#include "engine/stats.hpp"
#include "engine/summary.hpp"
#include "experiments/experiment.hpp"
#include "experiments/session.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace wedge::experiments {

/// Resolves the two sides of a comparison. Both use the runs and seed of `a` (its `runs`/`seed`
/// overrides, else A's [run] table, else the defaults); B's [run] table is not used. Throws
/// ConfigError for anything invalid, for a sweep (compare takes two single-point scenarios) and
/// for precision mode (compare runs a fixed number of runs). `crn` makes no difference to a single
/// point and is accepted on either side.
std::pair<Experiment, Experiment> resolve_pair(const ExperimentSource& a,
                                               const ExperimentSource& b);

/// How to execute a comparison.
struct CompareOptions {
  unsigned threads = 0;  ///< worker threads, [1, 1024]; 0 = all cores
  /// Most blocks of the side that is ahead held while the other catches up (each block holds the
  /// observations of 2,048 runs, ~80 KB). Never changes results.
  std::size_t max_lead_blocks = 64;
};

/// What a comparison keeps: each side's summary and the paired tables.
struct Comparison {
  /// Empty tables for the model's fields; `empty` is an empty summary of its layout.
  explicit Comparison(const engine::Summary& empty);

  std::uint64_t runs = 0;  ///< runs per side (pairs), as planned
  std::uint64_t seed = 0;
  /// Each side's summary: bit-identical to running that side alone with the same seed and runs.
  engine::Summary a;
  engine::Summary b;
  /// joint[f][i * K + j]: pairs with A in category i and B in category j of categorical field f
  /// (K = its number of categories).
  std::vector<std::vector<std::uint64_t>> joint;
  /// Per continuous field: the paired differences B_r - A_r, accumulated in plan order.
  std::vector<engine::ContinuousStats> differences;
  std::uint64_t pairs_done = 0;  ///< pairs completed (== runs unless interrupted)
  bool interrupted = false;
  int signal = 0;  ///< the signal that cancelled it (0: none)
};

/// Runs both sides and pairs them. `cancel` (may be null) stops both at their next wave boundary
/// (then `interrupted` is set and the tables hold the pairs done); `progress` (may be null) counts
/// A's runs. Throws ConfigError for bad options; rethrows the first error of either side.
Comparison compare(const Experiment& a, const Experiment& b, const CompareOptions& options = {},
                   const engine::CancelToken* cancel = nullptr,
                   engine::Progress* progress = nullptr);

/// The paired difference of one category (P_B - P_A) with its intervals.
struct CategoryDifference {
  double p_a = 0.0, p_b = 0.0;
  engine::Interval a_interval, b_interval;  ///< each side's 95% Wilson interval
  double diff = 0.0;                        ///< p_b - p_a
  double paired_low = 0.0, paired_high = 0.0;
  double unpaired_low = 0.0, unpaired_high = 0.0;
  double paired_se = 0.0, unpaired_se = 0.0;
  /// unpaired variance / paired variance: how many times more pairs independent runs would need
  /// for the same precision (infinite when the paired variance is 0 and the unpaired is not; NaN
  /// when both are 0).
  double variance_ratio = 0.0;
  std::uint64_t a_only = 0;  ///< pairs with A in c and B not
  std::uint64_t b_only = 0;  ///< pairs with B in c and A not
  std::uint64_t both = 0;    ///< pairs with both in c
};

/// The paired difference of category `c` from a K x K joint table over `n` pairs (row: A's
/// category, column: B's). Wald intervals with z = 1.96 (engine::Z95) and sample variances
/// (n - 1 denominator); for n < 2 the standard errors are 0.
CategoryDifference category_difference(const std::vector<std::uint64_t>& joint,
                                       std::size_t categories, std::size_t c, std::uint64_t n);

/// The paired difference of a continuous field's means (B - A) with its intervals.
struct MeanDifference {
  double mean_a = 0.0, mean_b = 0.0;
  double diff = 0.0;
  double paired_low = 0.0, paired_high = 0.0;
  double unpaired_low = 0.0, unpaired_high = 0.0;
  double paired_se = 0.0, unpaired_se = 0.0;
  double variance_ratio = 0.0;  ///< as CategoryDifference::variance_ratio
};

/// The paired difference of continuous field `field`'s mean.
MeanDifference mean_difference(const Comparison& c, std::size_t field);

/// The document of `wedge compare --json`: {"runs", "seed", "pairs_done", "a": {"source",
/// "description", "results"}, "b": {...}, "categorical": [rows], "continuous": [rows], "joint":
/// {field: K x K}}. Rows cover every category that can occur of every categorical field.
std::string comparison_json(const Experiment& a, const Experiment& b, const Comparison& c);

/// The readable table: format, end reason, alliance, Okinawa and islands, then the continuous
/// fields' means.
void print_comparison(std::FILE* out, const Experiment& a, const Experiment& b,
                      const Comparison& c);

}  // namespace wedge::experiments
