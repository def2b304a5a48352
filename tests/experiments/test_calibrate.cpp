// History matching (experiments/calibrate.hpp): histories and their errors, the [calibrate] table,
// posteriors with known answers (likelihoods given in closed form, with and without refinement
// stages), the Monte Carlo intervals against the estimates' actual spread, and the model itself:
// histories simulated at a known theta*, whose posterior intervals must cover theta* at their
// level.
#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "engine/rng.hpp"
#include "experiments/calibrate.hpp"
#include "experiments/calibrate_report.hpp"
#include "experiments/loader.hpp"
#include "experiments/session.hpp"
#include "temp_dir.hpp"

#include <boost/random/binomial_distribution.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace wedge;
using namespace wedge::experiments;

namespace {

Experiment prior(const std::string& sweep_keys, std::uint64_t seed = 1) {
  ExperimentSource source;
  source.text = "[sweep]\ndesign = \"lhs\"\npoints = 4\n[sweep.keys]\n" + sweep_keys;
  source.seed = seed;
  return resolve(source);
}

/// P(history j | theta) in closed form; counts are n * p rounded (exact), or binomial draws.
using Probabilities = std::function<std::vector<double>(const std::vector<double>& theta)>;

LikelihoodCounter synthetic(Probabilities p, std::uint64_t noise_seed = 0) {
  return [p, noise_seed](const Experiment& stage, std::vector<std::uint64_t>& matches,
                         std::vector<std::uint64_t>& runs) {
    matches.clear();
    runs.assign(stage.points.size(), stage.run.runs);
    engine::Stream rng(
        engine::StreamKey{noise_seed, 17, static_cast<std::uint32_t>(stage.run.seed)});
    for (std::size_t i = 0; i < stage.points.size(); ++i) {
      for (double pj : p(stage.values[i])) {
        if (noise_seed == 0) {
          matches.push_back(
              static_cast<std::uint64_t>(std::llround(pj * static_cast<double>(stage.run.runs))));
        } else {
          matches.push_back(
              static_cast<std::uint64_t>(boost::random::binomial_distribution<std::int64_t>(
                  static_cast<std::int64_t>(stage.run.runs), pj)(rng)));
        }
      }
    }
    return true;
  };
}

CalibrationSettings settings(std::uint64_t points, std::uint64_t runs, std::uint64_t refine = 0) {
  CalibrationSettings s;
  s.histories = {history_1956()};
  s.points = points;
  s.runs = runs;
  s.refine = refine;
  s.draws = 40;
  return s;
}

}  // namespace

TEST_CASE("histories: the command-line syntax and its errors", "[calibrate]") {
  const History h = parse_history(
      "format=declaration, islands_promised = 2|4, threat_round!=0, rounds=3..6, "
      "alignment=0.45..",
      "--history");
  REQUIRE(h.conditions.size() == 5);
  CHECK(h.text() ==
        "format = declaration, islands_promised = 2 | 4, threat_round != 0, rounds = 3..6, "
        "alignment = 0.45..");
  // The conditions on records.
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  agents::RunRecord r;
  r.format = agents::Format::declaration;
  r.islands_promised = 4;
  r.threat_round = 2;
  r.rounds = 5;
  r.alignment = 0.5;
  std::uint16_t cats[engine::MAX_FIELDS];
  double values[engine::MAX_FIELDS];
  agents::TugOfWar::observe(r, cats, values);
  CHECK(h.matches(cats, values));
  for (auto change : {+[](agents::RunRecord& x) { x.threat_round = 0; },
                      +[](agents::RunRecord& x) { x.rounds = 7; },
                      +[](agents::RunRecord& x) { x.alignment = 0.4; },
                      +[](agents::RunRecord& x) { x.islands_promised = 0; },
                      +[](agents::RunRecord& x) { x.format = agents::Format::treaty; }}) {
    agents::RunRecord y = r;
    change(y);
    agents::TugOfWar::observe(y, cats, values);
    CHECK_FALSE(h.matches(cats, values));
  }
  CHECK(history_1956().text() ==
        "format = declaration, islands_promised = 2, islands_transferred = 0, "
        "okinawa = residual, threat_round != 0, alliance = intact");
  CHECK_THROWS_WITH(parse_history("fromat=treaty", "--history"),
                    Catch::Contains("unknown outcome field 'fromat' (did you mean 'format'?"));
  CHECK_THROWS_WITH(
      parse_history("format=peace", "--history"),
      Catch::Contains("format has no category 'peace' (valid: none, declaration, treaty)"));
  CHECK_THROWS_WITH(parse_history("format=1..2", "--history"),
                    Catch::Contains("format has named categories"));
  CHECK_THROWS_WITH(parse_history("alignment=0.5", "--history"),
                    Catch::Contains("alignment is continuous: give a range"));
  CHECK_THROWS_WITH(parse_history("rounds=150..160", "--history"),
                    Catch::Contains("rounds = 150..160: no category"));
  CHECK_THROWS_WITH(parse_history("format", "--history"), Catch::Contains("expected field=value"));
  CHECK_THROWS_WITH(parse_history("format=treaty,,okinawa=residual", "--history"),
                    Catch::Contains("an empty element"));
  CHECK_THROWS_WITH(parse_history("format=treaty,okinawa=residual,format=treaty", "--history"),
                    "--history: 'format=treaty,okinawa=residual,format=treaty': 'format=treaty' "
                    "is given twice; give each condition once");
  CHECK_THROWS_WITH(parse_history("okinawa=residual|residual", "--history"),
                    "--history: 'okinawa=residual|residual': the alternative 'residual' is given "
                    "twice");
  CHECK_THROWS_WITH(parse_history("okinawa!=residual|us_claim", "--history"),
                    Catch::Contains("excludes every category"));
  CHECK_THROWS_AS(parse_history("rounds=a..3", "--history"), ConfigError);
}

TEST_CASE("the calibrate table: values, defaults, overrides and errors", "[calibrate]") {
  test::TempDir dir;
  const auto file = dir.write("c.toml", R"([sweep]
design = "lhs"
points = 4
[sweep.keys]
"dulles.tact" = { min = 0, max = 1 }
[calibrate]
points = 64
runs = 300
refine = 2
[[calibrate.history]]
format = "treaty"
islands_promised = [2, 4]
[[calibrate.history]]
format = "none"
alignment = { min = 0.5 }
[[calibrate.history]]
format = "treaty"
islands_promised = [2, 4]
)");
  // The loader accepts the table (and `wedge run` ignores it).
  CHECK_NOTHROW(load_experiment(file));
  auto s = calibration_settings(file, "", file, {});
  CHECK(s.points == 64);
  CHECK(s.runs == 300);
  CHECK(s.refine == 2);
  CHECK(s.design == Design::sobol);
  REQUIRE(s.histories.size() == 2);  // the repeated observation counts twice
  CHECK(s.histories[0].text() == "format = treaty, islands_promised = 2 | 4");
  CHECK(s.histories[0].count == 2);
  CHECK(s.histories[1].text() == "format = none, alignment = 0.5..");  // as written in the file
  CalibrationOverrides o;
  o.points = 32;
  o.design = "lhs";
  o.histories = {"format=declaration"};
  s = calibration_settings(file, "", file, o);
  CHECK(s.points == 32);
  CHECK(s.design == Design::lhs);
  REQUIRE(s.histories.size() == 1);
  CHECK(s.histories[0].text() == "format = declaration");
  // Without a history anywhere: 1956's.
  s = calibration_settings("", "[calibrate]\npoints = 8\n", "<text>", {});
  CHECK(s.histories.at(0).text() == history_1956().text());

  const auto bad = [&](const std::string& body, const std::string& message) {
    const auto path = dir.write("bad.toml", "[calibrate]\n" + body + "\n");
    CHECK_THROWS_WITH(calibration_settings(path, "", path, {}), Catch::Contains(message));
  };
  bad("pionts = 3", "bad.toml:2:10: unknown key 'pionts' in [calibrate] (did you mean 'points'?");
  bad("points = 1", "bad.toml:2:10: calibrate.points: must be an integer in [2, 100000]");
  bad("design = \"grid\"", "calibrate.design: must be \"sobol\" or \"lhs\"");
  bad("defensive = 0", "calibrate.defensive: must be a number in [0.01, 1]");
  bad("[calibrate.history]\nformat = \"peace\"",
      "bad.toml:3:1: calibrate.history: format has no category 'peace'");
  bad("[calibrate.history]\nalignment = 0.5", "alignment is continuous");
  bad("[calibrate.history]\nrounds = { low = 2 }", "unknown field 'low' (valid: not, min, max)");
  bad("[calibrate.history]\n", "an empty history matches every run");
  CalibrationOverrides grid;
  grid.design = "grid";
  CHECK_THROWS_WITH(calibration_settings("", "", "x", grid),
                    Catch::Contains("--design grid: must be sobol or lhs"));
  // The prior needs ranges.
  CHECK_THROWS_WITH(prior_keys(resolve({})),
                    Catch::Contains("calibrate needs a [sweep] whose keys have min and max"));
  ExperimentSource listed;
  listed.text = "[sweep]\ndesign = \"list\"\n[sweep.keys]\n\"dulles.tact\" = [0.1, 0.2]\n";
  CHECK_THROWS_WITH(prior_keys(resolve(listed)),
                    Catch::Contains("\"dulles.tact\" has a list of values"));
}

TEST_CASE(
    "a likelihood known in closed form gives the known posterior, with and without refinement",
    "[calibrate]") {
  // P(history | t) = t on a uniform prior over [0, 1]: the posterior is Beta(2, 1), with mean
  // 2/3, sd 1/sqrt(18) and quantiles sqrt(q).
  const Experiment e = prior("\"dulles.tact\" = { min = 0, max = 1 }\n");
  const auto p = synthetic([](const std::vector<double>& t) { return std::vector<double>{t[0]}; });
  for (std::uint64_t refine : {0u, 2u}) {
    CAPTURE(refine);
    const auto r = calibrate(e, settings(1024, 1'000'000, refine), p);
    REQUIRE(r.posterior.size() == 1);
    CHECK(r.points.size() == 1024 * (1 + refine));
    // The design of the prior is a Sobol sequence (errors well below the margins); refinement
    // stages are random draws, whose errors are those of importance sampling: 4 standard errors,
    // sd / sqrt(ESS) for the mean, sqrt(q (1 - q) / ESS) / f(t_q) for the quantile q (f(t) = 2t),
    // sd(L / r) / sqrt(N) for the evidence (30 seeds gave rms errors within 10% of these).
    const double ess = r.ess.value, sd = 1.0 / std::sqrt(18.0);
    const double se_mean = refine > 0 ? sd / std::sqrt(ess) : 0.0;
    CHECK(r.posterior[0].mean.value == Approx(2.0 / 3.0).margin(std::max(0.004, 4 * se_mean)));
    CHECK(r.posterior[0].sd.value == Approx(sd).margin(std::max(0.004, 4 * se_mean)));
    for (std::size_t q = 0; q < 5; ++q) {
      const double level = CalibrationResult::QUANTILES[q], at = std::sqrt(level);
      const double se_q = refine > 0 ? std::sqrt(level * (1 - level) / ess) / (2 * at) : 0.0;
      CHECK(r.posterior[0].quantiles[q].value == Approx(at).margin(std::max(0.006, 4 * se_q)));
    }
    double m = 0.0, m2 = 0.0;
    for (const auto& pt : r.points)
      m += pt.likelihood / pt.proposal, m2 += std::pow(pt.likelihood / pt.proposal, 2);
    const auto n_points = static_cast<double>(r.points.size());
    const double se_evidence =
        refine > 0 ? std::sqrt((m2 / n_points - std::pow(m / n_points, 2)) / n_points) : 0.0;
    CHECK(r.evidence.value ==
          Approx(0.5).margin(std::max(0.002, 4 * se_evidence)));  // the mean of t under the prior
    // Refinement puts more points where the likelihood is high.
    if (refine > 0) {
      double late = 0.0;
      std::size_t n = 0;
      for (const auto& pt : r.points) {
        if (pt.stage > 0) late += pt.values[0], ++n;
      }
      CHECK(late / static_cast<double>(n) > 0.55);
    }
    const double total =
        std::accumulate(r.points.begin(), r.points.end(), 0.0,
                        [](double a, const CalibrationPoint& x) { return a + x.weight; });
    CHECK(total == Approx(1.0));
  }
}

TEST_CASE("integer and boolean keys, several keys, and several observations", "[calibrate]") {
  SECTION("an integer key: P(v) proportional to v on 1..10") {
    const Experiment e = prior("\"negotiation.rounds\" = { min = 1, max = 10 }\n");
    const auto p =
        synthetic([](const std::vector<double>& t) { return std::vector<double>{t[0] / 10.0}; });
    for (std::uint64_t refine : {0u, 1u}) {
      const auto r = calibrate(e, settings(500, 1'000'000, refine), p);
      CHECK(r.posterior[0].mean.value == Approx(7.0).margin(0.05));  // sum v^2 / sum v = 385 / 55
      REQUIRE(r.posterior[0].histogram.size() == 10);
      CHECK(r.posterior[0].histogram[9] == Approx(10.0 / 55.0).margin(0.01));
      CHECK(r.posterior[0].edges.front() == 0.5);
    }
  }
  SECTION("a real and a boolean key, independent") {
    const Experiment e =
        prior("\"dulles.tact\" = { min = 0, max = 1 }\n\"soviet.straits_clause\" = {}\n");
    const auto p = synthetic([](const std::vector<double>& t) {
      return std::vector<double>{t[0] * (t[1] > 0.5 ? 0.6 : 0.2)};
    });
    for (std::uint64_t refine : {0u, 1u}) {
      const auto r = calibrate(e, settings(1024, 1'000'000, refine), p);
      CHECK(r.posterior[0].mean.value == Approx(2.0 / 3.0).margin(0.01));
      CHECK(r.posterior[1].mean.value == Approx(0.75).margin(0.01));  // 0.6 / (0.6 + 0.2)
    }
  }
  SECTION("three successes and two failures: Beta(4, 3)") {
    const Experiment e = prior("\"dulles.tact\" = { min = 0, max = 1 }\n");
    CalibrationOverrides o;
    o.histories = {"format=treaty", "format=none", "format=treaty", "format=none", "format=treaty"};
    auto s = calibration_settings("", "", "test", o);
    REQUIRE(s.histories.size() == 2);
    CHECK(s.histories[0].count == 3);
    s.points = 1024;
    s.runs = 1'000'000;
    s.draws = 40;
    const auto p = synthetic([](const std::vector<double>& t) {
      return std::vector<double>{t[0], 1.0 - t[0]};
    });
    for (std::uint64_t refine : {0u, 2u}) {
      s.refine = refine;
      const auto r = calibrate(e, s, p);
      CHECK(r.posterior[0].mean.value == Approx(4.0 / 7.0).margin(0.005));
      CHECK(r.posterior[0].sd.value == Approx(std::sqrt(12.0 / 392.0)).margin(0.005));
      CHECK(r.evidence.value == Approx(1.0 / 60.0).margin(0.0005));  // B(4, 3)
    }
  }
}

TEST_CASE("the Monte Carlo intervals match the spread of the estimates over repeated calibrations",
          "[calibrate]") {
  // Binomial counts from 150 runs per point: the posterior mean varies from one set of counts to
  // the next. Its 90% Monte Carlo interval should cover the noise-free value about 90% of the
  // time, and its width match the estimates' actual spread.
  const Experiment e = prior("\"dulles.tact\" = { min = 0, max = 1 }\n");
  const auto exact =
      calibrate(e, settings(256, 1'000'000), synthetic([](const std::vector<double>& t) {
                  return std::vector<double>{0.2 + 0.6 * t[0]};
                }));
  const double truth = exact.posterior[0].mean.value;
  constexpr int REPEATS = 60;
  int covered = 0;
  std::vector<double> estimates, widths;
  for (int rep = 0; rep < REPEATS; ++rep) {
    auto s = settings(256, 150);
    s.draws = 100;
    const auto r = calibrate(
        e, s,
        synthetic(
            [](const std::vector<double>& t) { return std::vector<double>{0.2 + 0.6 * t[0]}; },
            1000 + static_cast<std::uint64_t>(rep)));
    const auto& m = r.posterior[0].mean;
    covered += m.mc_low <= truth && truth <= m.mc_high ? 1 : 0;
    estimates.push_back(m.value);
    widths.push_back(m.mc_high - m.mc_low);
  }
  const double mean = std::accumulate(estimates.begin(), estimates.end(), 0.0) / REPEATS;
  double var = 0.0;
  for (double x : estimates) var += (x - mean) * (x - mean);
  const double sd = std::sqrt(var / (REPEATS - 1));
  const double width = std::accumulate(widths.begin(), widths.end(), 0.0) / REPEATS;
  CAPTURE(covered, sd, width);
  // 90% coverage: SE = sqrt(0.09 / 60) = 0.039; 3 SE either side.
  CHECK(covered >= static_cast<int>(REPEATS * (0.9 - 3 * 0.039)));
  // A 90% normal interval is 3.29 sd wide; the sample sd of 60 estimates is within ~30% at 3 SE.
  CHECK(width / (3.29 * sd) == Approx(1.0).margin(0.35));
}

TEST_CASE(
    "histories simulated from the model at a known theta*: the posterior covers theta* at its "
    "level",
    "[calibrate][model]") {
  // Simulation-based calibration (Talts et al. 2018): theta* drawn from the prior, twelve runs of
  // the model at theta* observed (their format and whether a threat was issued), the posterior
  // computed from the engine's counts. Over replications, a central interval of level c must
  // cover theta* in a share c of cases, and the posterior must be narrower than the prior (else
  // coverage would hold trivially).
  const std::string keys =
      "\"dulles.threat_strength\" = { min = 0, max = 2 }\n\"soviet.four_island_prob\" = { min = 0, "
      "max = 0.5 }\n";
  constexpr int REPLICATIONS = 40;
  constexpr int OBSERVED = 12;
  int in90 = 0, in50 = 0, total = 0;
  double sd_ratio = 0.0;
  engine::Stream draw(engine::StreamKey{77, 5, 0});
  for (int rep = 0; rep < REPLICATIONS; ++rep) {
    const Experiment e = prior(keys, 100 + static_cast<std::uint64_t>(rep));
    const std::vector<double> truth{2.0 * draw.uniform(), 0.5 * draw.uniform()};
    agents::Scenario s = e.base;
    s.dulles.threat_strength = truth[0];
    s.soviet.four_island_prob = truth[1];
    std::vector<agents::RunRecord> observed(OBSERVED);
    agents::run_block(s, 9000 + static_cast<std::uint64_t>(rep), 0, 0, OBSERVED, observed.data());
    CalibrationOverrides o;
    for (const auto& r : observed) {
      o.histories.push_back(
          "format=" + std::string(agents::FORMAT_NAMES[static_cast<std::size_t>(r.format)]) +
          (r.threat_round > 0 ? ",threat_round!=0" : ",threat_round=0"));
    }
    auto settings = calibration_settings("", "", "sbc", o);
    settings.points = 128;
    settings.runs = 1000;
    settings.refine =
        static_cast<std::uint64_t>(rep % 2);  // half the replications with a refinement stage
    settings.refine_points = 64;
    settings.draws = 20;
    const auto r = calibrate(e, settings, model_counter(settings.histories, 0, nullptr, true));
    REQUIRE(r.posterior.size() == 2);
    for (std::size_t k = 0; k < 2; ++k) {
      const auto& q = r.posterior[k].quantiles;
      in90 += q[0].value <= truth[k] && truth[k] <= q[4].value ? 1 : 0;
      in50 += q[1].value <= truth[k] && truth[k] <= q[3].value ? 1 : 0;
      ++total;
    }
    sd_ratio += r.posterior[0].sd.value / (2.0 / std::sqrt(12.0));
  }
  CAPTURE(in90, in50, total, sd_ratio / REPLICATIONS);
  // Binomial standard errors of the coverage over 80 (correlated by pairs) intervals: 0.034 and
  // 0.056.
  CHECK(static_cast<double>(in90) / total == Approx(0.9).margin(3 * 0.034 + 0.01));
  CHECK(static_cast<double>(in50) / total == Approx(0.5).margin(3 * 0.056 + 0.01));
  CHECK(sd_ratio / REPLICATIONS < 0.8);
}

TEST_CASE("a calibration is deterministic, on any thread count, and its JSON says so",
          "[calibrate][model]") {
  const Experiment e = prior(
      "\"dulles.threat_strength\" = { min = 0, max = 2 }\n\"dulles.tact\" = { min = 0, max = 1 }\n",
      5);
  auto s = settings(32, 500, 1);
  s.refine_points = 16;
  const auto json = [&](unsigned threads) {
    auto r = calibrate(e, s, model_counter(s.histories, threads, nullptr, true));
    r.seconds = 0.0;
    return calibration_json(r);
  };
  const std::string one = json(1);
  CHECK(one == json(2));
  CHECK(one.find("\"design_points\": [{\"stage\": 0, \"values\": [") != std::string::npos);
  CHECK(one.find("\"history\": \"format = declaration, islands_promised = 2") != std::string::npos);
  engine::CancelToken cancel;
  cancel.request();
  const auto stopped = calibrate(e, s, model_counter(s.histories, 1, &cancel, true));
  CHECK(stopped.interrupted);
  CHECK(stopped.posterior.empty());
}

TEST_CASE("the loader checks the calibrate table, so validate and run refuse a bad one",
          "[calibrate]") {
  test::TempDir dir;
  const std::string head =
      "[sweep]\ndesign = \"lhs\"\npoints = 4\n[sweep.keys]\n\"dulles.tact\" = { min = 0, max = 1 "
      "}\n";
  CHECK_NOTHROW(load_experiment(dir.write(
      "good.toml", head + "[calibrate]\npoints = 8\n[calibrate.history]\nformat = \"treaty\"\n")));
  const auto bad = dir.write("bad.toml", head + "[calibrate]\npont = 8\n");
  CHECK_THROWS_WITH(
      load_experiment(bad),
      Catch::Contains("bad.toml:7:8: unknown key 'pont' in [calibrate] (did you mean 'points'?"));
  const auto field = dir.write("field.toml", head + "[calibrate.history]\nformt = \"treaty\"\n");
  CHECK_THROWS_WITH(load_experiment(field),
                    Catch::Contains("unknown outcome field 'formt' (did you mean 'format'?"));
  const auto problems = experiment_problems(bad, {});
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("unknown key 'pont'") != std::string::npos);
}
