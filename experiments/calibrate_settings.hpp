#pragma once
/// Observed histories and the settings of a calibration (docs/calibration.md): what `wedge
/// calibrate` matches runs against and how it designs its stages, read from the [calibrate] table
/// of an experiment file and from command-line or Python overrides. Implemented in
/// experiments/calibrate_table.cpp, which needs neither the engine's runner nor HDF5.
#include "experiments/experiment.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wedge::experiments {

/// One element of a history: a field of the run record (MODEL.md §5) restricted to some of its
/// categories (categorical fields) or to an interval (continuous fields).
struct Condition {
  std::string field;
  bool categorical = true;
  std::size_t index = 0;  ///< the field's position among the record's categorical/continuous fields
  std::vector<bool> allowed;    ///< categorical: allowed[c] for category index c
  double min = 0.0, max = 0.0;  ///< continuous: the closed interval
  std::string text;             ///< as written back: "format = declaration", "threat_round != 0"

  /// Whether a record (its category indices and values, TugOfWar::observe) satisfies it.
  bool matches(const std::uint16_t* categories, const double* values) const noexcept {
    if (categorical) return allowed[categories[index]];
    return values[index] >= min && values[index] <= max;
  }
};

/// An observed history: every condition holds in the same run (a joint event). `count` identical,
/// independent observations of it (a synthetic data set may hold several).
struct History {
  std::vector<Condition> conditions;
  std::uint64_t count = 1;
  /// "format = declaration, islands_promised = 2, ..."
  std::string text() const;
  bool matches(const std::uint16_t* categories, const double* values) const noexcept {
    for (const auto& c : conditions) {
      if (!c.matches(categories, values)) return false;
    }
    return true;
  }
};

/// Parses a history written as on the command line: comma-separated elements `field=value`,
/// `field=a|b` (any of), `field!=value` or `field!=a|b` (none of), `field=lo..hi` (numeric
/// categories or continuous fields, either bound may be left out). `where` prefixes errors
/// (ConfigError naming the element, the field's valid categories, did-you-mean for field names).
History parse_history(std::string_view text, const std::string& where);

/// What happened in 1956 (docs/calibration.md): a joint declaration, two islands promised and
/// none transferred, Okinawa under residual sovereignty, an Okinawa threat issued, the alliance
/// intact: "format=declaration,islands_promised=2,islands_transferred=0,okinawa=residual,
/// threat_round!=0,alliance=intact".
History history_1956();

/// How to calibrate ([calibrate] of an experiment file; command-line and Python arguments
/// override it).
struct CalibrationSettings {
  std::vector<History> histories;   ///< independent observed histories (default: history_1956())
  Design design = Design::sobol;    ///< the first stage's design of the prior: sobol or lhs
  std::uint64_t points = 256;       ///< design points of the first stage, [2, 100000]
  std::uint64_t runs = 2000;        ///< runs per design point, [1, 10^7]
  std::uint64_t refine = 0;         ///< refinement stages, [0, 10]
  std::uint64_t refine_points = 0;  ///< points per refinement stage (0: `points`)
  double defensive = 0.1;           ///< share of the prior in each refinement proposal, [0.01, 1]
  std::uint64_t draws = 200;        ///< Monte Carlo draws of the likelihoods, [20, 100000]
  std::uint64_t top = 10;           ///< most likely points reported, [1, 1000]
};

/// Overrides of the [calibrate] settings (unset: the file's, else the defaults).
struct CalibrationOverrides {
  std::vector<std::string> histories;  ///< each parsed by parse_history; they replace the file's
  std::optional<std::string> design;   ///< "sobol" or "lhs"
  std::optional<std::uint64_t> points, runs, refine, refine_points, draws, top;
  std::optional<double> defensive;
};

/// The settings of an experiment file's [calibrate] table (`file`, or TOML `text` named `name`
/// when `file` is empty), with `overrides` applied and every value checked (ConfigError naming
/// file, line, key and valid range).
CalibrationSettings calibration_settings(const std::string& file, const std::string& text,
                                         const std::string& name,
                                         const CalibrationOverrides& overrides);

}  // namespace wedge::experiments
