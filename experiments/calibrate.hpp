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
#include "experiments/calibrate_settings.hpp"
#include "experiments/experiment.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wedge::experiments {

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
