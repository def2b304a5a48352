#pragma once
/// Presenting results: the readable outcome table and the JSON documents of `wedge run --json`,
/// `wedge inspect --json`, `wedge params --json` and wedge.simulate().
#include "engine/summary.hpp"
#include "experiments/experiment.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace wedge::experiments {

/// A JSON value as wedge prints it: members in insertion order, ", " and ": " between items,
/// strings escaped by nlohmann::json (invalid UTF-8 replaced by U+FFFD), numbers as the shortest
/// text that reads back to the same double, NaN and infinities as null.
std::string json_text(const nlohmann::ordered_json& value);

struct JsonOptions {
  /// Checked before each design point; when it returns true the document is abandoned and
  /// wedge::Interrupted thrown (the command line passes a check of the run's CancelToken, which
  /// its SignalGuard sets on SIGINT/SIGTERM, so a signal stops a long document).
  std::function<bool()> should_stop;
  /// Members written before "seed" (wedge inspect: the file's path and status).
  nlohmann::ordered_json head = nlohmann::ordered_json::object();
};

/// The results document {"seed": S, "points": [{"index", "params", "runs", "counts", "stats"}]}
/// (README, `--json`), written to `out` point by point: time is linear in points x categories and
/// memory does not grow with the number of points. Throws Interrupted (see JsonOptions).
void write_results_json(std::FILE* out, const Experiment& experiment,
                        const std::vector<engine::Summary>& summaries,
                        const JsonOptions& options = {});

/// The same document as a string (wedge.simulate()).
std::string results_json(const Experiment& experiment,
                         const std::vector<engine::Summary>& summaries,
                         const JsonOptions& options = {});

/// `wedge params --json`: one object per parameter (key, section, type, default, min, max,
/// min_exclusive, range, meaning), one per line.
std::string params_json();

/// `wedge params [FILE] --json`: one object per key of `scenario` (its factions' keys included):
/// key, section, type, default (the default scenario's value, null for a faction it lacks), min,
/// max, min_exclusive, range, meaning, value (in `scenario`); a faction's keys also give faction
/// (its id), faction_name and softens (true for the faction Shigemitsu's softening moves).
std::string params_json(const agents::Scenario& scenario);

/// `wedge params [FILE]`: the factions, then every key of `scenario` by section with its value in
/// force, valid range and meaning.
void print_params(std::FILE* out, const agents::Scenario& scenario);

/// The outcome table, one section per design point.
void print_table(std::FILE* out, const Experiment& experiment,
                 const std::vector<engine::Summary>& summaries);

/// Number of leading categories of categorical field `field` worth showing for the experiment
/// (round fields stop at the largest negotiation.rounds of its points).
std::size_t categories_shown(const Experiment& experiment, std::size_t field);

}  // namespace wedge::experiments
