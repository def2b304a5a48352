#include "agents/params.hpp"
#include "agents/rules.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace wedge::agents;
using wedge::ConfigError;

TEST_CASE("the registry holds every key of MODEL.md section 4 once, with the defaults",
          "[params]") {
  const auto& params = parameters();
  std::set<std::string> keys;
  for (const auto& p : params) CHECK(keys.insert(p.key).second);
  // Keys are "section.name", and each section's keys are listed together (`wedge params` and the
  // TOML writer group them). That every key of MODEL.md is here, and no other, baseline.toml
  // checks both ways (tests/experiments/test_loader.cpp).
  std::set<std::string> finished;
  std::string section;
  for (const auto& p : params) {
    INFO(p.key);
    CHECK(p.key.starts_with(p.section + "."));
    CHECK(p.key.find('.', p.section.size() + 1) == std::string::npos);
    if (p.section != section) {
      CHECK(finished.insert(section).second);
      CHECK_FALSE(finished.contains(p.section));
      section = p.section;
    }
  }
  REQUIRE_FALSE(params.empty());
  const Scenario s;
  CHECK(require_parameter("negotiation.rounds").get(s) == 8);
  CHECK(require_parameter("dulles.tact").get(s) == 0.3);
  CHECK(require_parameter("soviet.straits_clause").get(s) == 1.0);
  CHECK(require_parameter("japan.factions.HK.weight").get(s) == 0.35);
  CHECK(require_parameter("japan.factions.SG.min_islands").get(s) == 4);
  CHECK(require_parameter("japan.factions.FISH.side").get(s) == 0.8);
  CHECK(require_parameter("alliance.realign_below").default_text() == "0.15");
  CHECK(require_parameter("soviet.alliance_clause").default_text() == "true");
  s.validate();  // the baseline is valid
}

TEST_CASE("assignments (--set) set every type and rejects bad values by name", "[params]") {
  Scenario s;
  apply_assignment(s, "dulles.tact=0.9");
  CHECK(s.dulles.tact == 0.9);
  apply_assignment(s, " negotiation.rounds = 12 ");
  CHECK(s.negotiation.rounds == 12);
  apply_assignment(s, "soviet.straits_clause=false");
  CHECK_FALSE(s.soviet.straits_clause);
  apply_assignment(s, "japan.factions.HK.weight=0.5");
  CHECK(s.japan.factions.list[HK].weight == 0.5);
  apply_assignment(s, "japan.factions.SG.min_islands=2");
  CHECK(s.japan.factions.list[SG].min_islands == 2);

  CHECK_THROWS_WITH(apply_assignment(s, "dulles.tact=1.4"), "dulles.tact = 1.4: must be [0, 1]");
  CHECK_THROWS_WITH(apply_assignment(s, "negotiation.rounds=2.5"),
                    Catch::Contains("not an integer") && Catch::Contains("[1, 100]"));
  CHECK_THROWS_WITH(apply_assignment(s, "negotiation.rounds=0"),
                    Catch::Contains("negotiation.rounds = 0"));
  CHECK_THROWS_WITH(apply_assignment(s, "soviet.straits_clause=maybe"),
                    Catch::Contains("not a boolean"));
  CHECK_THROWS_WITH(apply_assignment(s, "japan.vote_noise_sd=0"), Catch::Contains("(0, 1]"));
  CHECK_THROWS_WITH(apply_assignment(s, "japan.factions.SG.min_islands=3"),
                    Catch::Contains("0, 2 or 4"));
  CHECK_THROWS_WITH(apply_assignment(s, "dulles.tact=nan"), Catch::Contains("dulles.tact"));
  CHECK_THROWS_WITH(apply_assignment(s, "japan.damage_treaty=inf"),
                    Catch::Contains("japan.damage_treaty"));
  CHECK_THROWS_WITH(apply_assignment(s, "dulles.tact"), Catch::Contains("expected key=value"));
  CHECK_THROWS_WITH(apply_assignment(s, "=3"), Catch::Contains("expected key=value"));
  CHECK_THROWS_AS(apply_assignment(s, "dulles.tact=0.5x"), ConfigError);
}

TEST_CASE("an unknown key suggests the nearest one", "[params]") {
  Scenario s;
  CHECK_THROWS_WITH(apply_assignment(s, "dulles.tcat=0.5"),
                    Catch::Contains("unknown parameter 'dulles.tcat'") &&
                        Catch::Contains("did you mean 'dulles.tact'"));
  CHECK(nearest_parameter("threat_strength") == "dulles.threat_strength");
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("JPS", "JSP") == 1);  // a transposition is one edit
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("ca", "abc") == 3);  // optimal string alignment (not unrestricted Damerau: 2)
  CHECK(nearest_parameter("japan.factions.hk.weight") == "japan.factions.HK.weight");
  // Only close words are suggested (edit distance <= max(2, |word| / 3) and <= half the word).
  CHECK(nearest_parameter("zzzzzz").empty());
  CHECK_THROWS_WITH(apply_assignment(s, "zzzzzz=1"),
                    Catch::Equals("unknown parameter 'zzzzzz' (`wedge params` lists every key)"));
  CHECK(close_match("rnus", 2));
  CHECK_FALSE(close_match("magic", 4));
  CHECK_FALSE(close_match("xy", 2));
  CHECK(close_match("dulles.threat_strenght", 2));
}

TEST_CASE("validate() rejects every out-of-range value and inconsistent ranges", "[params]") {
  for (const auto& p : parameters()) {
    if (p.type == ParamType::boolean) continue;
    Scenario s;
    p.set(s, p.min - 1.0);
    CHECK_THROWS_WITH(s.validate(), Catch::StartsWith(p.key));
    if (std::isfinite(p.max)) {
      Scenario above;
      p.set(above, p.max + 1.0);
      CHECK_THROWS_WITH(above.validate(), Catch::StartsWith(p.key));
    }
    if (p.key.ends_with(".min_islands")) {  // in [0, 4] but not 0, 2 or 4
      for (const double odd : {1.0, 3.0}) {
        Scenario between;
        p.set(between, odd);
        CHECK_THROWS_WITH(between.validate(),
                          p.key + " = " + std::to_string(int(odd)) + ": must be 0, 2 or 4");
      }
    }
  }
  Scenario s;
  s.dulles.credibility_min = 0.5;
  s.dulles.credibility_max = 0.4;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("dulles.credibility_max"));
  s = Scenario{};
  s.alliance.rupture_below = 0.45;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("alliance.rupture_below"));
  s = Scenario{};
  s.alliance.realign_below = 0.3;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("alliance.realign_below"));
  s = Scenario{};
  for (auto& f : s.japan.factions.list) f.weight = 0.0;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("sum to 0"));
  s = Scenario{};
  s.dulles.tact = 1.0 + 1e-12;
  CHECK_THROWS_AS(s.validate(), ConfigError);
}

TEST_CASE("validate() rejects a key's value exactly when in_range() does, at every edge",
          "[params]") {
  // validate() tests each key's range from a table made once (not ParamInfo::in_range with its
  // name): the two must agree at the edges of every range, the faction keys' included.
  const double inf = std::numeric_limits<double>::infinity();
  std::size_t tried = 0;
  for (const auto& p : parameters(Scenario{})) {
    if (p.type == ParamType::boolean) continue;
    std::vector<double> candidates;
    for (const double edge : {p.min, p.max, 0.0, 1.0, 2.0, 3.0, 4.0}) {
      if (!std::isfinite(edge)) continue;
      candidates.insert(candidates.end(), {edge, std::nextafter(edge, -inf),
                                           std::nextafter(edge, inf), edge - 0.5, edge + 0.5});
    }
    if (p.type == ParamType::real) {
      candidates.insert(candidates.end(), {inf, -inf, std::numeric_limits<double>::quiet_NaN()});
    }
    for (const double candidate : candidates) {
      if (p.type == ParamType::integer && !(std::abs(candidate) < 1e9)) continue;
      Scenario s;
      p.set(s, candidate);
      const double v = p.get(s);  // an integer key keeps what its member holds
      const std::string own = p.key + " = " + format_value(p, v) + ": must be " + p.range_text();
      ++tried;
      if (!p.in_range(v)) {
        CHECK_THROWS_WITH(s.validate(), Catch::Equals(own));
      } else {
        try {
          s.validate();
        } catch (const ConfigError& e) {  // a constraint between keys, never the key's range
          CHECK(std::string(e.what()) != own);
        }
      }
    }
  }
  CHECK(tried > 500);
}

TEST_CASE("every key reads and writes its own member of the scenario", "[params]") {
  // Give each key a value no other key has (within its range), then read every key back.
  Scenario s;
  const auto& params = parameters();
  std::vector<double> given;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    double v = 0.0;
    if (p.type == ParamType::boolean)
      v = p.get(s) != 0.0 ? 0.0 : 1.0;  // flip
    else if (p.key.ends_with(".min_islands"))
      v = p.get(s) == 2.0 ? 4.0 : 2.0;
    else if (p.type == ParamType::integer)
      v = p.min + static_cast<double>(i % 7) + 1.0;
    else
      v = (p.min_exclusive ? p.min : p.min) + 0.001 * static_cast<double>(i + 1);
    REQUIRE(p.in_range(v));
    p.set(s, v);
    given.push_back(v);
  }
  for (std::size_t i = 0; i < params.size(); ++i) CHECK(params[i].get(s) == given[i]);
  CHECK(s.negotiation.rounds == require_parameter("negotiation.rounds").get(s));
  CHECK(s.japan.factions.list[FISH].okinawa ==
        require_parameter("japan.factions.FISH.okinawa").get(s));
}

TEST_CASE("the registry's range check refuses every value a key cannot hold", "[params]") {
  // ParamInfo::in_range is the last check on values that never went through the loader's parser
  // (an experiment stored in a results file: wedge inspect / merge / --resume). Known answers
  // from each key's own declared type and range.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const auto& p : parameters()) {
    INFO(p.key);
    CHECK_FALSE(p.in_range(nan));
    CHECK_FALSE(p.in_range(p.min - 1.0));
    if (p.type == ParamType::real) {
      CHECK_FALSE(p.in_range(inf));
      CHECK_FALSE(p.in_range(-inf));
      CHECK(p.in_range(p.min) == !p.min_exclusive);
    } else {
      // An integer or boolean key holds whole numbers only: a fraction between two valid
      // values is refused, whatever its range.
      CHECK(p.in_range(p.min));
      CHECK_FALSE(p.in_range(p.min + 0.5));
      CHECK_FALSE(p.in_range(p.max - 0.5));
    }
    if (std::isfinite(p.max)) {
      CHECK(p.in_range(p.max));
      CHECK_FALSE(p.in_range(p.max + 1.0));
    }
  }
}

TEST_CASE("sections() lists each key's section once, in registry order", "[params]") {
  const auto& list = sections();
  REQUIRE(list.size() == 8 + FACTION_COUNT);
  CHECK(list.front() == "negotiation");
  CHECK(list[7] == "alliance");
  CHECK(list.back() == "japan.factions.FISH");
  std::size_t at = 0;
  for (const auto& p : parameters()) {
    while (at < list.size() && list[at] != p.section) ++at;
    REQUIRE(at < list.size());  // every key's section appears, in order
  }
}

namespace {

/// Problems of `s`'s runs (replicates 0 .. runs - 1, seed 5): a support, estimate or alignment
/// that is not finite (a support of a declaration not on the table is NaN by definition), or an
/// alignment outside [0, 1]; "" when there are none.
std::string numeric_problems(const Scenario& s, std::uint32_t runs) {
  for (std::uint32_t r = 0; r < runs; ++r) {
    const Trace t = trace_run(s, wedge::engine::StreamKey{5, 0, r});
    for (const auto& round : t.rounds) {
      const bool finite =
          std::isfinite(round.support_treaty) && std::isfinite(round.dulles_estimate) &&
          std::isfinite(round.dulles_estimate_after) && std::isfinite(round.alignment_start) &&
          std::isfinite(round.alignment_after_dulles) &&
          (!round.declaration_available || std::isfinite(round.support_declaration));
      if (!finite || round.alignment_start < 0.0 || round.alignment_start > 1.0) {
        return "replicate " + std::to_string(r) + " round " + std::to_string(round.round) +
               ": W_t " + std::to_string(round.support_treaty) + ", W_d " +
               std::to_string(round.support_declaration) + ", p-hat " +
               std::to_string(round.dulles_estimate) + ", A " +
               std::to_string(round.alignment_start);
      }
    }
    if (!std::isfinite(t.record.alignment) || !std::isfinite(t.record.reward_total))
      return "replicate " + std::to_string(r) + ": record not finite";
  }
  return "";
}

}  // namespace

TEST_CASE("every key at its smallest and largest value gives finite supports and outcomes",
          "[params][model]") {
  // MODEL.md §4's ranges: the bounds themselves; ">= 0" has no largest value, so the largest
  // double stands for it, and "(0, 1]" the smallest positive double. Values that break a rule
  // between keys (credibility_max >= credibility_min, ...) are skipped: validate() refuses them.
  const Scenario base;
  std::size_t checked = 0, keys = 0;
  for (const auto& p : parameters(base)) {
    if (p.type == ParamType::boolean) continue;
    ++keys;
    const double low = p.min_exclusive ? std::numeric_limits<double>::denorm_min() : p.min;
    const double high = std::isfinite(p.max) ? p.max : std::numeric_limits<double>::max();
    for (const double v : {low, high}) {
      Scenario s = base;
      p.set(s, v);
      try {
        s.validate();
      } catch (const ConfigError&) {
        continue;
      }
      INFO(p.key << " = " << v);
      CHECK(numeric_problems(s, 300) == "");
      ++checked;
    }
  }
  // Both ends of every key but the six a rule between keys refuses: credibility_min = 1,
  // credibility_max = 0, strained_below = 0, rupture_below = 0 and 1, realign_below = 1.
  CHECK(checked == 2 * keys - 6);
}

TEST_CASE("saliences and weights near the largest double never make a support NaN",
          "[params][model]") {
  // Several extreme keys together (a sweep at its bounds): products that overflow a double.
  constexpr double big = std::numeric_limits<double>::max();
  const auto with = [](std::initializer_list<std::pair<const char*, double>> sets) {
    Scenario s;
    for (const auto& [key, value] : sets) require_parameter(s, key).set(s, value);
    s.validate();
    return s;
  };
  const std::vector<std::pair<std::string, Scenario>> cases{
      {"lambda 0 with every salience of HK at its largest",
       with({{"japan.logit_sharpness", 0.0},
             {"japan.factions.HK.territory", big},
             {"japan.factions.HK.side", big},
             {"japan.factions.HK.alliance", big},
             {"japan.factions.HK.okinawa", big}})},
      {"territory and side of one faction at their largest",
       with({{"japan.factions.SG.territory", big}, {"japan.factions.SG.side", big}})},
      {"side and alliance, with alliance damage at its largest",
       with({{"japan.factions.YS.side", big},
             {"japan.factions.YS.alliance", big},
             {"japan.damage_declaration", big},
             {"japan.damage_treaty", big}})},
      {"okinawa and territory of every faction at their largest",
       with({{"japan.factions.HK.okinawa", big},
             {"japan.factions.SG.territory", big},
             {"japan.factions.PUB.okinawa", big},
             {"japan.factions.FISH.territory", big}})},
      {"two weights at their largest",
       with({{"japan.factions.HK.weight", big}, {"japan.factions.SG.weight", big}})},
  };
  for (const auto& [name, s] : cases) {
    INFO(name);
    CHECK(numeric_problems(s, 300) == "");
  }
  // A product that overflows with a factor 0 is the exact 0, not the cap: with lambda 0 the side
  // term is 0 x (side x carrots = inf), which was NaN and capped would be 2^1000 (the only product
  // that can overflow before meeting its zero: lambda is at most 100). A product that overflows
  // with no zero factor is the cap.
  {
    const SupportTable flat(with({{"japan.logit_sharpness", 0.0},
                                  {"soviet.carrots", 5.0},
                                  {"japan.factions.HK.side", big}}));
    CHECK(flat.side[0][0] == 0.0);
    CHECK(flat.side[1][0] == 0.0);
    const SupportTable steep(
        with({{"japan.logit_sharpness", 100.0}, {"japan.factions.SG.territory", big}}));
    CHECK(steep.territory[1] == 0x1p1000);
  }
  // The weights' sum overflows, yet each faction keeps its share: HK and SG half each.
  const Scenario two = cases.back().second;
  const SupportTable table(two);
  CHECK(table.weight_float[0] == 0.5f);
  CHECK(table.weight_float[1] == 0.5f);
  CHECK(table.weight_float[2] < 1e-30f);  // 0.15 of 2 x 1.8e308
}
