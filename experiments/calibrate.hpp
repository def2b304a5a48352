#pragma once
/// History matching (`wedge calibrate`, `wedge.calibrate`; docs/calibration.md): which parameter
/// sets θ make an observed history likely. The likelihood P(history | θ) of a design point is
/// estimated from its runs as k/n, the share of runs whose record matches every element of the
/// history (a joint event, counted run by run as the records stream past: no record is kept). Over
/// a design of the prior (uniform on the swept keys' [min, max]) the posterior is represented by
/// importance weights prior × likelihood / proposal; optional refinement stages draw further
/// points from a kernel mixture around the weighted points and correct the weights for it
/// (deterministic-mixture weights, Owen & Zhou 2000). Each estimate's Monte Carlo error is
/// propagated to every summary by redrawing the likelihoods from their posteriors given the counts.
#include "engine/cancel.hpp"
#include "engine/progress.hpp"
#include "experiments/experiment.hpp"

#include <cstdint>
#include <functional>
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
  std::string
      where;  ///< where it was written, for errors ("--history", "file:3:1: calibrate.history")

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
/// A field may be given twice only if both can hold at once (`rounds=2..,rounds=..5`);
/// `format=declaration,format=treaty` is refused: no run could match it.
History parse_history(std::string_view text, const std::string& where);

/// Refuses a history that no run of `e`'s prior can match (ConfigError at the condition's
/// `where`): a round field beyond every negotiation.rounds of the prior (`rounds=99` with 8
/// rounds), a threat round when dulles.threat_strength is 0 throughout, a Shigemitsu round with no
/// softening faction, alignment outside [0, 1] or reward_total below 0 (MODEL.md §2, §5).
/// calibrate() calls it before any run.
void check_possible(const Experiment& e, const std::vector<History>& histories);

/// The valid ranges of the calibration settings ([calibrate] keys, `wedge calibrate` options,
/// wedge.calibrate() arguments; the command line writes `refine_points` as --refine-points).
inline constexpr IntegerRange CALIBRATE_POINTS_RANGE{"points", 2, 100'000};
inline constexpr IntegerRange CALIBRATE_RUNS_RANGE{"runs", 1, 10'000'000};
inline constexpr IntegerRange CALIBRATE_REFINE_RANGE{"refine", 0, 10};
inline constexpr IntegerRange CALIBRATE_REFINE_POINTS_RANGE{"refine_points", 2, 100'000};
inline constexpr IntegerRange CALIBRATE_DRAWS_RANGE{"draws", 20, 100'000};
inline constexpr IntegerRange CALIBRATE_TOP_RANGE{"top", 1, 1000};
inline constexpr RealRange CALIBRATE_DEFENSIVE_RANGE{"defensive", 0.01, 1.0};

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
  /// Who gives them, for the words of errors: the command line ("--runs 0: ...", "--history")
  /// or Python's wedge.calibrate() ("runs = 0: ...", "history").
  enum class Caller { command_line, python } caller = Caller::command_line;
};

/// The settings of an experiment file's [calibrate] table (`file`, or TOML `text` named `name`
/// when `file` is empty), with `overrides` applied and every value checked (ConfigError naming
/// file, line, key and valid range).
CalibrationSettings calibration_settings(const std::string& file, const std::string& text,
                                         const std::string& name,
                                         const CalibrationOverrides& overrides);

/// A swept key as a prior: uniform on [min, max]; integer keys uniform on the integers in it,
/// booleans on {false, true}.
struct PriorKey {
  std::string key;
  enum class Kind { real, integer, boolean } kind = Kind::real;
  double min = 0.0, max = 1.0;
};

/// The prior of an experiment: its [sweep] keys with their ranges. ConfigError if it has no
/// swept keys or a key has no min/max.
std::vector<PriorKey> prior_keys(const Experiment& e);

/// An estimate and its 90% Monte Carlo interval (5% and 95% of the redrawn estimates).
struct Estimate {
  double value = 0.0;
  double mc_low = 0.0;
  double mc_high = 0.0;
};

/// One evaluated design point.
struct CalibrationPoint {
  std::uint32_t stage = 0;             ///< 0: the design of the prior; 1, 2, ...: refinements
  std::vector<double> values;          ///< θ, one per prior key
  std::uint64_t runs = 0;              ///< n
  std::vector<std::uint64_t> matches;  ///< k, one per history
  double likelihood = 0.0;             ///< Π_j (k_j / n)^count_j
  double se = 0.0;  ///< its standard error (binomial; delta method for several histories)
  double mc_low = 0.0,
         mc_high = 0.0;   ///< 90% interval of the likelihood from the redrawn estimates
  double proposal = 1.0;  ///< the stages' mixture density relative to the prior at θ
  double weight = 0.0;    ///< posterior weight (sums to 1)
};

/// The posterior of one key.
struct KeyPosterior {
  Estimate mean, sd;
  std::vector<Estimate> quantiles;  ///< at CalibrationResult::QUANTILES
  std::vector<double> edges;        ///< marginal histogram: bin edges (discrete keys: value ± 1/2)
  std::vector<double> histogram;    ///< posterior mass per bin
};

struct CalibrationResult {
  static constexpr double QUANTILES[] = {0.05, 0.25, 0.5, 0.75, 0.95};
  std::string source;  ///< the experiment file
  std::uint64_t seed = 0;
  CalibrationSettings settings;
  std::vector<PriorKey> keys;
  std::vector<CalibrationPoint> points;  ///< every stage's points, in order
  std::vector<KeyPosterior> posterior;   ///< one per key
  Estimate evidence;                     ///< P(histories) under the prior (the mean likelihood)
  Estimate ess;                          ///< Kish's effective sample size of the weights
  std::vector<std::size_t> best;         ///< the most likely points (indices into points)
  std::uint64_t runs_total = 0;
  std::uint64_t zero_points = 0;  ///< points where some history never occurred
  bool interrupted = false;       ///< stopped by the cancellation token (no posterior)
  double seconds = 0.0;
};

/// Estimates P(history | θ) at the points of one stage: the design points of `stage_experiment`
/// (a resolved experiment: base scenario, design points, runs, seed). Returns matches[p * H + j]
/// (runs of point p matching history j) and runs[p]; false if cancelled.
using LikelihoodCounter =
    std::function<bool(const Experiment& stage_experiment, std::vector<std::uint64_t>& matches,
                       std::vector<std::uint64_t>& runs)>;

/// The engine's counter: runs each stage as a Session (no file) with a record sink that counts
/// the matching runs per design point. `threads` 0 = all cores; progress on stderr unless `quiet`.
LikelihoodCounter model_counter(const std::vector<History>& histories, unsigned threads,
                                const engine::CancelToken* cancel, bool quiet);

/// Calibrates the prior of `e` (prior_keys) on `settings.histories`: stages of design points
/// evaluated by `count`, the importance weights, and every summary with its Monte Carlo interval.
/// Deterministic for a given experiment (seed) and settings. `on_stage` (may be null) is told of
/// each stage before it runs (stage, points).
CalibrationResult calibrate(const Experiment& e, const CalibrationSettings& settings,
                            const LikelihoodCounter& count,
                            const std::function<void(std::uint32_t, std::uint64_t)>& on_stage = {});

}  // namespace wedge::experiments
