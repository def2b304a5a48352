#pragma once
/// One round of the model (MODEL.md §2) on lanes of runs: the draws it consumes, named by what
/// they decide (docs/model.md, "Random draws"), and the round itself as one function that follows
/// §2 step by step. Refilling lanes, the trace and the records live around it (agents/kernel.hpp).
#include "agents/rules.hpp"
#include "agents/scenario.hpp"
#include "engine/rng.hpp"
#include "engine/simd/distributions.hpp"

#include <limits>

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
/// are (w + 1/2)/2^32, and an event "with probability p" happens when its uniform is below p: for
/// the scenario's fixed probabilities the word itself is kept and compared with p's threshold
/// (Chances: the same bits), the Okinawa claim's uniform (compared with the state's q) is
/// converted; normals are standard (each rule scales its own).
template <class L>
struct RoundDraws {
  using D = typename L::D;
  using U = typename L::U;
  static constexpr int WORDS = 16;

  U straits_drop;            ///< word 0: §2.1, the straits clause is dropped (from round 2)
  U alliance_drop;           ///< word 1: §2.1, the no-alliance clause is dropped (from round 2)
  U soft_line;               ///< word 2: §2.1, the Khrushchev line prevails
  U four_islands;            ///< word 3: §2.1, the soft line offers four islands
  U accepts_declaration;     ///< word 4: §2.1, the USSR accepts the declaration format
  U matsumoto_proposes;      ///< word 5: §2.2, Matsumoto proposes the declaration formula
  D okinawa_claim;           ///< word 6 (uniform): §2.4, after a treaty under threat, the US
                             ///< claims Okinawa
  U fisheries_pressure;      ///< word 7: §2.5, fisheries pressure for the next round
  U shigemitsu_softens;      ///< word 8: §2.5, SG's minimum goes from four islands to two
  U cabinet_falls;           ///< word 9: §2.5, Hatoyama's cabinet falls
  D estimate_error;          ///< words 10-11, cos: §2.3, Dulles's first estimate error e
  D estimate_error_after;    ///< words 10-11, sin: §2.3, his error after rewarding
  D vote_noise_treaty;       ///< words 12-13, cos: §2.4, noise on the treaty's realized support
  D vote_noise_declaration;  ///< words 12-13, sin: §2.4, noise on the declaration's support
  D drift;                   ///< words 14-15, cos: §2.5, the alignment's drift (sin unused)
  U error_words[2];          ///< words 10-11, of which estimate_errors() makes Dulles's errors
  U vote_words[2];           ///< words 12-13, of which vote_noises() makes the vote's normals
  U drift_words[2];          ///< words 14-15, of which drift_noise() makes the drift

  /// Round `round`'s draws (round[i] for lane i) from every lane's stream (see from_words).
  static RoundDraws draw(const engine::LaneStreams<L>& streams, D round) {
    U w[WORDS];
    streams.words(simd::to_uint<L>(round), w);
    return from_words(w);
  }

  /// The draws from a round's words: the one place that maps words to draws. The normals of
  /// words 10-15 are left NaN: play_round makes them (estimate_errors, vote_noises, drift_noise)
  /// where it uses them, Dulles's errors once his supports are issued, the vote's and the drift's
  /// after him, so that the CPU makes them while the supports' and Phi's long chains of dependent
  /// operations run (with LAZY, one untraced lane, the last two only if its round uses them).
  static RoundDraws from_words(const U (&w)[WORDS]) {
    RoundDraws d;
    d.straits_drop = w[0];
    d.alliance_drop = w[1];
    d.soft_line = w[2];
    d.four_islands = w[3];
    d.accepts_declaration = w[4];
    d.matsumoto_proposes = w[5];
    d.okinawa_claim = simd::uniform<L>(w[6]);
    d.fisheries_pressure = w[7];
    d.shigemitsu_softens = w[8];
    d.cabinet_falls = w[9];
    d.error_words[0] = w[10];
    d.error_words[1] = w[11];
    d.vote_words[0] = w[12];
    d.vote_words[1] = w[13];
    d.drift_words[0] = w[14];
    d.drift_words[1] = w[15];
    d.estimate_error = d.estimate_error_after = d.vote_noise_treaty = d.vote_noise_declaration =
        d.drift = simd::splat<L>(std::numeric_limits<double>::quiet_NaN());
    return d;
  }

  /// Dulles's two estimate errors from words 10-11 (Box-Muller).
  void estimate_errors() {
    simd::box_muller<L>(error_words[0], error_words[1], estimate_error, estimate_error_after);
  }
  /// The vote's two normals from words 12-13 (Box-Muller).
  void vote_noises() {
    simd::box_muller<L>(vote_words[0], vote_words[1], vote_noise_treaty, vote_noise_declaration);
  }
  /// The drift's normal from words 14-15 (Box-Muller's first; the second is unused).
  void drift_noise() {
    D unused;
    simd::box_muller<L>(drift_words[0], drift_words[1], drift, unused);
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
/// declaration was available (NaN: only the trace reads it there, and the trace is not LAZY), and
/// Vote::support_treaty where no treaty was offered. `draw` comes from RoundDraws::draw (its
/// normals of words 12-15 are made here); `japan` and `chance` are derived from `s` (once per
/// block).
template <class L, bool LAZY = false>
RoundEvents<L> play_round(const Scenario& s, const SupportTable& japan, const Chances& chance,
                          State<L>& st, typename L::M active, typename L::D round,
                          RoundDraws<L> draw) {
  RoundEvents<L> e;
  e.alignment_start = st.alignment;

  // 1. Soviet negotiators: clauses dropped from round 2, the line and its offer, the format.
  drop_clauses<L>(chance, st, round, draw.straits_drop, draw.alliance_drop);
  e.offer = soviet_offer<L>(s, chance, round, draw.soft_line, draw.four_islands,
                            draw.accepts_declaration);

  // 2. Matsumoto: a declaration is available only if the USSR accepts the format and he proposes
  // it.
  e.matsumoto_proposes = matsumoto_proposes<L>(chance, draw.matsumoto_proposes);
  e.declaration_available = e.offer.accepts_declaration & e.matsumoto_proposes;

  // 3. Dulles: rewards when the treaty's estimated threat is grave, then coercion if not enough.
  // (Japan's view of the treaty on offer is the same for his estimates and the vote, but A and q.)
  const TreatyOffer<L> treaty = treaty_offer<L>(s, japan, st, e.offer.islands);
  // (Dulles's errors are made once his supports are issued: dulles_act.)
  e.dulles = dulles_act<L, LAZY>(s, japan, treaty, st, active, round, [&] {
    draw.estimate_errors();
    return std::array<typename L::D, 2>{s.dulles.estimate_noise_sd * draw.estimate_error,
                                        s.dulles.estimate_noise_sd * draw.estimate_error_after};
  });
  e.alignment_after_dulles = st.alignment;
  e.fisheries_in_force = st.fisheries;
  e.sg_min_islands_in_force = st.sg_min_islands;

  // 4. Japan votes on the state Dulles left; a treaty or a declaration ends the run.
  // The vote's normals are made here, not with the round's other draws: issued after Dulles, they
  // fill the CPU while his supports' and Phi's chains of dependent operations run (before them,
  // they only lengthened each round's path; -7% CPU time per 16-lane block on Zen 5).
  // LAZY skip 4: the vote's normals only when there is something to take (a treaty offered or a
  // declaration available).
  if constexpr (LAZY) {
    if (simd::any<L>((e.offer.islands > 0.0) | e.declaration_available)) draw.vote_noises();
  } else {
    draw.vote_noises();
  }
  e.vote =
      japan_vote<L, LAZY>(s, japan, treaty, e.dulles.support_after, st, e.offer.islands,
                          e.declaration_available, s.japan.vote_noise_sd * draw.vote_noise_treaty,
                          s.japan.vote_noise_sd * draw.vote_noise_declaration);
  e.treaty = active & e.vote.treaty;
  e.declaration = active & e.vote.declaration;
  e.okinawa_claim = conclude_treaty<L>(s, st, e.treaty, draw.okinawa_claim);
  conclude_declaration<L>(s, st, e.declaration);

  // 5. Stall: fisheries pressure, Shigemitsu, drift, then the cabinet and the deadline.
  const auto stalled = active & ~e.treaty & ~e.declaration;
  // LAZY skip 5: the drift's normal only when the run stalls.
  if constexpr (LAZY) {
    if (simd::any<L>(stalled)) draw.drift_noise();
  } else {
    draw.drift_noise();
  }
  e.stall = stall<L>(s, chance, st, stalled, round, draw.fisheries_pressure,
                     draw.shigemitsu_softens, s.alliance.drift_sd * draw.drift, draw.cabinet_falls);

  e.ended = e.treaty | e.declaration | e.stall.cabinet_fell | e.stall.deadline;
  return e;
}

}  // namespace wedge::agents
