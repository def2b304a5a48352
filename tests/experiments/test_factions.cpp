// Japan's factions as data (README, "Japan's factions"): experiment files add, change, remove and
// replace factions; --set and sweeps reach any faction's attributes; the stored experiment
// round-trips them; the default five give the same bits as before.
#include "../error_text.hpp"
#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "experiments/report.hpp"
#include "experiments/session.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

using namespace wedge;
using namespace wedge::experiments;
using Catch::Contains;

namespace {

const std::string SCENARIOS = WEDGE_SOURCE_DIR "/experiments/scenarios";

/// The JSP of with_socialists.toml, as a faction table.
const std::string JSP =
    "[japan.factions.JSP]\nname = \"Japan Socialist Party\"\nweight = 0.2\nmin_islands = 0\n"
    "territory = 0.3\nside = 0.9\nalliance = 0.0\nokinawa = 0.4\n";

Experiment from_text(const std::string& text, std::vector<std::string> sets = {}) {
  ExperimentSource source;
  source.text = text;
  source.text_name = "f.toml";
  source.sets = std::move(sets);
  source.runs = 4096;
  return resolve(source);
}

std::string error_of(const std::string& text, std::vector<std::string> sets = {}) {
  return test::error_text<ConfigError>([&] { from_text(text, std::move(sets)); }, "(no error)");
}

std::vector<std::string> ids(const agents::Scenario& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.japan.factions.count; ++i)
    out.emplace_back(s.japan.labels.id_of(i));
  return out;
}

/// Every key of both scenarios (their factions' included), their ids, names and softening faction.
bool same_scenario(const agents::Scenario& a, const agents::Scenario& b) {
  if (ids(a) != ids(b) || a.japan.factions.softens != b.japan.factions.softens) return false;
  for (std::size_t i = 0; i < a.japan.factions.count; ++i) {
    if (a.japan.labels.name_of(i) != b.japan.labels.name_of(i)) return false;
  }
  for (const auto& p : agents::parameters(a)) {
    if (p.get(a) != p.get(b)) return false;
  }
  return true;
}

std::vector<engine::Summary> run(const Experiment& e) {
  SessionOptions o;
  o.threads = 2;
  Session session(e, o);
  return session.execute().summaries;
}

}  // namespace

TEST_CASE("a file adds, changes, removes and replaces factions", "[factions]") {
  const Experiment soc = from_text(JSP);
  CHECK(ids(soc.base) == std::vector<std::string>{"HK", "SG", "YS", "PUB", "FISH", "JSP"});
  CHECK(soc.base.japan.labels.name_of(5) == "Japan Socialist Party");
  CHECK(soc.base.japan.factions.list[5].side == 0.9);
  CHECK(soc.base.japan.factions.softens == 1);

  const Experiment changed = from_text("[japan.factions.YS]\nweight = 0.5\nname = \"Yoshida\"\n");
  CHECK(changed.base.japan.factions.list[2].weight == 0.5);
  CHECK(changed.base.japan.factions.list[2].alliance == 1.0);  // the rest stays
  CHECK(changed.base.japan.labels.name_of(2) == "Yoshida");

  // Removing a faction before the softening one moves the index; removing that one leaves none.
  const Experiment no_hk = from_text("[japan.factions.HK]\nremove = true\n");
  CHECK(ids(no_hk.base) == std::vector<std::string>{"SG", "YS", "PUB", "FISH"});
  CHECK(no_hk.base.japan.factions.softens == 0);
  CHECK(no_hk.base.japan.factions.list[0].weight == 0.25);
  const Experiment no_sg = from_text("[japan.factions.SG]\nremove = true\n");
  CHECK(no_sg.base.japan.factions.softens == -1);
  CHECK(ids(no_sg.base) == std::vector<std::string>{"HK", "YS", "PUB", "FISH"});

  // Another faction softens (at most one: the earlier one stops).
  const Experiment pub = from_text("[japan.factions.PUB]\nsoftens = true\n");
  CHECK(pub.base.japan.factions.softens == 3);
  CHECK(from_text("[japan.factions.SG]\nsoftens = false\n").base.japan.factions.softens == -1);

  // replace: only the file's factions, in the file's order (not toml++'s sorted order).
  const Experiment two =
      from_text("[japan.factions]\nreplace = true\n" + JSP +
                "[japan.factions.B]\nweight = 1\nmin_islands = 4\nterritory = 1\nside = 0\n"
                "alliance = 1\nokinawa = 1\nsoftens = true\n");
  CHECK(ids(two.base) == std::vector<std::string>{"JSP", "B"});
  CHECK(two.base.japan.factions.softens == 1);
  CHECK(two.base.japan.labels.name_of(1).empty());

  // In an extends chain the child's tables apply to the parent's factions.
  test::TempDir dir;
  const auto parent = dir.write("parent.toml", JSP);
  const auto child =
      dir.write("child.toml", "extends = \"parent.toml\"\n[japan.factions.JSP]\nweight = 0.4\n");
  const Experiment chained = load_experiment(child);
  CHECK(chained.base.japan.factions.count == 6);
  CHECK(chained.base.japan.factions.list[5].weight == 0.4);
  CHECK(chained.base.japan.factions.list[5].okinawa == 0.4);
}

TEST_CASE("bad faction tables get exact, located errors", "[factions]") {
  CHECK(error_of("[japan.factions.JSP]\nweight = 0.2\nwieght = 3\n") ==
        "f.toml:3:1: unknown key 'japan.factions.JSP.wieght' (did you mean "
        "'japan.factions.JSP.weight'? valid: "
        "weight, min_islands, territory, side, alliance, okinawa, name, softens, remove)");
  CHECK(error_of("[japan.factions.HK]\nokinwa = 3\n") ==
        "f.toml:2:1: unknown key 'japan.factions.HK.okinwa' (did you mean "
        "'japan.factions.HK.okinawa'? valid: "
        "weight, min_islands, territory, side, alliance, okinawa, name, softens, remove)");
  CHECK(error_of("[japan.factions.JSP]\nweight = 0.2\nside = 1\n") ==
        "f.toml:1:17: [japan.factions.JSP]: a new faction needs weight, min_islands, territory, "
        "side, alliance and "
        "okinawa (missing: min_islands, territory, alliance, okinawa; the scenario's factions: HK, "
        "SG, YS, PUB, FISH)");
  CHECK(error_of("[japan.factions.\"a.b\"]\nweight = 1\n") ==
        "f.toml:1:17: [japan.factions.a.b]: a faction id is 1 to 31 characters, each a letter, a "
        "digit, '_' or '-' "
        "(and not 'replace')");
  CHECK(error_of("[japan.factions.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456]\nweight = 1\n") ==
        "f.toml:1:17: [japan.factions.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456]: a faction id is 1 to 31 "
        "characters, "
        "each a letter, a digit, '_' or '-' (and not 'replace')");
  CHECK(error_of("[japan.factions.FISH]\nsoftens = true\n[japan.factions.SG]\nsoftens = true\n") ==
        "f.toml:4:11: japan.factions.SG.softens: at most one faction softens under Shigemitsu, and "
        "japan.factions.FISH has softens = true already");
  CHECK(error_of("[japan.factions.SOC]\nremove = true\n") ==
        "f.toml:1:17: [japan.factions.SOC]: remove = true, but the scenario has no faction 'SOC' "
        "(factions: HK, "
        "SG, YS, PUB, FISH)");
  CHECK(error_of("[japan.factions.HK]\nremove = true\nweight = 1\n") ==
        "f.toml:2:10: japan.factions.HK: remove = true takes no other keys");
  CHECK(error_of("[japan.factions.HK]\nremove = 1\n") ==
        "f.toml:2:10: japan.factions.HK.remove: must be true or false");
  CHECK(error_of("[japan.factions.HK]\nsoftens = \"yes\"\n") ==
        "f.toml:2:11: japan.factions.HK.softens: must be true or false");
  CHECK(error_of("[japan.factions.HK]\nname = 3\n") ==
        "f.toml:2:8: japan.factions.HK.name: must be a string");
  CHECK(error_of("[japan.factions.HK]\nname = \"" + std::string(64, 'x') + "\"\n") ==
        "f.toml:2:8: japan.factions.HK.name: 64 bytes; at most 63");
  CHECK(error_of("[japan.factions.HK]\nmin_islands = 3\n") ==
        "f.toml:2:15: japan.factions.HK.min_islands = 3: must be 0, 2 or 4");
  CHECK(error_of("[japan.factions.HK]\nweight = -1\n") ==
        "f.toml:2:10: japan.factions.HK.weight = -1: must be >= 0");
  CHECK(error_of("[japan]\nfactions = \"replace\"\n") ==
        "f.toml:2:12: japan.factions = \"replace\": TOML cannot also hold [japan.factions.<id>] "
        "tables under a "
        "string; write `replace = true` in [japan.factions] instead");
  CHECK(error_of("[japan]\nfactions = 3\n") ==
        "f.toml:2:12: japan.factions: must be a table: [japan.factions] replace = true, and "
        "[japan.factions.<id>] tables");
  CHECK(error_of("[japan.factions]\nreplace = \"yes\"\n") ==
        "f.toml:2:11: japan.factions.replace: must be true or false");
  CHECK(error_of("[japan.factions]\nreplace = true\n") ==
        "f.toml:1:1: japan.factions: replace = true leaves no factions; define at least one "
        "[japan.factions.<id>]");
  CHECK(error_of("[japan.factions]\nreplace = true\n[japan.factions.A]\nweight = 0\nmin_islands = "
                 "0\nterritory = 0\n"
                 "side = 0\nalliance = 0\nokinawa = 0\n") ==
        "f.toml: scenario: japan.factions.*.weight: the faction weights sum to 0; at least one "
        "must be > 0");
  CHECK(error_of("[japan.factions.HK]\nweight = 1\nwieght = 2\n") ==
        "f.toml:3:1: unknown key 'japan.factions.HK.wieght' (did you mean "
        "'japan.factions.HK.weight'? valid: weight, "
        "min_islands, territory, side, alliance, okinawa, name, softens, remove)");

  // At most MAX_FACTIONS: the seventeenth is refused, naming the limit.
  std::string many = "[japan.factions]\nreplace = true\n";
  for (int i = 0; i < 17; ++i) {
    many += fmt::format(
        "[japan.factions.F{}]\nweight = 1\nmin_islands = 0\nterritory = 0\nside = 0\nalliance = 0\n"
        "okinawa = 0\n",
        i);
  }
  CHECK(error_of(many) ==
        "f.toml:115:17: [japan.factions.F16]: a scenario has at most 16 factions, and this one has "
        "16 already (F0, "
        "F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14, F15)");
  CHECK(from_text(many.substr(0, many.rfind("[japan.factions.F16]"))).base.japan.factions.count ==
        16);
}

TEST_CASE("factions: --set and sweeps reach any faction of the scenario, added ones included",
          "[factions]") {
  const Experiment set =
      from_text(JSP, {"japan.factions.JSP.weight=0.3", "japan.factions.HK.side=0.6"});
  CHECK(set.base.japan.factions.list[5].weight == 0.3);
  CHECK(set.base.japan.factions.list[0].side == 0.6);
  CHECK(
      error_of(JSP, {"japan.factions.JPS.weight=0.3"}) ==
      "unknown parameter 'japan.factions.JPS.weight' (did you mean 'japan.factions.JSP.weight'?)");
  CHECK(error_of("[japan.factions.HK]\nremove = true\n", {"japan.factions.HK.weight=0.3"}) ==
        "unknown parameter 'japan.factions.HK.weight' (did you mean 'japan.factions.SG.weight'?)");
  CHECK(error_of(JSP, {"japan.factions.JSP.min_islands=3"}) ==
        "japan.factions.JSP.min_islands = 3: must be 0, 2 or 4");

  const Experiment grid =
      from_text(JSP +
                "[sweep]\ndesign = \"grid\"\n[sweep.keys]\n"
                "\"japan.factions.JSP.weight\" = { min = 0.0, max = 0.4, steps = 3 }\n"
                "\"japan.factions.JSP.min_islands\" = [0, 2]\n");
  REQUIRE(grid.points.size() == 6);
  CHECK(grid.points[5].japan.factions.list[5].weight == 0.4);
  CHECK(grid.points[5].japan.factions.list[5].min_islands == 2);
  CHECK(grid.points[0].japan.factions.list[5].weight == 0.0);
  for (const char* design : {"lhs", "sobol", "saltelli"}) {
    const Experiment e =
        from_text(JSP + fmt::format("[sweep]\ndesign = \"{}\"\npoints = 8\n[sweep.keys]\n"
                                    "\"japan.factions.JSP.side\" = {{ min = 0.5, max = 1.0 }}\n"
                                    "\"japan.factions.SG.weight\" = {{ min = 0.1, max = 0.3 }}\n",
                                    design));
    REQUIRE(e.points.size() >= 8);
    for (std::size_t p = 0; p < e.points.size(); ++p) {
      CHECK(e.points[p].japan.factions.list[5].side == e.values[p][0]);
      CHECK(e.points[p].japan.factions.list[1].weight == e.values[p][1]);
      CHECK(e.values[p][0] >= 0.5);
      CHECK(e.values[p][0] <= 1.0);
    }
  }
  test::TempDir dir;
  dir.write("points.csv", "japan.factions.JSP.okinawa,dulles.tact\n0.1,0.3\n0.9,0.5\n");
  const auto file =
      dir.write("csv.toml", JSP + "[sweep]\ndesign = \"list\"\ncsv = \"points.csv\"\n");
  Experiment csv = load_experiment(file);
  resolve_design(csv);
  REQUIRE(csv.points.size() == 2);
  CHECK(csv.points[1].japan.factions.list[5].okinawa == 0.9);
  dir.write("bad.csv", "japan.factions.JPS.okinawa\n0.1\n");
  const auto bad = dir.write("bad.toml", JSP + "[sweep]\ndesign = \"list\"\ncsv = \"bad.csv\"\n");
  CHECK_THROWS_WITH(load_experiment(bad),
                    Contains("bad.csv:1:1: unknown key 'japan.factions.JPS.okinawa' in the header "
                             "(did you mean 'japan.factions.JSP.okinawa'?)"));
  // A swept key of a faction the file does not have.
  CHECK(error_of("[sweep]\ndesign = \"grid\"\n[sweep.keys]\n\"japan.factions.JSP.weight\" = [0.1, "
                 "0.2]\n") ==
        "f.toml:4:1: unknown key 'japan.factions.JSP.weight' (did you mean "
        "'japan.factions.SG.weight'?)");
}

TEST_CASE("the stored experiment round-trips added, removed and replaced factions", "[factions]") {
  for (const std::string& text :
       {JSP,
        std::string("[japan.factions.HK]\nremove = true\n[japan.factions.PUB]\nsoftens = true\n"),
        "[japan.factions]\nreplace = true\n" + JSP,
        std::string("[japan.factions.SG]\nsoftens = false\n"),
        JSP + "[sweep]\ndesign = \"lhs\"\npoints = 4\n[sweep.keys]\n\"japan.factions.JSP.weight\" "
              "= { min = 0.1, max = 0.3 }\n"}) {
    INFO(text);
    const Experiment e = from_text(text);
    Experiment back = parse_experiment(to_toml(e), "stored", false);
    resolve_design(back);
    CHECK(same_scenario(back.base, e.base));
    REQUIRE(back.points.size() == e.points.size());
    for (std::size_t p = 0; p < e.points.size(); ++p)
      CHECK(same_scenario(back.points[p], e.points[p]));
    CHECK(to_toml(back) == to_toml(e));
  }
}

TEST_CASE("with_socialists.toml adds the JSP and runs, and a zero-weight faction changes no bit",
          "[factions]") {
  ExperimentSource source;
  source.file = SCENARIOS + "/with_socialists.toml";
  source.runs = 20000;
  const Experiment soc = resolve(source);
  CHECK(ids(soc.base) == std::vector<std::string>{"HK", "SG", "YS", "PUB", "FISH", "JSP"});
  CHECK(soc.base.japan.factions.list[5].alliance == 0.0);
  const auto with = run(soc);
  // The JSP, indifferent to the alliance and eager for normalisation, makes a treaty likelier than
  // in the baseline (same seed; the difference is many standard errors at 20,000 runs).
  source.sets = {"japan.factions.JSP.weight=0"};
  const auto zero = run(resolve(source));
  ExperimentSource baseline;
  baseline.runs = 20000;
  const auto base = run(resolve(baseline));
  const auto treaty = [](const engine::Summary& s) {
    const int f = s.categorical_index("format");
    return s.counts(static_cast<std::size_t>(f))[2];  // none, declaration, treaty
  };
  CHECK(treaty(with[0]) > treaty(base[0]) + 1000);
  // Weight 0: the JSP's term is 0 * sigma = +0 in the weighted sum, so every count and moment is
  // the baseline's to the bit.
  CHECK(results_json(soc, zero) == results_json(soc, base));
}

TEST_CASE("wedge params --json lists the factions of the scenario in force", "[factions]") {
  const Experiment soc = from_text(JSP);
  const std::string json = params_json(soc.base);
  CHECK_THAT(json, Contains("\"key\": \"japan.factions.JSP.side\"") &&
                       Contains("\"faction\": \"JSP\"") &&
                       Contains("\"faction_name\": \"Japan Socialist Party\""));
  CHECK_THAT(
      json,
      Contains(
          "{\"key\": \"japan.factions.JSP.weight\", \"section\": \"japan.factions.JSP\", \"type\": "
          "\"real\", \"default\": null, \"min\": 0,"));
  CHECK_THAT(
      json,
      Contains("\"value\": 0.2, \"faction\": \"JSP\", \"faction_name\": \"Japan Socialist Party\", "
               "\"softens\": false}"));
  CHECK_THAT(json,
             Contains("\"key\": \"japan.factions.SG.okinawa\"") && Contains("\"softens\": true"));
  CHECK(params_json() == params_json(agents::Scenario{}));
  CHECK(agents::parameters(soc.base).size() ==
        agents::parameters().size() + agents::FACTION_FIELDS.size());
}
