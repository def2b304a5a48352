#pragma once
/// Precision targets: keep adding replicates, in deterministic batches, until every category
/// probability of the chosen categorical fields has a 95% Wilson half-width <= the target at every
/// design point, or the replicate cap is reached. Batches depend only on the counts so far, so the
/// stopping point is identical for any thread count.
#include "engine/runner.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace wedge::engine {

struct PrecisionTarget {
  double half_width = 0.01;                   ///< E
  std::vector<int> fields;                    ///< categorical field indices checked
  std::uint64_t first_batch = 10'000;         ///< replicates per point in the first batch
  std::uint64_t max_replicates = 10'000'000;  ///< cap per point
  std::uint32_t block_size = DEFAULT_BLOCK_SIZE;
};

struct PrecisionReport {
  RunReport run;
  std::size_t batches = 0;
  bool met = false;  ///< every point met the target (false if the cap stopped it)
};

/// Replicates point p should have after its next batch, given its summary so far.
inline std::uint64_t next_replicates(const Summary& s, const PrecisionTarget& t) {
  const std::uint64_t n = s.runs();
  std::uint64_t want = 0;
  if (n == 0) {
    want = t.first_batch;
  } else {
    // Normal-approximation size for the worst category, at most doubling per batch.
    double worst = 0.0;
    for (int f : t.fields) {
      for (std::uint64_t k : s.counts(static_cast<std::size_t>(f))) {
        const double p = static_cast<double>(k) / static_cast<double>(n);
        worst = std::max(worst, p * (1.0 - p));
      }
    }
    const double needed = std::ceil(Z95 * Z95 * worst / (t.half_width * t.half_width));
    want =
        std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::min(needed, 1e18)), n + 1, 2 * n);
  }
  // End batches on block boundaries so blocks never depend on the batch.
  want = (want + t.block_size - 1) / t.block_size * t.block_size;
  return std::min(std::max<std::uint64_t>(want, 1), t.max_replicates);
}

/// Runs one batch of blocks, merging into the summaries (by default run_blocks; a distributed
/// run shares the blocks among processes and combines their summaries).
using BatchExecutor =
    std::function<RunReport(std::span<const Block>, std::vector<Summary>&, const RunOptions&)>;

template <Model M>
PrecisionReport run_to_precision(std::span<const typename M::Params> params,
                                 std::vector<Summary>& summaries, const RunOptions& options,
                                 const PrecisionTarget& target,
                                 RecordSink<typename M::Record>* sink = nullptr,
                                 const BatchExecutor& executor = {}) {
  PrecisionReport report;
  RunOptions opts = options;
  std::uint64_t sequence = 0;
  for (;;) {
    std::vector<Segment> segments;
    std::uint64_t planned = 0;
    bool all_met = true;
    for (std::uint32_t p = 0; p < summaries.size(); ++p) {
      const Summary& s = summaries[p];
      const bool met = s.runs() > 0 && s.max_half_width(target.fields) <= target.half_width;
      if (met) continue;
      all_met = false;
      if (s.runs() >= target.max_replicates) continue;
      const std::uint64_t want = next_replicates(s, target);
      segments.push_back({p, s.runs(), want});
      planned += want - s.runs();
    }
    if (all_met) {
      report.met = true;
      break;
    }
    if (segments.empty()) break;  // every unmet point is at the cap
    if (opts.progress != nullptr) {
      opts.progress->set_total(opts.progress_offset + report.run.runs_done + planned);
    }
    opts.progress_offset = options.progress_offset + report.run.runs_done;
    const auto blocks = make_blocks(segments, target.block_size, sequence);
    sequence += blocks.size();
    const RunReport r = executor ? executor(blocks, summaries, opts)
                                 : run_blocks<M>(params, blocks, summaries, opts, sink);
    report.run.runs_done += r.runs_done;
    report.run.blocks_done += r.blocks_done;
    ++report.batches;
    if (r.interrupted) {
      report.run.interrupted = true;
      break;
    }
  }
  return report;
}

}  // namespace wedge::engine
