#pragma once
/// A resolved experiment: the design points (each a full Scenario), the swept keys' values, and
/// how to run it.
#include "agents/scenario.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wedge::experiments {

/// How to run an experiment ([run] in a file; command-line flags override).
struct RunSettings {
  std::uint64_t runs = 1'000'000;  ///< replicates per design point
  std::uint64_t seed = 1;          ///< master seed
  bool crn = false;                ///< common random numbers across design points
  std::optional<double> precision; ///< 95% half-width target (precision mode)
  std::uint64_t max_runs = 10'000'000;  ///< replicate cap per point in precision mode
};

struct Experiment {
  std::string source;                       ///< file it came from ("" = built-in baseline)
  std::vector<std::string> swept_keys;      ///< keys varied across points
  std::vector<agents::Scenario> points;     ///< one scenario per design point
  std::vector<std::vector<double>> values;  ///< values[p][k]: swept key k at point p
  RunSettings run;

  /// The baseline scenario as a one-point experiment.
  static Experiment baseline() {
    Experiment e;
    e.points.emplace_back();
    e.values.emplace_back();
    return e;
  }
};

}  // namespace wedge::experiments
