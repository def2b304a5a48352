#pragma once
/// Presenting results: the readable outcome table and the JSON document of `wedge run --json`.
#include "engine/summary.hpp"
#include "experiments/experiment.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace wedge::experiments {

/// The JSON document: {"seed": S, "points": [{"index", "params", "runs", "counts", "stats"}]}.
std::string results_json(const Experiment& experiment, const std::vector<engine::Summary>& summaries);

/// The outcome table, one section per design point.
void print_table(std::FILE* out, const Experiment& experiment,
                 const std::vector<engine::Summary>& summaries);

/// Number of leading categories of categorical field `field` worth showing for the experiment
/// (round fields stop at the largest negotiation.rounds of its points).
std::size_t categories_shown(const Experiment& experiment, std::size_t field);

}  // namespace wedge::experiments
