#include "agents/rounds.hpp"
#include "agents/tug_of_war.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace wedge::agents;
using wedge::engine::StreamKey;

TEST_CASE("a block's replayed rounds are each run's traced rounds, in replicate order",
          "[rounds]") {
  Scenario coercive;
  coercive.dulles.threat_strength = 2.0;
  coercive.dulles.tact = 0.0;
  Scenario long_talks;
  long_talks.negotiation.rounds = 30;
  long_talks.hatoyama.fall_hazard_late = 0.01;
  for (const Scenario& s : {Scenario{}, coercive, long_talks}) {
    for (std::uint64_t seed : {1ull, 99ull}) {
      const StreamKey first{seed, 3, 1000};
      constexpr std::uint32_t COUNT = 500;
      std::vector<RunRecord> records(COUNT);
      std::vector<RoundRow> rows;
      replay_rounds(s, first, COUNT, records.data(), rows);
      // The engine's records (the widest kernel) are the replay's.
      std::vector<RunRecord> engine(COUNT);
      run_block(s, first.seed, first.point, first.replicate, COUNT, engine.data());
      REQUIRE(records == engine);
      std::size_t at = 0;
      for (std::uint32_t k = 0; k < COUNT; ++k) {
        const Trace trace = trace_run(s, StreamKey{seed, 3, first.replicate + k});
        REQUIRE(trace.record == records[k]);
        REQUIRE(trace.rounds.size() == records[k].rounds);
        for (const RoundTrace& t : trace.rounds) {
          REQUIRE(at < rows.size());
          const RoundRow& r = rows[at++];
          CHECK(r.round == t.round);
          CHECK(r.alignment == t.alignment_end);
          CHECK(r.islands_offered == t.islands_offered);
          CHECK(r.straits_clause == t.straits_clause);
          CHECK(r.alliance_clause == t.alliance_clause);
          CHECK(r.declaration_available == t.declaration_available);
          CHECK(r.dulles == (t.coerced    ? DullesMove::reward_threat
                             : t.rewarded ? DullesMove::reward
                                          : DullesMove::none));
          CHECK(r.support_treaty == t.support_treaty);
          CHECK((t.declaration_available ? r.support_declaration == t.support_declaration
                                         : std::isnan(r.support_declaration)));
          CHECK(r.fisheries == t.fisheries_in_force);
          CHECK(r.sg_min_islands == t.sg_min_islands);
        }
        // The last round's A is the run's final A.
        CHECK(rows[at - 1].alignment == records[k].alignment);
      }
      REQUIRE(at == rows.size());
    }
  }
}

TEST_CASE("Dulles threatens only after rewarding, at most once per run", "[rounds]") {
  Scenario coercive;
  coercive.dulles.threat_strength = 2.0;
  std::vector<RunRecord> records(2000);
  std::vector<RoundRow> rows;
  replay_rounds(coercive, StreamKey{4, 0, 0}, 2000, records.data(), rows);
  std::size_t at = 0, threats = 0;
  for (const RunRecord& r : records) {
    int threat_round = 0;
    for (std::uint8_t i = 0; i < r.rounds; ++i, ++at) {
      if (rows[at].dulles == DullesMove::reward_threat) {
        CHECK(threat_round == 0);
        threat_round = rows[at].round;
      }
    }
    CHECK(threat_round == r.threat_round);
    threats += threat_round > 0;
  }
  CHECK(threats > 100);  // the scenario threatens often: the check above is not vacuous
}

TEST_CASE("the round columns are declared in the order observe_round writes them", "[rounds]") {
  const auto& fields = round_fields();
  REQUIRE(fields.size() ==
          std::size_t{RoundField::categorical_count} + std::size_t{RoundField::continuous_count});
  CHECK(fields[RoundField::round].name == "round");
  CHECK(fields[RoundField::dulles].categories ==
        std::vector<std::string>{"none", "reward", "reward_threat"});
  CHECK(fields[std::size_t{RoundField::categorical_count} +
               std::size_t{RoundField::support_declaration}]
            .name == "support_declaration");
  RoundRow row;
  row.round = 3;
  row.islands_offered = 4;
  row.dulles = DullesMove::reward;
  row.sg_min_islands = 2;
  row.alignment = 0.25;
  std::uint16_t cats[RoundField::categorical_count];
  double values[RoundField::continuous_count];
  observe_round(row, cats, values);
  CHECK(fields[RoundField::round].categories[cats[RoundField::round]] == "3");
  CHECK(fields[RoundField::islands_offered].categories[cats[RoundField::islands_offered]] == "4");
  CHECK(fields[RoundField::dulles].categories[cats[RoundField::dulles]] == "reward");
  CHECK(fields[RoundField::sg_min_islands].categories[cats[RoundField::sg_min_islands]] == "2");
  CHECK(values[RoundField::alignment] == 0.25);
}
