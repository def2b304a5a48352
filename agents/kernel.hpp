#pragma once
/// The model's run loop on lanes: W runs advance one round per step (agents/round.hpp), and a
/// lane whose run ended writes its record and takes the next replicate at once. Each run draws
/// from its own stream, which the engine hands over (engine::LaneStreams: MODEL.md §6;
/// docs/model.md "Random draws"), so a run's record depends only on (seed, point, replicate),
/// never on which lane or width ran it.
#include "agents/record.hpp"
#include "agents/round.hpp"
#include "agents/rules.hpp"
#include "agents/scenario.hpp"
#include "engine/rng.hpp"

#include <cstdint>

namespace wedge::agents {

/// One round of a run, as the trace tells it (MODEL.md §5).
struct RoundTrace {
  int round = 0;
  double alignment_start = 0.0;     ///< A at the start of the round
  bool straits_clause = false;      ///< S after this round's drops
  bool alliance_clause = false;     ///< N after this round's drops
  bool soft_line = false;
  int islands_offered = 0;
  bool ussr_accepts_declaration = false;
  bool matsumoto_proposes = false;
  bool declaration_available = false;
  bool fisheries_in_force = false;  ///< F during this round's vote
  int sg_min_islands = 4;           ///< m_SG during this round's vote
  double dulles_estimate = 0.0;
  double gravity = 1.0;
  bool rewarded = false;
  double reward = 0.0;
  double dulles_estimate_after = 0.0;
  bool coerced = false;
  double threat = 0.0;              ///< q after Dulles
  double alignment_after_dulles = 0.0;
  double support_treaty = 0.0;       ///< realized W_t
  double support_declaration = 0.0;  ///< realized W_d
  Format decision = Format::none;
  Okinawa okinawa = Okinawa::residual;  ///< treaty rounds only
  bool fisheries_pressure = false;      ///< stalled rounds: imposed for the next round
  bool shigemitsu_softened = false;
  bool cabinet_fell = false;
  bool deadline = false;
  double alignment_end = 0.0;
};

/// A tracer that records nothing (the untraced run); the compiler removes every call.
struct NullTracer {
  static constexpr bool enabled = false;
  void start(double /*credibility*/) noexcept {}
  void round(const RoundTrace& /*trace*/) noexcept {}
};

namespace kernel {

/// What a run keeps for its record besides the state (MODEL.md §5), one lane per run.
template <class L>
struct History {
  using D = typename L::D;
  D round;             ///< the round being played, from 1
  D two_island_round;  ///< first round with T >= 2 offered, 0 if none yet
  D threat_round;      ///< round of the Okinawa threat, 0 if none
  D shigemitsu_round;  ///< round in which SG softened, 0 if never
  D reward_total;      ///< sum of R so far

  static History start() {
    return {simd::splat<L>(1.0), simd::splat<L>(0.0), simd::splat<L>(0.0), simd::splat<L>(0.0),
            simd::splat<L>(0.0)};
  }

  /// `a` in the lanes of `m`, `b` elsewhere.
  static History select(typename L::M m, const History& a, const History& b) {
    using simd::sel;
    return {sel<L>(m, a.round, b.round), sel<L>(m, a.two_island_round, b.two_island_round),
            sel<L>(m, a.threat_round, b.threat_round), sel<L>(m, a.shigemitsu_round, b.shigemitsu_round),
            sel<L>(m, a.reward_total, b.reward_total)};
  }

  /// Keeps what this round did.
  void note(const RoundEvents<L>& e) {
    using simd::sel;
    two_island_round = sel<L>((e.offer.islands >= 2.0) & (two_island_round == 0.0), round, two_island_round);
    reward_total += e.dulles.reward;
    threat_round = sel<L>(e.dulles.coerced, round, threat_round);
    shigemitsu_round = sel<L>(e.stall.shigemitsu_softened, round, shigemitsu_round);
  }
};

/// Lane 0's round, as the trace tells it.
template <class L>
RoundTrace trace_round(const RoundEvents<L>& e, const State<L>& st, const History<L>& h) {
  RoundTrace t;
  t.round = static_cast<int>(h.round[0]);
  t.alignment_start = e.alignment_start[0];
  t.straits_clause = st.straits_clause[0] != 0;
  t.alliance_clause = st.alliance_clause[0] != 0;
  t.soft_line = e.offer.soft_line[0] != 0;
  t.islands_offered = static_cast<int>(e.offer.islands[0]);
  t.ussr_accepts_declaration = e.offer.accepts_declaration[0] != 0;
  t.matsumoto_proposes = e.matsumoto_proposes[0] != 0;
  t.declaration_available = e.declaration_available[0] != 0;
  t.fisheries_in_force = e.fisheries_in_force[0] != 0;
  t.sg_min_islands = static_cast<int>(e.sg_min_islands_in_force[0]);
  t.dulles_estimate = e.dulles.estimate[0];
  t.gravity = e.dulles.gravity[0];
  t.rewarded = e.dulles.rewarded[0] != 0;
  t.reward = e.dulles.reward[0];
  t.dulles_estimate_after = e.dulles.estimate_after[0];
  t.coerced = e.dulles.coerced[0] != 0;
  t.threat = st.threat[0];
  t.alignment_after_dulles = e.alignment_after_dulles[0];
  t.support_treaty = e.vote.support_treaty[0];
  t.support_declaration = e.vote.support_declaration[0];
  t.decision = e.treaty[0] != 0 ? Format::treaty : e.declaration[0] != 0 ? Format::declaration : Format::none;
  t.okinawa = e.okinawa_claim[0] != 0 ? Okinawa::us_claim : Okinawa::residual;
  t.fisheries_pressure = e.stall.fisheries[0] != 0;
  t.shigemitsu_softened = e.stall.shigemitsu_softened[0] != 0;
  t.cabinet_fell = e.stall.cabinet_fell[0] != 0;
  t.deadline = e.stall.deadline[0] != 0;
  t.alignment_end = st.alignment[0];
  return t;
}

/// The record of the run in lane i, which ended in this round (MODEL.md §5).
template <class L>
RunRecord record_of(int i, const RoundEvents<L>& e, const State<L>& st, const History<L>& h,
                    typename L::D alliance) {
  RunRecord r;
  r.format = e.treaty[i] != 0 ? Format::treaty : e.declaration[i] != 0 ? Format::declaration : Format::none;
  r.end_reason = (e.treaty[i] | e.declaration[i]) != 0 ? EndReason::agreement
                 : e.stall.cabinet_fell[i] != 0        ? EndReason::cabinet_fell
                                                       : EndReason::deadline;
  r.alliance = static_cast<AllianceState>(static_cast<int>(alliance[i]));
  r.okinawa = e.okinawa_claim[i] != 0 ? Okinawa::us_claim : Okinawa::residual;
  r.rounds = static_cast<std::uint8_t>(h.round[i]);
  const auto islands = static_cast<std::uint8_t>(e.offer.islands[i]);
  r.islands_promised = r.format == Format::none ? 0 : islands;
  r.islands_transferred = r.format == Format::treaty ? islands : 0;
  r.straits_clause = st.straits_clause[i] != 0;
  r.alliance_clause = st.alliance_clause[i] != 0;
  r.threat_round = static_cast<std::uint8_t>(h.threat_round[i]);
  r.shigemitsu_round = static_cast<std::uint8_t>(h.shigemitsu_round[i]);
  r.two_island_round = static_cast<std::uint8_t>(h.two_island_round[i]);
  r.alignment = st.alignment[i];
  r.reward_total = h.reward_total[i];
  return r;
}

/// Runs replicates [first.replicate, first.replicate + count) of scenario `s` from the streams of
/// (first.seed, first.point); writes out[k] for replicate first.replicate + k.
template <class L, class Tracer>
void run_lanes(const Scenario& s, const engine::StreamKey& first, std::uint32_t count, RunRecord* out,
               Tracer& tracer) {
  using M = typename L::M;
  engine::LaneStreams<L> streams(first);
  State<L> st = State<L>::initial(s, simd::splat<L>(0.0));
  History<L> h = History<L>::start();
  M active = simd::splat_m<L>(false);
  std::uint32_t next = 0;
  for (;;) {
    // Lanes without a run take the next replicates and start them (substream 0: credibility c).
    M fresh = simd::splat_m<L>(false);
    for (int i = 0; i < L::width && next < count; ++i) {
      if (active[i] != 0) continue;
      fresh[i] = -1;
      streams.assign(i, std::uint64_t{first.replicate} + next++);
    }
    if (simd::any<L>(fresh)) {
      const auto c = s.dulles.credibility_min +
                     (s.dulles.credibility_max - s.dulles.credibility_min) * RunDraws<L>::draw(streams).credibility;
      st = State<L>::select(fresh, State<L>::initial(s, c), st);
      h = History<L>::select(fresh, History<L>::start(), h);
      active |= fresh;
      if constexpr (Tracer::enabled) tracer.start(c[0]);
    }
    if (!simd::any<L>(active)) break;

    const RoundEvents<L> e = play_round<L>(s, st, active, h.round, RoundDraws<L>::draw(streams, h.round));
    h.note(e);
    if constexpr (Tracer::enabled) tracer.round(trace_round<L>(e, st, h));

    if (simd::any<L>(e.ended)) {
      const auto alliance = classify_alliance<L>(s, e.treaty, st.straits_clause, st.alliance_clause, st.alignment);
      for (int i = 0; i < L::width; ++i) {
        if (e.ended[i] != 0) out[streams.replicate()[i] - first.replicate] = record_of<L>(i, e, st, h, alliance);
      }
      active &= ~e.ended;
    }
    h.round = h.round + 1.0;
  }
}

}  // namespace kernel

/// Runs replicates [rep_begin, rep_begin + count) with the widest kernel this CPU supports.
void run_block(const Scenario& s, std::uint64_t seed, std::uint32_t stream_point, std::uint64_t rep_begin,
               std::uint32_t count, RunRecord* out);

/// The same with a given lane width: 1 (portable), 4 (needs AVX2) or 8 (needs AVX-512); false if
/// this CPU or build lacks it. Every width gives the same records.
bool run_block_width(int width, const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
                     std::uint64_t rep_begin, std::uint32_t count, RunRecord* out);

/// The kernel run_block uses on this machine, e.g. "avx512 (8 lanes)".
const char* kernel_name();

}  // namespace wedge::agents
