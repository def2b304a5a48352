#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "load_error.hpp"
#include "temp_dir.hpp"

#include <toml++/toml.h>
#include <catch2/catch.hpp>

using namespace wedge;
using namespace wedge::experiments;
using Catch::Contains;
using Catch::EndsWith;
using Catch::StartsWith;

namespace {
const std::string SCENARIOS = WEDGE_SOURCE_DIR "/experiments/scenarios";
const std::string SWEEPS = WEDGE_SOURCE_DIR "/experiments/sweeps";

bool same_scenario(const agents::Scenario& a, const agents::Scenario& b) {
  for (const auto& p : agents::parameters()) {
    if (p.get(a) != p.get(b)) return false;
  }
  return true;
}

Experiment resolved(const std::string& path) {
  Experiment e = load_experiment(path);
  resolve_design(e);
  return e;
}
}  // namespace

TEST_CASE("baseline.toml holds every key of MODEL.md section 4 at its default", "[loader]") {
  const Experiment e = resolved(SCENARIOS + "/baseline.toml");
  CHECK(same_scenario(e.base, agents::Scenario{}));
  REQUIRE(e.points.size() == 1);
  CHECK(e.run.runs == 1'000'000);
  CHECK(e.run.seed == 1);
  // Every key is written in the file itself, not left to the built-in defaults.
  const toml::table file = toml::parse_file(SCENARIOS + "/baseline.toml");
  for (const auto& p : agents::parameters()) {
    INFO(p.key);
    CHECK(file.at_path(p.key));
  }
}

TEST_CASE("every shipped scenario and sweep loads and resolves", "[loader]") {
  for (const char* name :
       {"c1_no_straits_clause", "c2_no_okinawa_threat", "c3_weak_rewards", "c4_tactless_coercion",
        "c7_four_island_offer", "rewards_only", "molotov_dominant", "no_fisheries_pressure",
        "strong_hatoyama", "tactful_coercion", "no_shigemitsu_softening"}) {
    const Experiment e = resolved(SCENARIOS + "/" + name + ".toml");
    CHECK(e.points.size() == 1);
    CHECK_FALSE(e.description.empty());
    CHECK_FALSE(same_scenario(e.base, agents::Scenario{}));
  }
  const Experiment c4 = resolved(SCENARIOS + "/c4_tactless_coercion.toml");
  CHECK(c4.base.dulles.threat_strength == 2.0);
  CHECK(c4.base.dulles.tact == 0.0);
  CHECK(c4.base.dulles.reward_power == 1.0);  // inherited
  CHECK(resolved(SWEEPS + "/threat_rewards_grid.toml").points.size() == 12);
  CHECK(resolved(SWEEPS + "/coercion_lhs.toml").points.size() == 64);
  CHECK(resolved(SWEEPS + "/wedge_sobol.toml").points.size() == 64);
  CHECK(resolved(SWEEPS + "/binding_saltelli.toml").points.size() == 32 * 5);
  const Experiment list = resolved(SWEEPS + "/cabinet_list.toml");
  REQUIRE(list.points.size() == 4);
  CHECK(list.points[2].hatoyama.fall_switch_round == 4);
  CHECK(list.points[3].hatoyama.fall_hazard_late == 0.6);
}

TEST_CASE("extends chains apply parents first, with paths relative to each file", "[loader]") {
  test::TempDir dir;
  dir.write("a/root.toml", "[dulles]\ntact = 0.1\nbacklash = 0.2\n[run]\nseed = 3\n");
  dir.write("b/middle.toml", "extends = \"../a/root.toml\"\n[dulles]\ntact = 0.5\n");
  const auto leaf = dir.write("c/leaf.toml", "extends = \"../b/middle.toml\"\n[run]\nruns = 10\n");
  const Experiment e = resolved(leaf);
  CHECK(e.base.dulles.tact == 0.5);
  CHECK(e.base.dulles.backlash == 0.2);
  CHECK(e.run.seed == 3);
  CHECK(e.run.runs == 10);
  const auto absolute = dir.write("abs.toml", "extends = \"" + dir.path("a/root.toml") + "\"\n");
  CHECK(resolved(absolute).base.dulles.tact == 0.1);
}

TEST_CASE("the resolved experiment round-trips through TOML", "[loader]") {
  test::TempDir dir;
  for (const std::string& path :
       {SCENARIOS + "/c4_tactless_coercion.toml", SWEEPS + "/threat_rewards_grid.toml",
        SWEEPS + "/coercion_lhs.toml", SWEEPS + "/binding_saltelli.toml",
        SWEEPS + "/cabinet_list.toml"}) {
    Experiment e = load_experiment(path);
    apply_overrides(e, {"alliance.drift_sd=0.04", "japan.factions.PUB.weight=0.2"});
    e.run.precision = 0.01;
    resolve_design(e);
    const auto copy_path = dir.write("copy.toml", to_toml(e));
    const Experiment back = resolved(copy_path);
    INFO(path);
    CHECK(same_scenario(back.base, e.base));
    CHECK(back.run.runs == e.run.runs);
    CHECK(back.run.seed == e.run.seed);
    CHECK(back.run.crn == e.run.crn);
    CHECK(back.run.precision == e.run.precision);
    CHECK(back.description == e.description);
    CHECK(back.swept_keys == e.swept_keys);
    REQUIRE(back.points.size() == e.points.size());
    CHECK(back.values == e.values);
    CHECK(to_toml(back) == to_toml(e));
  }
}

TEST_CASE("overrides apply to the base and refuse swept keys", "[loader]") {
  Experiment e = load_experiment(SWEEPS + "/threat_rewards_grid.toml");
  apply_overrides(e, {"dulles.tact=0.9"});
  resolve_design(e);
  for (const auto& p : e.points) CHECK(p.dulles.tact == 0.9);
  CHECK_THROWS_WITH(apply_overrides(e, {"dulles.threat_strength=1"}),
                    Contains("'dulles.threat_strength' is swept"));
}

namespace {
std::string error_of(const std::string& text, const std::string& name = "bad.toml") {
  return test::load_error(text, name);
}
}  // namespace

TEST_CASE("every bad input names file, line, column, key, value and what is allowed", "[loader]") {
  CHECK(error_of("[dulles]\ntact = 1.4\n") == "bad.toml:2:8: dulles.tact = 1.4: must be [0, 1]");
  CHECK(error_of("[dulles]\ntcat = 0.4\n") ==
        "bad.toml:2:1: unknown key 'dulles.tcat' (did you mean 'dulles.tact'?)");
  CHECK_THAT(error_of("[dulless]\ntact = 0.4\n"),
             StartsWith("bad.toml:1:2: unknown section [dulless] (did you mean [dulles]?"));
  CHECK_THAT(error_of("[dulles\n"), StartsWith("bad.toml:1:8: invalid TOML"));
  CHECK_THAT(error_of("\x01\x02\xff\xfe garbage"),
             StartsWith("bad.toml:1:") && Contains("invalid TOML"));
  CHECK_THAT(error_of(""), StartsWith("bad.toml: the file is empty"));
  CHECK(error_of("[negotiation]\nrounds = 8.5\n") ==
        "bad.toml:2:10: negotiation.rounds: 8.5 is not an integer; must be an integer in [1, 100]");
  CHECK(error_of("[soviet]\nstraits_clause = 1\n") ==
        "bad.toml:2:18: soviet.straits_clause: must be true or false");
  CHECK(error_of("[dulles]\ntact = \"high\"\n") ==
        "bad.toml:2:8: dulles.tact = 'high': must be a number, [0, 1]");
  CHECK(error_of("[dulles]\ntact = nan\n") == "bad.toml:2:8: dulles.tact = nan: must be [0, 1]");
  CHECK(error_of("[japan]\ndamage_treaty = inf\n") ==
        "bad.toml:2:17: japan.damage_treaty = inf: must be a finite number >= 0");
  CHECK(error_of("[run]\nruns = -5\n") ==
        "bad.toml:2:8: run.runs = -5: must be an integer in [1, 4294967296]");
  CHECK(error_of("[run]\nruns = 99999999999999\n") ==
        "bad.toml:2:8: run.runs = 99999999999999: must be an integer in [1, 4294967296]");
  CHECK_THAT(error_of("[run]\nrnus = 5\n"),
             StartsWith("bad.toml:2:1: unknown key 'rnus' in [run] (did you mean 'runs'?"));
  CHECK_THAT(error_of("[japan.factions.HK]\nweight = 0\n[japan.factions.SG]\nweight = 0\n"
                      "[japan.factions.YS]\nweight = 0\n[japan.factions.PUB]\nweight = 0\n"
                      "[japan.factions.FISH]\nweight = 0\n"),
             Contains("sum to 0"));
  CHECK_THAT(
      error_of("[japan.factions.XX]\nweight = 1\n"),
      StartsWith(
          "bad.toml:1:17: [japan.factions.XX]: a new faction needs weight, min_islands, territory, "
          "side, alliance and okinawa (missing: min_islands,"));
  CHECK_THAT(error_of("[dulles]\ncredibility_min = 0.7\n"),
             Contains("dulles.credibility_max = 0.6: must be >= dulles.credibility_min (0.7)"));
  CHECK_THAT(error_of("tact = 0.3\n"),
             StartsWith("bad.toml:1:1: unknown key 'tact' (did you mean 'dulles.tact'?"));
}

TEST_CASE("non-ASCII text is fine in strings and comments, located elsewhere", "[loader]") {
  test::TempDir dir;
  const auto ok = dir.write(
      "ok.toml",
      "description = \"T\u014dky\u014d, \u041c\u043e\u043b\u043e\u0442\u043e\u0432\"\n"
      "# D\u00e9claration commune\n[dulles]\ntact = 0.3 # Dull\u00e8s\n[run]\nseed = 2\n");
  CHECK(load_experiment(ok).run.seed == 2);
  CHECK(error_of("description = '''x \u014d'''\n[dulles]\nt\u00e4ct = 0.3\n") ==
        "bad.toml:3:2: invalid TOML: a non-ASCII character outside a string or comment");
}

TEST_CASE("sweep errors are located and explained", "[loader]") {
  const std::string head = "[sweep]\ndesign = \"grid\"\n[sweep.keys]\n";
  CHECK(error_of(head + "\"dulles.tact\" = { min = 0.9, max = 0.1, steps = 3 }\n") ==
        "bad.toml:4:25: sweep.keys.\"dulles.tact\": min = 0.9 is above max = 0.1");
  CHECK(error_of(head + "\"dulles.tcat\" = [0.1]\n") ==
        "bad.toml:4:1: unknown key 'dulles.tcat' (did you mean 'dulles.tact'?)");
  CHECK(error_of(head + "\"dulles.tact\" = [0.1, 1.5]\n") ==
        "bad.toml:4:23: dulles.tact = 1.5: must be [0, 1]");
  CHECK(error_of(head + "\"dulles.tact\" = [0.1, 0.1]\n") ==
        "bad.toml:4:17: sweep.keys.\"dulles.tact\": a grid value is given twice");
  CHECK(error_of(head + "\"dulles.tact\" = []\n") ==
        "bad.toml:4:17: sweep.keys.\"dulles.tact\": the list of values is empty");
  CHECK_THAT(error_of(head + "\"dulles.tact\" = { min = 0.1, max = 0.9 }\n"),
             Contains("a grid range needs steps"));
  CHECK_THAT(error_of(head + "\"negotiation.rounds\" = { min = 1, max = 4, steps = 3 }\n"),
             Contains("step value 2.5 is not an integer; must be an integer in [1, 100]"));
  CHECK_THAT(error_of("[sweep]\ndesign = \"gird\"\n"),
             Contains("sweep.design = \"gird\": must be one of grid, lhs, sobol, saltelli, list "
                      "(did you mean 'grid'?)"));
  // A suggestion only for a close word: "magic" is not a misspelt "grid".
  CHECK_THAT(error_of("[sweep]\ndesign = \"magic\"\n[sweep.keys]\n\"dulles.tact\" = [0.1]\n"),
             EndsWith("sweep.design = \"magic\": must be one of grid, lhs, sobol, saltelli, list"));
  CHECK_THAT(
      error_of(
          "[sweep]\ndesign = \"lhs\"\n[sweep.keys]\n\"dulles.tact\" = { min = 0.0, max = 1.0 }\n"),
      Contains("a lhs design needs points = N"));
  CHECK_THAT(
      error_of("[sweep]\ndesign = \"lhs\"\npoints = 4\n[sweep.keys]\n\"dulles.tact\" = [0.1]\n"),
      Contains("a lhs design needs { min = ..., max = ... }"));
  CHECK_THAT(error_of("[sweep]\ndesign = \"list\"\n[sweep.keys]\n\"dulles.tact\" = [0.1, "
                      "0.2]\n\"dulles.backlash\" = [0.1]\n"),
             Contains("every key needs one value per point"));
  CHECK_THAT(error_of("[sweep]\ndesign = \"grid\"\n"), Contains("[sweep] has no keys"));
  // The same key twice is a TOML error (a table key defined twice).
  CHECK_THAT(error_of(head + "\"dulles.tact\" = [0.1]\n\"dulles.tact\" = [0.2]\n"),
             Contains("invalid TOML"));
  // A bad combination at one design point names the point.
  CHECK_THAT(
      error_of(head + "\"dulles.credibility_min\" = [0.1, 0.9]\n"),
      Contains("design point 1 (dulles.credibility_min = 0.9): dulles.credibility_max = 0.6"));
}

TEST_CASE("extends errors: missing file, cycle, not a string", "[loader]") {
  CHECK_THAT(error_of("extends = \"nothere.toml\"\n"),
             StartsWith("bad.toml:1:11: extends = \"nothere.toml\": no such file"));
  CHECK_THAT(error_of("extends = 3\n"), StartsWith("bad.toml:1:11: extends: must be a file name"));
  test::TempDir dir;
  dir.write("x.toml", "extends = \"y.toml\"\n");
  dir.write("y.toml", "extends = \"x.toml\"\n");
  CHECK_THROWS_WITH(load_experiment(dir.path("x.toml")), Contains("cyclic extends"));
  CHECK_THROWS_WITH(load_experiment(dir.root().string()), Contains("is a directory"));
  CHECK_THROWS_WITH(load_experiment(dir.path("none.toml")), Contains("cannot open"));
}

TEST_CASE("CSV design points: header of keys, one row per point, located errors", "[loader]") {
  test::TempDir dir;
  dir.write("pts.csv", "dulles.tact,negotiation.rounds\n0.1,4\n0.2,6\n");
  const auto ok = dir.write("ok.toml", "[sweep]\ndesign = \"list\"\ncsv = \"pts.csv\"\n");
  const Experiment e = resolved(ok);
  REQUIRE(e.points.size() == 2);
  CHECK(e.points[1].negotiation.rounds == 6);
  dir.write("bad.csv", "dulles.tact,negotiation.rounds\n0.1,4\n0.2,6.5\n");
  const auto bad = dir.write("bad.toml", "[sweep]\ndesign = \"list\"\ncsv = \"bad.csv\"\n");
  CHECK_THROWS_WITH(load_experiment(bad),
                    Contains("bad.csv:3:5: negotiation.rounds: 6.5 is not an integer"));
  dir.write("short.csv", "dulles.tact,negotiation.rounds\n0.1\n");
  const auto s = dir.write("short.toml", "[sweep]\ndesign = \"list\"\ncsv = \"short.csv\"\n");
  CHECK_THROWS_WITH(load_experiment(s), Contains("short.csv:2:1: 1 values for 2 keys"));
  dir.write("unknown.csv", "dulles.tcat\n0.1\n");
  const auto u = dir.write("unknown.toml", "[sweep]\ndesign = \"list\"\ncsv = \"unknown.csv\"\n");
  CHECK_THROWS_WITH(load_experiment(u), Contains("unknown.csv:1:1: unknown key 'dulles.tcat'"));
  // Every problem of the CSV, each with its line and column, and those of the experiment file
  // too: the CSV is read although the experiment file has problems (a missing CSV is reported
  // where the experiment names it).
  dir.write("two.csv", "dulles.tact,negotiation.rounds\n0.1,4\nabc,6\n0.2,1.7\n");
  const auto two =
      dir.write("two.toml", "[run]\nrunz = 5\n[sweep]\ndesign = \"list\"\ncsv = \"two.csv\"\n");
  const auto problems = experiment_problems(two, {});
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0], StartsWith(two + ":2:1: unknown key 'runz' in [run]"));
  CHECK_THAT(problems[1], Contains("two.csv:3:1: dulles.tact = 'abc': not a number"));
  CHECK_THAT(problems[2], Contains("two.csv:4:5: negotiation.rounds: 1.7 is not an integer"));
  const auto gone = dir.write("gone.toml", "[sweep]\ndesign = \"list\"\ncsv = \"gone.csv\"\n");
  CHECK_THROWS_WITH(load_experiment(gone),
                    StartsWith(gone + ":3:7: sweep.csv: ") && Contains("gone.csv: cannot open"));
}

TEST_CASE("experiment_differences names each key that differs with both values, as written") {
  Experiment a = parse_experiment("[run]\nruns = 100\n", "a.toml");
  Experiment b = a;
  agents::require_parameter(b.base, "dulles.tact").set(b.base, 0.9);
  b.run.seed = 5;
  const auto diff = experiment_differences(to_toml(a), to_toml(b), "the file", "this run");
  REQUIRE(diff.size() == 2);
  // Shortest round-trip numbers (toml++ itself prints 0.29999999999999999), in key order.
  CHECK(diff[0] == "dulles.tact: 0.3 in the file, 0.9 in this run");
  CHECK(diff[1] == "run.seed: 1 in the file, 5 in this run");
  CHECK(experiment_differences_text(diff) ==
        "; the keys that differ: dulles.tact: 0.3 in the file, 0.9 in this run; run.seed: 1 in "
        "the file, 5 in this run");
  CHECK(experiment_differences_text(diff, 1) ==
        "; the keys that differ: dulles.tact: 0.3 in the file, 0.9 in this run (and 1 more)");
  // A key on one side only; a quoted sweep key; the same text: none; not TOML: none.
  CHECK(experiment_differences("[sweep.keys]\n\"dulles.tact\" = { min = 0.0, max = 1.0 }\n",
                               "[sweep.keys]\n\"dulles.tact\" = { min = 0.0, max = 2.0 }\nx = 1\n",
                               "A", "B") ==
        std::vector<std::string>{"sweep.keys.\"dulles.tact\".max: 1.0 in A, 2.0 in B",
                                 "sweep.keys.x: absent in A, 1 in B"});
  CHECK(experiment_differences(to_toml(a), to_toml(a), "A", "B").empty());
  CHECK(experiment_differences("[run\n", to_toml(a), "A", "B").empty());
  CHECK(experiment_differences_text({}).empty());
}
