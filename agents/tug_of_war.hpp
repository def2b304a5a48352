#pragma once
/// The "Tug of War, 1955-56" model (MODEL.md version 1) as an engine model: one run is a pure
/// function of (scenario, random stream); no globals, no allocation.
#include "agents/record.hpp"
#include "agents/rules.hpp"
#include "agents/scenario.hpp"
#include "engine/fields.hpp"
#include "engine/rng.hpp"

#include <boost/random/normal_distribution.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace wedge::agents {

/// Every random number one round uses, drawn up front in a fixed order from the round's own
/// substream (MODEL.md §6; docs/model.md "Random draws"). Uniforms take one 32-bit word each;
/// normals are standard normals from Boost.Random's ziggurat, scaled where they are used.
struct RoundDraws {
  double u_straits, u_alliance, u_line, u_four, u_accept, u_formula, u_okinawa, u_fisheries,
      u_soften, u_fall;
  double z_estimate1, z_estimate2, z_treaty, z_declaration, z_drift;

  static RoundDraws draw(engine::Stream& stream) noexcept {
    auto u = [&stream] { return (static_cast<double>(stream()) + 0.5) * 0x1.0p-32; };
    RoundDraws d{};
    d.u_straits = u();
    d.u_alliance = u();
    d.u_line = u();
    d.u_four = u();
    d.u_accept = u();
    d.u_formula = u();
    d.u_okinawa = u();
    d.u_fisheries = u();
    d.u_soften = u();
    d.u_fall = u();
    boost::random::normal_distribution<double> normal(0.0, 1.0);
    d.z_estimate1 = normal(stream);
    d.z_estimate2 = normal(stream);
    d.z_treaty = normal(stream);
    d.z_declaration = normal(stream);
    d.z_drift = normal(stream);
    return d;
  }
};

/// One round of a run, as the trace tells it (MODEL.md §5).
struct RoundTrace {
  int round = 0;
  bool straits_clause = false;    ///< S after this round's drops
  bool alliance_clause = false;   ///< N after this round's drops
  bool soft_line = false;
  int islands_offered = 0;
  bool ussr_accepts_declaration = false;
  bool matsumoto_proposes = false;
  bool declaration_available = false;
  bool fisheries_in_force = false;  ///< F during this round's vote
  int sg_min_islands = 4;           ///< m_SG during this round's vote
  double alignment_start = 0.0;     ///< A at the start of the round
  DullesAction dulles;
  double threat = 0.0;              ///< q after Dulles
  double alignment_after_dulles = 0.0;
  double expected_support_treaty = 0.0;       ///< W_treaty before noise, at the vote
  double expected_support_declaration = 0.0;  ///< W_decl before noise, at the vote
  Vote vote;
  Okinawa okinawa = Okinawa::residual;  ///< treaty rounds only
  Stall stall;                           ///< stalled rounds only
  double alignment_end = 0.0;
};

/// A tracer that records nothing (the untraced run); the compiler removes every call.
struct NullTracer {
  void start(double /*credibility*/) noexcept {}
  void round(const RoundTrace& /*trace*/) noexcept {}
  static constexpr bool enabled = false;
};

/// One run of the model. Tracer receives the story; the draws and the record do not depend on it.
template <class Tracer>
RunRecord simulate(const Scenario& s, engine::Stream& stream, Tracer& tracer) {
  // Substream 0: what is drawn once per run.
  stream.seek_substream(0);
  const double u_credibility = stream.uniform();
  const double credibility =
      s.dulles.credibility_min + (s.dulles.credibility_max - s.dulles.credibility_min) * u_credibility;
  State st = State::initial(s, credibility);
  tracer.start(credibility);

  RunRecord rec;
  for (int r = 1;; ++r) {
    stream.seek_substream(static_cast<std::uint32_t>(r));
    const RoundDraws d = RoundDraws::draw(stream);
    RoundTrace t;
    if constexpr (Tracer::enabled) {
      t.round = r;
      t.alignment_start = st.alignment;
    }

    // 1. Soviet negotiators.
    drop_clauses(s, st, r, d.u_straits, d.u_alliance);
    const SovietOffer offer = soviet_offer(s, r, d.u_line, d.u_four, d.u_accept);
    if (offer.islands >= 2 && rec.two_island_round == 0) {
      rec.two_island_round = static_cast<std::uint8_t>(r);
    }
    // 2. Matsumoto.
    const bool proposes = matsumoto_proposes(s, d.u_formula);
    const bool declaration_available = offer.accepts_declaration && proposes;
    // 3. Dulles.
    const DullesAction act = dulles_act(s, st, r, offer.islands,
                                        s.dulles.estimate_noise_sd * d.z_estimate1,
                                        s.dulles.estimate_noise_sd * d.z_estimate2);
    if (act.rewarded) rec.reward_total += act.reward;
    if (act.coerced) rec.threat_round = static_cast<std::uint8_t>(r);
    // 4. Japan votes.
    const Vote vote = japan_vote(s, st, offer.islands, declaration_available,
                                 s.japan.vote_noise_sd * d.z_treaty,
                                 s.japan.vote_noise_sd * d.z_declaration);
    if constexpr (Tracer::enabled) {
      t.straits_clause = st.straits_clause;
      t.alliance_clause = st.alliance_clause;
      t.soft_line = offer.soft_line;
      t.islands_offered = offer.islands;
      t.ussr_accepts_declaration = offer.accepts_declaration;
      t.matsumoto_proposes = proposes;
      t.declaration_available = declaration_available;
      t.fisheries_in_force = st.fisheries;
      t.sg_min_islands = st.sg_min_islands;
      t.dulles = act;
      t.threat = st.threat;
      t.alignment_after_dulles = st.alignment;
      t.expected_support_treaty = support_treaty(s, st, offer.islands);
      t.expected_support_declaration = declaration_available ? support_declaration(s, st) : 0.0;
      t.vote = vote;
    }

    bool ended = true;
    if (vote.choice == Format::treaty) {
      rec.format = Format::treaty;
      rec.end_reason = EndReason::agreement;
      rec.islands_promised = rec.islands_transferred = static_cast<std::uint8_t>(offer.islands);
      rec.okinawa = conclude_treaty(s, st, d.u_okinawa);
      if constexpr (Tracer::enabled) t.okinawa = rec.okinawa;
    } else if (vote.choice == Format::declaration) {
      rec.format = Format::declaration;
      rec.end_reason = EndReason::agreement;
      rec.islands_promised = static_cast<std::uint8_t>(offer.islands);
      conclude_declaration(s, st);
    } else {
      // 5. Stall.
      const Stall out =
          stall(s, st, r, d.u_fisheries, d.u_soften, s.alliance.drift_sd * d.z_drift, d.u_fall);
      if (out.shigemitsu_softened) rec.shigemitsu_round = static_cast<std::uint8_t>(r);
      if (out.cabinet_fell) {
        rec.end_reason = EndReason::cabinet_fell;
      } else if (out.deadline) {
        rec.end_reason = EndReason::deadline;
      } else {
        ended = false;
      }
      if constexpr (Tracer::enabled) t.stall = out;
    }
    if constexpr (Tracer::enabled) {
      t.alignment_end = st.alignment;
      tracer.round(t);
    }
    if (ended) {
      rec.rounds = static_cast<std::uint8_t>(r);
      break;
    }
  }
  rec.straits_clause = st.straits_clause;
  rec.alliance_clause = st.alliance_clause;
  rec.alignment = st.alignment;
  rec.alliance =
      classify_alliance(s, rec.format, st.straits_clause, st.alliance_clause, st.alignment);
  return rec;
}

/// The model as the engine sees it (engine/model.hpp).
struct TugOfWar {
  using Params = Scenario;
  using Record = RunRecord;

  static constexpr const char* NAME = "tug_of_war";
  static constexpr const char* VERSION = "1";  ///< MODEL.md version
  /// Largest round number a record can hold (negotiation.rounds <= 100).
  static constexpr int MAX_ROUNDS = 100;

  static RunRecord run(const Scenario& s, engine::Stream& stream) {
    NullTracer none;
    return simulate(s, stream, none);
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

/// Replays one run with the same draws as the untraced run (same record) and keeps its story.
Trace trace_run(const Scenario& s, const engine::StreamKey& key);

}  // namespace wedge::agents
