// MODEL.md §7: the validation targets of the baseline (V1-V7) and the directional counterfactuals
// (C1-C4, C7), as statistical tests at the 99% level with a fixed seed. The targets, their
// statistics (Wilson intervals for proportions; paired differences for counterfactuals, which share
// streams with the baseline run by run) and their verdicts are agents::run_check's, the same code
// `wedge check` runs (agents/validation.hpp); here they are asserted.
#include "agents/params.hpp"
#include "agents/validation.hpp"

#include <catch2/catch.hpp>

using namespace wedge;
using agents::CheckTarget;
using agents::Scenario;
using agents::Verdict;

namespace {

constexpr std::uint64_t SEED = 19560819;  // Dulles meets Shigemitsu in London
constexpr std::uint64_t BASELINE_RUNS = 1'000'000;
constexpr std::uint64_t PAIRED_RUNS = 300'000;

/// Target `id` on the baseline: V targets on BASELINE_RUNS runs, a C target as a pair of
/// PAIRED_RUNS runs (each test case is its own process under ctest, so each runs only its own).
CheckTarget target(std::string_view id) {
  agents::CheckOptions options;
  options.runs = id.front() == 'V' ? BASELINE_RUNS : PAIRED_RUNS;
  options.seed = SEED;
  options.only = {std::string(id)};
  const auto targets = agents::run_check(Scenario{}, options);
  REQUIRE(targets.size() == 1);
  REQUIRE(targets[0].id == id);
  return targets[0];
}

void require_pass(std::string_view id) {
  const auto t = target(id);
  for (const auto& c : t.conditions) {
    INFO(t.id << " " << c.quantity << " = " << c.estimate << " [" << c.low << ", " << c.high
              << "] must be " << c.requirement);
    CHECK(c.pass);
  }
  CHECK(t.verdict == Verdict::pass);
}

}  // namespace

TEST_CASE("every target of MODEL.md section 7 is checked, in order", "[validation]") {
  agents::CheckOptions options;
  options.runs = 2000;
  options.seed = SEED;
  std::vector<std::string> ids;
  for (const auto& t : agents::run_check(Scenario{}, options)) ids.push_back(t.id);
  CHECK(ids == std::vector<std::string>{"V1", "V2", "V3", "V4", "V5", "V6", "V7", "C1", "C2", "C3",
                                        "C4", "C7"});
  // A selection runs and returns only its targets; their estimates are those of the full check
  // (the same streams: common random numbers, replicate by replicate).
  options.only = {"V7", "C3"};
  const auto some = agents::run_check(Scenario{}, options);
  REQUIRE(some.size() == 2);
  CHECK(some[0].id == "V7");
  CHECK(some[1].id == "C3");
  options.only.clear();
  const auto all = agents::run_check(Scenario{}, options);
  CHECK(some[0].conditions[0].estimate == all[6].conditions[0].estimate);
  CHECK(some[1].conditions[0].estimate == all[9].conditions[0].estimate);
}

TEST_CASE("V1: the declaration is the most frequent format, P >= 0.55", "[validation]") {
  require_pass("V1");
}
TEST_CASE("V2: P(treaty) <= 0.25", "[validation]") { require_pass("V2"); }
TEST_CASE("V3: P(alliance intact) >= 0.80 and P(any rupture) <= 0.01", "[validation]") {
  require_pass("V3");
}
TEST_CASE("V4: P(okinawa = us_claim) <= 0.05", "[validation]") { require_pass("V4"); }
TEST_CASE("V5: the median number of rounds is between 3 and 6", "[validation]") {
  require_pass("V5");
}
TEST_CASE("V6: among declarations, two islands promised is the most frequent value",
          "[validation]") {
  require_pass("V6");
}
TEST_CASE("V7: an Okinawa threat is issued in 30-65% of runs", "[validation]") {
  require_pass("V7");
}
TEST_CASE("C1: without the straits clause P(treaty) rises, by less than 0.15", "[validation]") {
  require_pass("C1");
}
TEST_CASE("C2: without the Okinawa threat P(treaty) rises by >= 0.1 and P(declaration) falls",
          "[validation]") {
  require_pass("C2");
}
TEST_CASE("C3: with weak US rewards P(alliance intact) falls", "[validation]") {
  require_pass("C3");
}
TEST_CASE("C4: heavy tactless coercion lowers P(treaty) and raises P(strained or rupture)",
          "[validation]") {
  require_pass("C4");
}
TEST_CASE("C7: a credible four-island offer raises P(treaty) by at least 0.1", "[validation]") {
  require_pass("C7");
}

TEST_CASE("check: which targets apply, and a failing one fails", "[validation]") {
  agents::CheckOptions options;
  options.runs = 20'000;
  options.seed = SEED;
  // C2's counterfactual: only C2 applies (compared with the baseline), and it passes.
  Scenario no_threat;
  agents::apply_assignment(no_threat, "dulles.threat_strength=0");
  const auto c2 = agents::run_check(no_threat, options);
  for (const auto& t : c2) {
    INFO(t.id);
    CHECK(t.verdict == (t.id == "C2" ? Verdict::pass : Verdict::not_applicable));
    CHECK((t.verdict == Verdict::not_applicable) == !t.why_not.empty());
  }
  CHECK(agents::all_pass(c2));
  // Judged as the baseline, the same scenario never threatens: V7 fails (P = 0), so check fails.
  options.as_baseline = true;
  const auto as_base = agents::run_check(no_threat, options);
  const auto& v7 = as_base[6];
  REQUIRE(v7.id == "V7");
  CHECK(v7.verdict == Verdict::fail);
  CHECK(v7.conditions[0].estimate == 0.0);
  CHECK_FALSE(agents::all_pass(as_base));
  // A scenario that is none of them: nothing applies.
  Scenario other;
  agents::apply_assignment(other, "dulles.tact=0.5");
  for (const auto& t : agents::run_check(other, {20'000, 0, SEED, false, nullptr, {}})) {
    CHECK(t.verdict == Verdict::not_applicable);
  }
  CHECK_THROWS_WITH(agents::run_check(other, {0, 0, SEED, false, nullptr, {}}),
                    "--runs 0: wedge check takes 1 to 10000000 runs");
}
