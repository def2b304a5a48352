#pragma once
/// One round of the model (MODEL.md §2) on lanes of runs: the draws it consumes, named by what
/// they decide (docs/model.md, "Random draws"), and the round itself as one function that follows
/// §2 step by step. Refilling lanes, the trace and the records live around it (agents/kernel.hpp).
#include "agents/rules.hpp"
#include "agents/scenario.hpp"
#include "engine/rng.hpp"
#include "engine/simd/distributions.hpp"

namespace wedge::agents {

/// What a run draws once, from block 0 of substream 0 of its stream.
template <class L>
struct RunDraws {
  /// Words 0-1: a 53-bit uniform in [0, 1) placing the threat's credibility c in
  /// [credibility_min, credibility_max].
  typename L::D credibility;

  static RunDraws draw(const engine::LaneStreams<L>& streams) {
    typename L::U w[4];
    streams.block(simd::splat_u<L>(0), 0, w);
    return {simd::uniform53<L>(w[0], w[1])};
  }
};

/// What round r draws: words 0-15 of substream r of the run's stream, all of them and in this
/// order whether or not the round uses them, so that no round's draws shift another's. Uniforms
/// are (w + 1/2)/2^32, and an event "with probability p" happens when its uniform is below p;
/// normals are standard (each rule scales its own).
template <class L>
struct RoundDraws {
  using D = typename L::D;
  using U = typename L::U;
  static constexpr int WORDS = 16;

  D straits_drop;            ///< word 0: §2.1, the straits clause is dropped (from round 2)
  D alliance_drop;           ///< word 1: §2.1, the no-alliance clause is dropped (from round 2)
  D soft_line;               ///< word 2: §2.1, the Khrushchev line prevails
  D four_islands;            ///< word 3: §2.1, the soft line offers four islands
  D accepts_declaration;     ///< word 4: §2.1, the USSR accepts the declaration format
  D matsumoto_proposes;      ///< word 5: §2.2, Matsumoto proposes the declaration formula
  D okinawa_claim;           ///< word 6: §2.4, after a treaty under threat, the US claims Okinawa
  D fisheries_pressure;      ///< word 7: §2.5, fisheries pressure for the next round
  D shigemitsu_softens;      ///< word 8: §2.5, SG's minimum goes from four islands to two
  D cabinet_falls;           ///< word 9: §2.5, Hatoyama's cabinet falls
  D estimate_error;          ///< words 10-11, cos: §2.3, Dulles's first estimate error e
  D estimate_error_after;    ///< words 10-11, sin: §2.3, his error after rewarding
  D vote_noise_treaty;       ///< words 12-13, cos: §2.4, noise on the treaty's realized support
  D vote_noise_declaration;  ///< words 12-13, sin: §2.4, noise on the declaration's support
  D drift;                   ///< words 14-15, cos: §2.5, the alignment's drift (sin unused)

  /// Round `round`'s draws (round[i] for lane i) from every lane's stream.
  static RoundDraws draw(const engine::LaneStreams<L>& streams, D round) {
    U w[WORDS];
    streams.words(simd::to_uint<L>(round), w);
    return from_words(w);
  }

  /// The draws from a round's words: the one place that maps words to draws.
  static RoundDraws from_words(const U (&w)[WORDS]) {
    RoundDraws d;
    d.straits_drop = simd::uniform<L>(w[0]);
    d.alliance_drop = simd::uniform<L>(w[1]);
    d.soft_line = simd::uniform<L>(w[2]);
    d.four_islands = simd::uniform<L>(w[3]);
    d.accepts_declaration = simd::uniform<L>(w[4]);
    d.matsumoto_proposes = simd::uniform<L>(w[5]);
    d.okinawa_claim = simd::uniform<L>(w[6]);
    d.fisheries_pressure = simd::uniform<L>(w[7]);
    d.shigemitsu_softens = simd::uniform<L>(w[8]);
    d.cabinet_falls = simd::uniform<L>(w[9]);
    simd::box_muller<L>(w[10], w[11], d.estimate_error, d.estimate_error_after);
    simd::box_muller<L>(w[12], w[13], d.vote_noise_treaty, d.vote_noise_declaration);
    D unused;
    simd::box_muller<L>(w[14], w[15], d.drift, unused);
    return d;
  }
};

/// What happened in one round, lane by lane (the trace and the record read it).
template <class L>
struct RoundEvents {
  using D = typename L::D;
  using M = typename L::M;
  D alignment_start;          ///< A when the round began
  SovietOffer<L> offer;       ///< 1. the line, the islands T, the declaration format
  M matsumoto_proposes;       ///< 2.
  M declaration_available;    ///< 2. the USSR accepts the format and Matsumoto proposes it
  DullesAction<L> dulles;     ///< 3. estimates, reward, threat
  D alignment_after_dulles;   ///< A after Dulles
  M fisheries_in_force;       ///< F during the vote
  D sg_min_islands_in_force;  ///< m_SG during the vote
  Vote<L> vote;               ///< 4. realized supports
  M treaty;                   ///< 4. Japan took the treaty
  M declaration;              ///< 4. Japan took the declaration
  M okinawa_claim;            ///< 4. the US claims Okinawa (treaty lanes)
  Stall<L> stall;             ///< 5. fisheries, Shigemitsu, cabinet, deadline (stalled lanes)
  M ended;                    ///< the run ended in this round
};

/// Round `round` of MODEL.md §2 in the lanes of `active`: updates the state `st` and returns what
/// happened. Lanes outside `active` compute too, but nothing of theirs is kept. LAZY (one untraced
/// lane: run_lanes) skips work whose result the round's one run does not use (dulles_act,
/// japan_vote): the state and every event keep their bits, but Vote::support_declaration where no
/// declaration was available (NaN: only the trace reads it there, and the trace is not LAZY).
template <class L, bool LAZY = false>
RoundEvents<L> play_round(const Scenario& s, const SupportTable& japan, State<L>& st,
                          typename L::M active, typename L::D round, const RoundDraws<L>& draw) {
  RoundEvents<L> e;
  e.alignment_start = st.alignment;

  // 1. Soviet negotiators: clauses dropped from round 2, the line and its offer, the format.
  drop_clauses<L>(s, st, round, draw.straits_drop, draw.alliance_drop);
  e.offer = soviet_offer<L>(s, round, draw.soft_line, draw.four_islands, draw.accepts_declaration);

  // 2. Matsumoto: a declaration is available only if the USSR accepts the format and he proposes
  // it.
  e.matsumoto_proposes = matsumoto_proposes<L>(s, draw.matsumoto_proposes);
  e.declaration_available = e.offer.accepts_declaration & e.matsumoto_proposes;

  // 3. Dulles: rewards when the treaty's estimated threat is grave, then coercion if not enough.
  // (Japan's view of the treaty on offer is the same for his estimates and the vote, but A and q.)
  const TreatyOffer<L> treaty = treaty_offer<L>(s, japan, st, e.offer.islands);
  e.dulles = dulles_act<L, LAZY>(s, japan, treaty, st, active, round,
                                 s.dulles.estimate_noise_sd * draw.estimate_error,
                                 s.dulles.estimate_noise_sd * draw.estimate_error_after);
  e.alignment_after_dulles = st.alignment;
  e.fisheries_in_force = st.fisheries;
  e.sg_min_islands_in_force = st.sg_min_islands;

  // 4. Japan votes on the state Dulles left; a treaty or a declaration ends the run.
  e.vote =
      japan_vote<L, LAZY>(s, japan, e.dulles.support_after, st, e.offer.islands,
                          e.declaration_available, s.japan.vote_noise_sd * draw.vote_noise_treaty,
                          s.japan.vote_noise_sd * draw.vote_noise_declaration);
  e.treaty = active & e.vote.treaty;
  e.declaration = active & e.vote.declaration;
  e.okinawa_claim = conclude_treaty<L>(s, st, e.treaty, draw.okinawa_claim);
  conclude_declaration<L>(s, st, e.declaration);

  // 5. Stall: fisheries pressure, Shigemitsu, drift, then the cabinet and the deadline.
  const auto stalled = active & ~e.treaty & ~e.declaration;
  e.stall = stall<L>(s, st, stalled, round, draw.fisheries_pressure, draw.shigemitsu_softens,
                     s.alliance.drift_sd * draw.drift, draw.cabinet_falls);

  e.ended = e.treaty | e.declaration | e.stall.cabinet_fell | e.stall.deadline;
  return e;
}

}  // namespace wedge::agents
