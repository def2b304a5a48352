#pragma once
/// The "Tug of War, 1955-56" model (MODEL.md version 1) as an engine model: one run is a pure
/// function of (scenario, random stream); no globals, no allocation.
#include "agents/kernel.hpp"
#include "agents/record.hpp"
#include "agents/scenario.hpp"
#include "engine/fields.hpp"
#include "engine/rng.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wedge::agents {

/// Where each field of the record sits in fields() (categorical and continuous fields counted
/// apart): the index observe() writes it at, and a summary keeps it at.
struct Field {
  enum Categorical : std::size_t {
    format,
    end_reason,
    alliance,
    okinawa,
    islands_promised,
    islands_transferred,
    straits_clause,
    alliance_clause,
    rounds,
    threat_round,
    shigemitsu_round,
    two_island_round,
    categorical_count
  };
  enum Continuous : std::size_t { alignment, reward_total, continuous_count };
};

/// The model as the engine sees it (engine/model.hpp).
struct TugOfWar {
  using Params = Scenario;
  using Record = RunRecord;

  static constexpr const char* NAME = "tug_of_war";
  static constexpr const char* VERSION = "1";  ///< MODEL.md version
  /// Largest round number a record can hold (negotiation.rounds <= 100).
  static constexpr int MAX_ROUNDS = 100;

  /// One run: replicate stream.key().replicate of its point, drawn from that stream by the
  /// one-lane kernel (the per-run path; the same record as run_block gives).
  static RunRecord run(const Scenario& s, engine::Stream& stream);

  /// Replicates [key.replicate, key.replicate + count) of the engine's streams for (key.seed,
  /// key.point), in SIMD lanes (the engine's path).
  static void run_block(const Scenario& s, const engine::StreamKey& key, std::uint32_t count,
                        RunRecord* out) {
    agents::run_block(s, key.seed, key.point, key.replicate, count, out);
  }

  /// The record's fields: categorical, then continuous, in the order of Field.
  static const std::vector<engine::FieldSpec>& fields();

  /// The record's category indices and continuous values, at their Field positions.
  static void observe(const RunRecord& r, std::uint16_t* categories, double* values) noexcept {
    categories[Field::format] = static_cast<std::uint16_t>(r.format);
    categories[Field::end_reason] = static_cast<std::uint16_t>(r.end_reason);
    categories[Field::alliance] = static_cast<std::uint16_t>(r.alliance);
    categories[Field::okinawa] = static_cast<std::uint16_t>(r.okinawa);
    categories[Field::islands_promised] = static_cast<std::uint16_t>(r.islands_promised / 2);
    categories[Field::islands_transferred] = static_cast<std::uint16_t>(r.islands_transferred / 2);
    categories[Field::straits_clause] = r.straits_clause ? 1 : 0;
    categories[Field::alliance_clause] = r.alliance_clause ? 1 : 0;
    categories[Field::rounds] =
        static_cast<std::uint16_t>(r.rounds - 1);  // category "1" is index 0
    categories[Field::threat_round] = r.threat_round;
    categories[Field::shigemitsu_round] = r.shigemitsu_round;
    categories[Field::two_island_round] = r.two_island_round;
    values[Field::alignment] = r.alignment;
    values[Field::reward_total] = r.reward_total;
  }

  /// How many leading categories of categorical field `field` can occur under `s` (the round
  /// fields stop at negotiation.rounds); the rest are always zero.
  static std::size_t categories_in_use(const Scenario& s, std::size_t field);
};

/// A run's story, round by round (`wedge trace`).
struct Trace {
  double credibility = 0.0;
  std::vector<RoundTrace> rounds;
  RunRecord record;
};

/// Replays one run with the same draws as the engine's run (same record) and keeps its story.
Trace trace_run(const Scenario& s, const engine::StreamKey& key);

}  // namespace wedge::agents
