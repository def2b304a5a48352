#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/runner.hpp"
#include "experiments/loader.hpp"
#include "experiments/trace_where.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace wedge;

namespace {
struct Keep : engine::RecordSink<agents::RunRecord> {
  std::vector<std::vector<agents::RunRecord>> by_point;
  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
               std::span<const engine::Summary>) override {
    std::size_t i = 0;
    for (const auto& b : blocks) {
      if (by_point.size() <= b.point) by_point.resize(b.point + 1);
      for (std::uint32_t k = 0; k < b.count; ++k) by_point[b.point].push_back(records[i++]);
    }
  }
};
}  // namespace

TEST_CASE("trace reproduces the record of the same run in a sweep", "[trace]") {
  for (bool crn : {false, true}) {
    auto e = experiments::load_experiment(WEDGE_SOURCE_DIR
                                          "/experiments/sweeps/threat_rewards_grid.toml");
    e.run.crn = crn;
    experiments::resolve_design(e);
    const std::uint64_t reps = 300;
    auto summaries = engine::make_summaries<agents::TugOfWar>(e.points.size());
    engine::RunOptions options;
    options.seed = e.run.seed;
    options.crn = crn;
    Keep keep;
    engine::run_blocks<agents::TugOfWar>(
        e.points,
        engine::make_blocks(engine::full_plan(static_cast<std::uint32_t>(e.points.size()), reps)),
        summaries, options, &keep);
    for (std::uint32_t p = 0; p < e.points.size(); ++p) {
      for (std::uint64_t r = 0; r < reps; r += 7) {
        const auto trace = agents::trace_run(e.points[p], engine::stream_key(options, p, r));
        REQUIRE(trace.record == keep.by_point[p][r]);
      }
    }
  }
}

TEST_CASE("trace --where finds the first matching replicate, deterministically", "[trace]") {
  for (bool crn : {false, true}) {
    auto e = experiments::load_experiment(WEDGE_SOURCE_DIR
                                          "/experiments/sweeps/threat_rewards_grid.toml");
    e.run.crn = crn;
    experiments::resolve_design(e);
    engine::RunOptions options;
    options.seed = e.run.seed;
    options.crn = crn;
    for (const char* where :
         {"format=treaty,alliance=strained", "format=declaration", "okinawa=residual,format=treaty",
          "end_reason=cabinet_fell,islands_promised=0", "shigemitsu_round=3,format=declaration"}) {
      INFO(where << " crn " << crn);
      const auto conditions = experiments::parse_where(where);
      for (std::uint32_t p : {0u, 11u}) {
        const auto found = experiments::find_replicate(e, p, conditions, 100'000);
        REQUIRE(found.replicate);
        CHECK(found.scanned == *found.replicate + 1);
        // The first-match property, checked run by run on the per-run path (not the SIMD blocks).
        const auto meets = [&](const agents::RunRecord& r) {
          std::uint16_t cats[agents::Field::categorical_count];
          double values[agents::Field::continuous_count];
          agents::TugOfWar::observe(r, cats, values);
          for (const auto& c : conditions) {
            if (cats[c.field] != c.category) return false;
          }
          return true;
        };
        for (std::uint64_t r = 0; r < *found.replicate; ++r) {
          engine::Stream stream(engine::stream_key(options, p, r));
          REQUIRE_FALSE(meets(agents::TugOfWar::run(e.points[p], stream)));
        }
        const auto story =
            agents::trace_run(e.points[p], engine::stream_key(options, p, *found.replicate));
        CHECK(meets(story.record));
        // The same answer again (and whatever the cap, once it covers the match).
        CHECK(experiments::find_replicate(e, p, conditions, *found.replicate + 1).replicate ==
              found.replicate);
      }
    }
  }
}

TEST_CASE("trace --where: the cap, and bad conditions with suggestions", "[trace]") {
  auto e = experiments::load_experiment(WEDGE_SOURCE_DIR "/experiments/scenarios/baseline.toml");
  experiments::resolve_design(e);
  // Runs end by round 8: round 9 cannot happen, and the search refuses it instead of scanning to
  // the cap; so does a threat round when no threat is ever made.
  CHECK_THROWS_WITH(
      experiments::find_replicate(e, 0, experiments::parse_where("rounds=9"), 5000),
      "--where rounds=9: no run of design point 0 can end so: negotiation.rounds is 8, so rounds "
      "takes 1 to 8");
  auto calm = e;
  calm.points[0].dulles.threat_strength = 0.0;
  CHECK_THROWS_WITH(
      experiments::find_replicate(calm, 0, experiments::parse_where("threat_round=1"), 5000),
      Catch::Contains("dulles.threat_strength is 0"));
  CHECK(experiments::find_replicate(calm, 0, experiments::parse_where("threat_round=0"), 5000)
            .replicate == 0u);
  const auto first =
      experiments::find_replicate(e, 0, experiments::parse_where("format=treaty"), 100000);
  REQUIRE(first.replicate);
  REQUIRE(*first.replicate > 0);
  // A possible outcome not met within the cap: the search stops there.
  const auto none = experiments::find_replicate(e, 0, experiments::parse_where("format=treaty"),
                                                *first.replicate);
  CHECK_FALSE(none.replicate);
  CHECK(none.scanned == *first.replicate);
  CHECK_THROWS_WITH(
      experiments::parse_where("fromat=treaty"),
      Catch::StartsWith("--where: unknown outcome 'fromat' (did you mean 'format'? valid: format, "
                        "end_reason, alliance, okinawa,"));
  CHECK_THROWS_WITH(experiments::parse_where("format=treaty,alliance=strainde"),
                    "--where: alliance has no category 'strainde' (did you mean 'strained'? valid: "
                    "intact, strained, "
                    "rupture_neutral, rupture_realign)");
  CHECK_THROWS_WITH(experiments::parse_where("format"),
                    Catch::StartsWith("--where 'format': expected field=category"));
  CHECK_THROWS_WITH(experiments::parse_where("format=treaty,"),
                    Catch::StartsWith("--where 'format=treaty,': expected"));
  CHECK_THROWS_WITH(experiments::parse_where("format=treaty,format=none"),
                    "--where: format is given twice");
  CHECK_THROWS_WITH(experiments::find_replicate(e, 1, {}, 10),
                    Catch::StartsWith("--point 1: the experiment has 1"));
}

TEST_CASE("each faction's support in a traced round averages to Japan's model support", "[trace]") {
  // With vote noise ~0, the realized support is the model support: the weighted mean of the
  // factions' sigma(lambda u_f) that the narrative shows, computed one faction at a time.
  auto e =
      experiments::load_experiment(WEDGE_SOURCE_DIR "/experiments/scenarios/with_socialists.toml");
  e.base.japan.vote_noise_sd = 1e-12;
  e.base.japan.factions.softens = 5;  // the JSP softens: the per-faction split must follow m_SG
  e.base.japan.factions.list[5].min_islands = 4;
  experiments::resolve_design(e);
  engine::RunOptions options;
  options.seed = 3;
  std::size_t rounds = 0, declarations = 0;
  for (std::uint64_t r = 0; r < 200; ++r) {
    const auto story = agents::trace_run(e.points[0], engine::stream_key(options, 0, r));
    for (const auto& t : story.rounds) {
      const auto support = experiments::faction_support(e.points[0], t);
      REQUIRE(support.size() == 6);
      double treaty = 0.0, declaration = 0.0, total = 0.0;
      for (std::size_t f = 0; f < 6; ++f) {
        const double w = e.points[0].japan.factions.list[f].weight;
        treaty += w * support[f].treaty;
        declaration += w * support[f].declaration;
        total += w;
      }
      CHECK(treaty / total == Approx(t.support_treaty).margin(1e-9));
      if (t.declaration_available) {
        CHECK(declaration / total == Approx(t.support_declaration).margin(1e-9));
        ++declarations;
      }
      ++rounds;
    }
  }
  CHECK(rounds > 200);
  CHECK(declarations > 20);
}

TEST_CASE("impossible_category reads exactly the keys IMPOSSIBLE_CATEGORY_KEYS lists",
          "[trace][calibrate]") {
  // Every answer (field, category) of a scenario, as one list of strings.
  const auto answers = [](const agents::Scenario& s) {
    std::vector<std::string> out;
    const auto& fields = agents::TugOfWar::fields();
    for (std::size_t f = 0; f < agents::Field::categorical_count; ++f)
      for (std::size_t c = 0; c < fields[f].categories.size(); ++c)
        out.push_back(experiments::impossible_category(s, f, c));
    return out;
  };
  const agents::Scenario base;
  const auto before = answers(base);
  std::vector<std::string> moving;  // the keys some in-range value of which changes an answer
  for (const auto& p : agents::parameters(base)) {
    const double now = p.get(base);
    for (double v : {p.min, p.max, 0.0, 2.0, 4.0, now + 1.0, 2.0 * now}) {
      if (!std::isfinite(v) || !p.in_range(v) || v == now) continue;
      agents::Scenario s = base;
      p.set(s, v);
      if (answers(s) != before) {
        moving.push_back(p.key);
        break;
      }
    }
  }
  for (const auto& key : moving) {
    INFO(key << " changes impossible_category's answers");
    CHECK(experiments::read_by_impossible_category(key));
  }
  // No stale entry: each one stands for at least one key that changes an answer.
  for (const auto entry : experiments::IMPOSSIBLE_CATEGORY_KEYS) {
    INFO(entry);
    CHECK(std::any_of(moving.begin(), moving.end(), [entry](const std::string& key) {
      return entry.starts_with('*') ? key.ends_with(entry.substr(1)) : key == entry;
    }));
  }
  CHECK_FALSE(experiments::read_by_impossible_category("dulles.tact"));
  CHECK(experiments::read_by_impossible_category("japan.factions.JSP.min_islands"));
}
