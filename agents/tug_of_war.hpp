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

/// The model as the engine sees it (engine/model.hpp).
struct TugOfWar {
  using Params = Scenario;
  using Record = RunRecord;

  static constexpr const char* NAME = "tug_of_war";
  static constexpr const char* VERSION = "1";  ///< MODEL.md version
  /// Largest round number a record can hold (negotiation.rounds <= 100).
  static constexpr int MAX_ROUNDS = 100;

  /// One run, keyed by the stream's (seed, point, replicate) (one lane; the trace's path).
  static RunRecord run(const Scenario& s, engine::Stream& stream);

  /// Replicates [key.replicate, key.replicate + count) in SIMD lanes (the engine's path).
  static void run_block(const Scenario& s, const engine::StreamKey& key, std::uint32_t count,
                        RunRecord* out) {
    agents::run_block(s, key.seed, key.point, key.replicate, count, out);
  }

  /// The record's fields: categorical (in observe() order), then continuous.
  static std::vector<engine::FieldSpec> fields();

  static void observe(const RunRecord& r, std::uint16_t* categories, double* values) noexcept {
    categories[0] = static_cast<std::uint16_t>(r.format);
    categories[1] = static_cast<std::uint16_t>(r.end_reason);
    categories[2] = static_cast<std::uint16_t>(r.alliance);
    categories[3] = static_cast<std::uint16_t>(r.okinawa);
    categories[4] = static_cast<std::uint16_t>(r.islands_promised / 2);
    categories[5] = static_cast<std::uint16_t>(r.islands_transferred / 2);
    categories[6] = r.straits_clause ? 1 : 0;
    categories[7] = r.alliance_clause ? 1 : 0;
    categories[8] = static_cast<std::uint16_t>(r.rounds - 1);
    categories[9] = r.threat_round;
    categories[10] = r.shigemitsu_round;
    categories[11] = r.two_island_round;
    values[0] = r.alignment;
    values[1] = r.reward_total;
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
