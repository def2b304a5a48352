#pragma once
/// The validation targets of MODEL.md §7 (V1-V7 on the baseline; the directional
/// counterfactuals C1, C2, C3, C4, C7 as paired differences with the baseline on the same random
/// streams), each with its estimate, 99% interval and verdict: `wedge check` prints them
/// (experiments/check.hpp) and tests/agents/test_validation.cpp asserts them, through these same
/// functions, so the command and the tests cannot drift.
///
/// Statistics (MODEL.md §7 asks for the 99% level): a proportion's interval is Wilson's score
/// interval (engine::wilson, z = 2.5758); a counterfactual's effect is the mean paired difference
/// d_r = 1[cf run r] - 1[baseline run r] over replicates r that share their random stream (common
/// random numbers), with the normal interval mean +- z sd(d)/sqrt(n). A condition passes when its
/// whole interval satisfies it (e.g. "P >= 0.55" needs the lower end >= 0.55).
#include "agents/scenario.hpp"
#include "engine/cancel.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wedge::agents {

/// Two-sided standard-normal quantile for the 99% intervals of MODEL.md §7.
inline constexpr double Z99 = 2.5758293035489004;

/// Most replicates per scenario `wedge check` runs (the paired differences keep one byte per run
/// and scenario: at most 8 scenarios x 10^7 = 80 MB).
inline constexpr std::uint64_t MAX_CHECK_RUNS = 10'000'000;

/// One condition of a target: a quantity, its estimate and 99% interval, what it must satisfy.
struct CheckCondition {
  std::string quantity;   ///< e.g. "P(declaration)", "change in P(treaty)"
  double estimate = 0.0;  ///< a probability, or a difference of probabilities
  double low = 0.0;       ///< 99% interval
  double high = 0.0;
  std::string requirement;  ///< e.g. ">= 0.55", "above P(treaty)'s interval"
  bool pass = false;
};

enum class Verdict { pass, fail, not_applicable };

/// "pass", "fail", "not applicable".
const char* verdict_name(Verdict v);

/// One target of MODEL.md §7.
struct CheckTarget {
  std::string id;           ///< "V1" ... "V7", "C1", "C2", "C3", "C4", "C7"
  std::string description;  ///< MODEL.md's wording
  std::string changes;      ///< a C target's change, as --set assignments ("" for V targets)
  std::vector<CheckCondition> conditions;  ///< estimated in every case, judged only when it applies
  Verdict verdict = Verdict::not_applicable;
  std::string why_not;  ///< for not_applicable: why the target does not apply
};

struct CheckOptions {
  std::uint64_t runs = 1'000'000;  ///< replicates of the V targets' scenario, [1, MAX_CHECK_RUNS]
  std::uint64_t paired_runs = 0;   ///< replicates of each C pair (0 = runs), <= runs
  std::uint64_t seed = 1;
  /// Judge the scenario as if it were the baseline: V1-V7 on it, and each C target's change
  /// applied on top of it (to ask whether a modified model still meets MODEL.md's targets).
  bool as_baseline = false;
  const engine::CancelToken* cancel = nullptr;
  /// Only these targets (e.g. {"V1"} or {"C2"}), running only the scenarios they need; empty: all.
  std::vector<std::string> only;
};

/// The targets in MODEL.md's order (V1-V7, C1, C2, C3, C4, C7), estimated on `scenario`:
///  - V targets apply when `scenario` is the baseline (every key at its default, the five
///    default factions) or with as_baseline;
///  - a C target applies when `scenario` is the baseline (or as_baseline), or is exactly the
///    baseline with that target's change (its counterfactual); it then compares the counterfactual
///    with the baseline, run by run.
/// Runs runs x (1 + number of C targets) replicates (one more scenario when `scenario` is none of
/// them), all on common random numbers with `seed`. Throws ConfigError for runs out of range or an
/// invalid scenario; Interrupted if `cancel` is requested.
std::vector<CheckTarget> run_check(const agents::Scenario& scenario, const CheckOptions& options);

/// True if every applicable target passed.
bool all_pass(const std::vector<CheckTarget>& targets);

/// True if `a` and `b` have the same factions (ids, order, softening faction) and every key equal.
bool same_scenario(const agents::Scenario& a, const agents::Scenario& b);

}  // namespace wedge::agents
