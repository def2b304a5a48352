// Paired comparison (experiments/compare.hpp): each side equals its own run, the pairs do not
// depend on threads or buffering, a scenario against itself differs by exactly zero, the statistics
// of a joint table by hand, the paired interval's coverage on pairs with a known difference, and
// the errors of resolve_pair.
#include "engine/error.hpp"
#include "engine/rng.hpp"
#include "experiments/compare.hpp"
#include "experiments/session.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <thread>

using namespace wedge;
using namespace wedge::experiments;

namespace {

ExperimentSource scenario(const std::string& text, std::uint64_t runs = 0, std::uint64_t seed = 0) {
  ExperimentSource s;
  s.text = text;
  if (runs > 0) s.runs = runs;
  if (seed > 0) s.seed = seed;
  return s;
}

const std::string BASELINE = "description = \"baseline\"\n";
const std::string NO_THREAT = "description = \"no threat\"\n[dulles]\nthreat_strength = 0.0\n";

std::size_t field_index(const Comparison& c, const std::string& name) {
  return static_cast<std::size_t>(c.a.categorical_index(name));
}

}  // namespace

TEST_CASE(
    "each side of a comparison equals its own run, and pairs do not depend on threads or buffering",
    "[compare]") {
  const auto [a, b] = resolve_pair(scenario(BASELINE, 20000, 5), scenario(NO_THREAT));
  CHECK(b.run.runs == 20000);  // A's runs and seed on both sides
  CHECK(b.run.seed == 5);
  CompareOptions one;
  one.threads = 1;
  one.max_lead_blocks = 1;
  CompareOptions two;
  two.threads = 2;
  two.max_lead_blocks = 64;
  const Comparison c1 = compare(a, b, one);
  const Comparison c2 = compare(a, b, two);
  CHECK_FALSE(c1.interrupted);
  CHECK(c1.pairs_done == 20000);
  CHECK(c1.joint == c2.joint);
  for (std::size_t j = 0; j < c1.differences.size(); ++j)
    CHECK(c1.differences[j].raw() == c2.differences[j].raw());
  CHECK(c1.a == c2.a);
  CHECK(c1.b == c2.b);

  Session alone_a(a, {});
  Session alone_b(b, {});
  CHECK(alone_a.execute().summaries.front() == c1.a);
  CHECK(alone_b.execute().summaries.front() == c1.b);

  // Every joint table's margins are the sides' own counts.
  for (std::size_t f = 0; f < c1.joint.size(); ++f) {
    const auto counts_a = c1.a.counts(f);
    const auto counts_b = c1.b.counts(f);
    const std::size_t k = counts_a.size();
    for (std::size_t i = 0; i < k; ++i) {
      std::uint64_t row = 0, col = 0;
      for (std::size_t j = 0; j < k; ++j) {
        row += c1.joint[f][i * k + j];
        col += c1.joint[f][j * k + i];
      }
      CHECK(row == counts_a[i]);
      CHECK(col == counts_b[i]);
    }
  }
  // Removing the threat raises P(treaty) (MODEL.md §7, C2), and pairing narrows the interval.
  const std::size_t format = field_index(c1, "format");
  const auto treaty = category_difference(c1.joint[format], 3, 2, c1.pairs_done);
  CHECK(treaty.diff > 0.1);
  CHECK(treaty.paired_high - treaty.paired_low < treaty.unpaired_high - treaty.unpaired_low);
  CHECK(treaty.variance_ratio > 1.5);
}

TEST_CASE(
    "a scenario compared with itself differs by exactly zero, with zero-width paired intervals",
    "[compare]") {
  const auto [a, b] = resolve_pair(scenario(NO_THREAT, 10000, 2), scenario(NO_THREAT));
  const Comparison c = compare(a, b);
  for (std::size_t f = 0; f < c.joint.size(); ++f) {
    const std::size_t k = c.a.counts(f).size();
    for (std::size_t i = 0; i < k; ++i) {
      const auto d = category_difference(c.joint[f], k, i, c.pairs_done);
      CHECK(d.diff == 0.0);
      CHECK(d.paired_low == 0.0);
      CHECK(d.paired_high == 0.0);
      CHECK(d.a_only + d.b_only == 0);
      if (d.p_a > 0.0 && d.p_a < 1.0) {
        CHECK(std::isinf(d.variance_ratio));
        CHECK(d.unpaired_high > 0.0);
      }
    }
  }
  for (std::size_t j = 0; j < c.differences.size(); ++j) {
    const auto m = mean_difference(c, j);
    CHECK(m.diff == 0.0);
    CHECK(m.paired_low == 0.0);
    CHECK(m.paired_high == 0.0);
  }
}

TEST_CASE("the paired difference of a joint table, by hand", "[compare]") {
  // 10 pairs, 2 categories; rows A's category, columns B's: A = 0 in 4 pairs, B = 0 in 7.
  const std::vector<std::uint64_t> joint{3, 1, 4, 2};
  const auto d = category_difference(joint, 2, 0, 10);
  CHECK(d.p_a == Approx(0.4));
  CHECK(d.p_b == Approx(0.7));
  CHECK(d.both == 3);
  CHECK(d.a_only == 1);
  CHECK(d.b_only == 4);
  CHECK(d.diff == Approx(0.3));
  // d_r: +1 four times, -1 once, 0 five times: mean 0.3, sample variance (5 - 10 * 0.09) / 9.
  const double paired_se = std::sqrt((5.0 - 0.9) / 9.0 / 10.0);
  CHECK(d.paired_se == Approx(paired_se));
  CHECK(d.paired_low == Approx(0.3 - engine::Z95 * paired_se));
  CHECK(d.paired_high == Approx(0.3 + engine::Z95 * paired_se));
  const double unpaired_se = std::sqrt((10.0 * 0.4 * 0.6 + 10.0 * 0.7 * 0.3) / 9.0 / 10.0);
  CHECK(d.unpaired_se == Approx(unpaired_se));
  CHECK(d.variance_ratio == Approx(unpaired_se * unpaired_se / (paired_se * paired_se)));
  CHECK(d.a_interval.low == engine::wilson(4, 10).low);
  CHECK(d.b_interval.high == engine::wilson(7, 10).high);
  // The other category mirrors it.
  const auto other = category_difference(joint, 2, 1, 10);
  CHECK(other.diff == Approx(-0.3));
  CHECK(other.paired_se == Approx(paired_se));
  CHECK_THROWS_AS(category_difference(joint, 3, 0, 10), std::invalid_argument);
}

TEST_CASE("the paired interval covers a known difference 95% of the time",
          "[compare][statistics]") {
  // Pairs with P(A = c) = 0.30 and P(B = c) = 0.45, positively correlated (B follows A's uniform
  // 80% of the time): true difference 0.15. 2,000 experiments of 300 pairs; coverage within four
  // standard errors of 0.95 (sqrt(0.95 * 0.05 / 2000) = 0.0049).
  const int experiments = 2000;
  const std::uint64_t n = 300;
  int covered_paired = 0, covered_unpaired = 0;
  double paired_width = 0.0, unpaired_width = 0.0;
  for (int e = 0; e < experiments; ++e) {
    engine::Stream stream({20240611, static_cast<std::uint32_t>(e), 0});
    std::vector<std::uint64_t> joint(4, 0);
    for (std::uint64_t r = 0; r < n; ++r) {
      const double u = stream.uniform();
      const double v = stream.bernoulli(0.8) ? u : stream.uniform();
      const bool a = u < 0.30;
      const bool b = v < 0.45;
      ++joint[(a ? 0u : 1u) * 2 + (b ? 0u : 1u)];
    }
    const auto d = category_difference(joint, 2, 0, n);
    covered_paired += d.paired_low <= 0.15 && 0.15 <= d.paired_high;
    covered_unpaired += d.unpaired_low <= 0.15 && 0.15 <= d.unpaired_high;
    paired_width += d.paired_high - d.paired_low;
    unpaired_width += d.unpaired_high - d.unpaired_low;
  }
  const double coverage = static_cast<double>(covered_paired) / experiments;
  CHECK(std::abs(coverage - 0.95) < 4 * 0.0049);
  // Ignoring the pairing makes the interval wider than it needs to be: it over-covers.
  CHECK(static_cast<double>(covered_unpaired) / experiments > 0.98);
  CHECK(paired_width < 0.8 * unpaired_width);
}

TEST_CASE("compare refuses sweeps and precision mode, and ignores the run settings of B",
          "[compare]") {
  const std::string sweep =
      "[sweep]\ndesign = \"list\"\n[sweep.keys]\n\"dulles.tact\" = [0.3, 0.9]\n";
  CHECK_THROWS_WITH(resolve_pair(scenario(sweep), scenario(BASELINE)),
                    Catch::Contains("A (<experiment>) is a list sweep with 2 design points") &&
                        Catch::Contains("compare takes two single-point scenarios"));
  CHECK_THROWS_WITH(resolve_pair(scenario(BASELINE), scenario(sweep)),
                    Catch::Contains("B (<experiment>) is a list"));
  CHECK_THROWS_WITH(resolve_pair(scenario("[run]\nprecision = 0.01\n"), scenario(BASELINE)),
                    Catch::Contains("precision"));
  const auto [a, b] =
      resolve_pair(scenario(BASELINE), scenario("[run]\nruns = 7\nseed = 9\nprecision = 0.01\n"));
  CHECK(b.run.runs == a.run.runs);
  CHECK(b.run.seed == a.run.seed);
  CHECK_FALSE(b.run.precision.has_value());
  // Sides of different runs or seeds are not pairs.
  Experiment other = b;
  other.run.seed = a.run.seed + 1;
  CHECK_THROWS_AS(compare(a, other), ConfigError);
  // Bad overrides fail as they do for `wedge run`.
  ExperimentSource bad = scenario(BASELINE);
  bad.sets = {"dulles.tact=1.4"};
  CHECK_THROWS_WITH(resolve_pair(scenario(BASELINE), bad),
                    Catch::Contains("dulles.tact = 1.4: must be [0, 1]"));
}

TEST_CASE("a cancelled comparison stops both sides", "[compare]") {
  const auto [a, b] = resolve_pair(scenario(BASELINE, 100000, 1), scenario(NO_THREAT));
  engine::CancelToken before;
  before.request();
  const Comparison none = compare(a, b, {}, &before);
  CHECK(none.interrupted);
  CHECK(none.pairs_done == 0);

  // Cancelled while running, with the smallest lead bound (one side may be waiting for the other):
  // both stop at a wave boundary and the call returns. 2^30 pairs would take minutes.
  const auto [big_a, big_b] = resolve_pair(scenario(BASELINE, 1ull << 30, 1), scenario(NO_THREAT));
  CompareOptions tight;
  tight.max_lead_blocks = 1;
  engine::CancelToken token;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    token.request();
  });
  const Comparison partial = compare(big_a, big_b, tight, &token);
  canceller.join();
  CHECK(partial.interrupted);
  CHECK(partial.pairs_done < (1ull << 30));
}
