#include "experiments/execute.hpp"

#include "engine/error.hpp"

#include <fmt/format.h>

namespace wedge::experiments {

std::vector<int> outcome_fields(const std::vector<std::string>& names) {
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  std::vector<int> out;
  for (const auto& n : names) {
    int found = -1;
    for (std::size_t i = 0; i < layout.categorical.size(); ++i) {
      if (layout.categorical[i].name == n) found = static_cast<int>(i);
    }
    if (found < 0) {
      std::string valid;
      for (const auto& f : layout.categorical) valid += (valid.empty() ? "" : ", ") + f.name;
      throw ConfigError(fmt::format("precision outcomes: unknown outcome '{}' (valid: {})", n, valid));
    }
    out.push_back(found);
  }
  return out;
}

engine::PrecisionReport execute(const Experiment& e, const ExecuteOptions& options,
                                std::span<const engine::Block> blocks,
                                std::vector<engine::Summary>& summaries,
                                engine::RecordSink<agents::RunRecord>* sink) {
  if (e.run.precision) {
    engine::PrecisionTarget target;
    target.half_width = *e.run.precision;
    target.fields = outcome_fields(options.precision_outcomes);
    target.first_batch = options.first_batch;
    target.max_replicates = e.run.max_runs;
    return engine::run_to_precision<agents::TugOfWar>(e.points, summaries, options.run, target, sink,
                                                      options.batch_executor);
  }
  engine::PrecisionReport report;
  report.run = engine::run_blocks<agents::TugOfWar>(e.points, blocks, summaries, options.run, sink);
  report.met = true;
  return report;
}

}  // namespace wedge::experiments
