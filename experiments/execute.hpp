#pragma once
/// Running a resolved experiment on the engine: a fixed plan, or a precision target. Shared by
/// the command line and the Python module.
#include "agents/tug_of_war.hpp"
#include "engine/precision.hpp"
#include "engine/runner.hpp"
#include "experiments/experiment.hpp"

#include <span>
#include <string>
#include <vector>

namespace wedge::experiments {

struct ExecuteOptions {
  engine::RunOptions run;                                    ///< seed, crn, grain, progress...
  std::vector<std::string> precision_outcomes{"format", "alliance"};
  std::uint64_t first_batch = 10'000;                        ///< precision mode's first batch
  engine::BatchExecutor batch_executor;  ///< precision mode: how a batch runs (default: here)
};

/// Runs `blocks` of experiment `e` (or, in precision mode, batches until the target is met),
/// merging into `summaries` and streaming records to `sink` if given.
engine::PrecisionReport execute(const Experiment& e, const ExecuteOptions& options,
                                std::span<const engine::Block> blocks,
                                std::vector<engine::Summary>& summaries,
                                engine::RecordSink<agents::RunRecord>* sink = nullptr);

/// Categorical field indices of the named outcomes; ConfigError for an unknown name.
std::vector<int> outcome_fields(const std::vector<std::string>& names);

}  // namespace wedge::experiments
