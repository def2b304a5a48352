#pragma once
/// An experiment: a base scenario, how to run it, and an optional sweep (a design over scenario
/// keys). Resolving it gives the design points, each a full Scenario.
#include "agents/scenario.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wedge::experiments {

/// How to run an experiment ([run] in a file; command-line flags override).
struct RunSettings {
  std::uint64_t runs = 1'000'000;        ///< replicates per design point
  std::uint64_t seed = 1;                ///< master seed
  bool crn = false;                      ///< common random numbers across design points
  std::optional<double> precision;       ///< 95% half-width target (precision mode)
  std::uint64_t max_runs = 10'000'000;   ///< replicate cap per point in precision mode
};

enum class Design { single, grid, lhs, sobol, saltelli, list };

/// Most design points an experiment may have (each point's summary takes ~4 KB of memory).
inline constexpr std::uint64_t MAX_DESIGN_POINTS = 1'000'000;

/// The design's name as written in files ("grid", ...; "single" = no sweep).
const char* design_name(Design d);

/// One swept key: explicit values (grid, list) or a range (lhs, sobol, saltelli, grid steps).
struct SweepKey {
  std::string key;
  std::vector<double> values;  ///< grid: the values; list: one per point
  double min = 0.0;
  double max = 0.0;
  std::uint64_t steps = 0;     ///< grid: evenly spaced values from min to max (0 = use values)
  bool has_range = false;
};

struct Sweep {
  Design design = Design::single;
  std::uint64_t points = 0;  ///< lhs, sobol, saltelli: number of (base) points
  std::vector<SweepKey> keys;
  std::string csv;           ///< list: a CSV file of points (absolute path once loaded)
};

struct Experiment {
  std::string source;               ///< the file it came from ("" = built-in baseline)
  std::string description;          ///< the file's `description`, if any
  agents::Scenario base;            ///< every key not swept
  RunSettings run;
  Sweep sweep;

  // Resolved by resolve_design():
  std::vector<std::string> swept_keys;      ///< keys varied across points, in sweep order
  std::vector<agents::Scenario> points;     ///< one scenario per design point
  std::vector<std::vector<double>> values;  ///< values[p][k]: swept key k at point p

};

/// Generates the design points from `e.base` and `e.sweep` (and, for lhs, `e.run.seed`), and
/// validates every point. Throws ConfigError naming the point and key of the first bad value.
void resolve_design(Experiment& e);

}  // namespace wedge::experiments
