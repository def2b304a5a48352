#pragma once
/// The model's run loop on lanes: W runs advance one round per step, and a lane whose run ended
/// takes the next replicate at once. Each round's random numbers come from that run's own Philox
/// substream (MODEL.md §6; docs/model.md "Random draws"), so a run's record depends only on
/// (seed, point, replicate), never on which lane or width ran it.
#include "agents/record.hpp"
#include "agents/rules.hpp"
#include "agents/scenario.hpp"

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

/// Words drawn for each round: 10 uniforms, then 3 Box-Muller pairs (5 normals used).
inline constexpr int WORDS_PER_ROUND = 16;

/// Runs replicates [rep_begin, rep_begin + count) of scenario `s`, streams keyed by
/// (seed, stream_point, replicate); writes out[i] for replicate rep_begin + i.
template <class L, class Tracer>
void run_lanes(const Scenario& s, std::uint64_t seed, std::uint32_t stream_point, std::uint64_t rep_begin,
               std::uint32_t count, RunRecord* out, Tracer& tracer) {
  using D = typename L::D;
  using U = typename L::U;
  using M = typename L::M;
  using simd::sel;
  using simd::splat;
  constexpr int W = L::width;
  const auto k0 = static_cast<std::uint32_t>(seed);
  const auto k1 = static_cast<std::uint32_t>(seed >> 32);

  State<L> st = State<L>::initial(s, splat<L>(0.0));
  M active = simd::splat_m<L>(false);
  U replicate = simd::splat_u<L>(0);
  D round = splat<L>(1.0);
  D two_island_round = splat<L>(0.0), threat_round = splat<L>(0.0), shigemitsu_round = splat<L>(0.0);
  D reward_total = splat<L>(0.0);
  std::uint64_t next = 0;

  simd::Philox<L> philox;
  philox.c3 = simd::splat_u<L>(stream_point);
  for (;;) {
    // Refill: lanes without a run take the next replicates.
    M fresh = simd::splat_m<L>(false);
    for (int i = 0; i < W; ++i) {
      if (active[i] == 0 && next < count) {
        fresh[i] = -1;
        replicate[i] = rep_begin + next++;
      }
    }
    if (simd::any<L>(fresh)) {
      // Substream 0: what is drawn once per run (the threat's credibility).
      philox.c0 = simd::splat_u<L>(0);
      philox.c1 = simd::splat_u<L>(0);
      philox.c2 = replicate & 0xFFFFFFFFull;
      U w0, w1, w2, w3;
      philox.generate(k0, k1, w0, w1, w2, w3);
      const D c = s.dulles.credibility_min +
                  (s.dulles.credibility_max - s.dulles.credibility_min) * simd::uniform53<L>(w0, w1);
      const State<L> init = State<L>::initial(s, c);
      st.alignment = sel<L>(fresh, init.alignment, st.alignment);
      st.straits_clause = fresh ? init.straits_clause : st.straits_clause;
      st.alliance_clause = fresh ? init.alliance_clause : st.alliance_clause;
      st.fisheries = fresh ? init.fisheries : st.fisheries;
      st.sg_min_islands = sel<L>(fresh, init.sg_min_islands, st.sg_min_islands);
      st.threat = sel<L>(fresh, init.threat, st.threat);
      st.threat_issued = fresh ? init.threat_issued : st.threat_issued;
      st.credibility = sel<L>(fresh, c, st.credibility);
      round = sel<L>(fresh, splat<L>(1.0), round);
      two_island_round = sel<L>(fresh, splat<L>(0.0), two_island_round);
      threat_round = sel<L>(fresh, splat<L>(0.0), threat_round);
      shigemitsu_round = sel<L>(fresh, splat<L>(0.0), shigemitsu_round);
      reward_total = sel<L>(fresh, splat<L>(0.0), reward_total);
      active |= fresh;
      if constexpr (Tracer::enabled) tracer.start(c[0]);
    }
    if (!simd::any<L>(active)) break;

    // This round's draws: substream = round, blocks 0-3.
    U w[WORDS_PER_ROUND];
    philox.c1 = simd::to_uint<L>(round);
    philox.c2 = replicate & 0xFFFFFFFFull;
    for (int b = 0; b < 4; ++b) {
      philox.c0 = simd::splat_u<L>(static_cast<std::uint64_t>(b));
      philox.generate(k0, k1, w[4 * b], w[4 * b + 1], w[4 * b + 2], w[4 * b + 3]);
    }
    const D u_straits = simd::uniform<L>(w[0]), u_alliance = simd::uniform<L>(w[1]);
    const D u_line = simd::uniform<L>(w[2]), u_four = simd::uniform<L>(w[3]);
    const D u_accept = simd::uniform<L>(w[4]), u_formula = simd::uniform<L>(w[5]);
    const D u_okinawa = simd::uniform<L>(w[6]), u_fisheries = simd::uniform<L>(w[7]);
    const D u_soften = simd::uniform<L>(w[8]), u_fall = simd::uniform<L>(w[9]);
    D z_estimate1, z_estimate2, z_treaty, z_declaration, z_drift, z_unused;
    simd::box_muller<L>(w[10], w[11], z_estimate1, z_estimate2);
    simd::box_muller<L>(w[12], w[13], z_treaty, z_declaration);
    simd::box_muller<L>(w[14], w[15], z_drift, z_unused);

    const D alignment_start = st.alignment;
    // 1. Soviet negotiators.
    drop_clauses<L>(s, st, round, u_straits, u_alliance);
    const SovietOffer<L> offer = soviet_offer<L>(s, round, u_line, u_four, u_accept);
    two_island_round = sel<L>((offer.islands >= 2.0) & (two_island_round == 0.0), round, two_island_round);
    // 2. Matsumoto.
    const M proposes = matsumoto_proposes<L>(s, u_formula);
    const M available = offer.accepts_declaration & proposes;
    // 3. Dulles.
    const DullesAction<L> act = dulles_act<L>(s, st, active, round, offer.islands,
                                              s.dulles.estimate_noise_sd * z_estimate1,
                                              s.dulles.estimate_noise_sd * z_estimate2);
    reward_total += act.reward;
    threat_round = sel<L>(act.coerced, round, threat_round);
    const D alignment_after_dulles = st.alignment;
    const M fisheries_in_force = st.fisheries;
    const D sg_in_force = st.sg_min_islands;
    // 4. Japan votes.
    const Vote<L> vote = japan_vote<L>(s, st, offer.islands, available, s.japan.vote_noise_sd * z_treaty,
                                       s.japan.vote_noise_sd * z_declaration);
    const M treaty = active & vote.treaty;
    const M declaration = active & vote.declaration;
    const M claim = conclude_treaty<L>(s, st, treaty, u_okinawa);
    conclude_declaration<L>(s, st, declaration);
    // 5. Stall.
    const M stalled = active & ~treaty & ~declaration;
    const Stall<L> out_stall = stall<L>(s, st, stalled, round, u_fisheries, u_soften,
                                        s.alliance.drift_sd * z_drift, u_fall);
    shigemitsu_round = sel<L>(out_stall.shigemitsu_softened, round, shigemitsu_round);

    const M ended = treaty | declaration | out_stall.cabinet_fell | out_stall.deadline;
    if constexpr (Tracer::enabled) {
      RoundTrace t;
      t.round = static_cast<int>(round[0]);
      t.alignment_start = alignment_start[0];
      t.straits_clause = st.straits_clause[0] != 0;
      t.alliance_clause = st.alliance_clause[0] != 0;
      t.soft_line = offer.soft_line[0] != 0;
      t.islands_offered = static_cast<int>(offer.islands[0]);
      t.ussr_accepts_declaration = offer.accepts_declaration[0] != 0;
      t.matsumoto_proposes = proposes[0] != 0;
      t.declaration_available = available[0] != 0;
      t.fisheries_in_force = fisheries_in_force[0] != 0;
      t.sg_min_islands = static_cast<int>(sg_in_force[0]);
      t.dulles_estimate = act.estimate[0];
      t.gravity = act.gravity[0];
      t.rewarded = act.rewarded[0] != 0;
      t.reward = act.reward[0];
      t.dulles_estimate_after = act.estimate_after[0];
      t.coerced = act.coerced[0] != 0;
      t.threat = st.threat[0];
      t.alignment_after_dulles = alignment_after_dulles[0];
      t.support_treaty = vote.support_treaty[0];
      t.support_declaration = vote.support_declaration[0];
      t.decision = treaty[0] != 0 ? Format::treaty : declaration[0] != 0 ? Format::declaration : Format::none;
      t.okinawa = claim[0] != 0 ? Okinawa::us_claim : Okinawa::residual;
      t.fisheries_pressure = out_stall.fisheries[0] != 0;
      t.shigemitsu_softened = out_stall.shigemitsu_softened[0] != 0;
      t.cabinet_fell = out_stall.cabinet_fell[0] != 0;
      t.deadline = out_stall.deadline[0] != 0;
      t.alignment_end = st.alignment[0];
      tracer.round(t);
    }
    if (simd::any<L>(ended)) {
      const D alliance = classify_alliance<L>(s, treaty, st.straits_clause, st.alliance_clause, st.alignment);
      for (int i = 0; i < W; ++i) {
        if (ended[i] == 0) continue;
        RunRecord& r = out[replicate[i] - rep_begin];
        r.format = treaty[i] != 0 ? Format::treaty : declaration[i] != 0 ? Format::declaration : Format::none;
        r.end_reason = (treaty[i] | declaration[i]) != 0 ? EndReason::agreement
                       : out_stall.cabinet_fell[i] != 0  ? EndReason::cabinet_fell
                                                         : EndReason::deadline;
        r.alliance = static_cast<AllianceState>(static_cast<int>(alliance[i]));
        r.okinawa = claim[i] != 0 ? Okinawa::us_claim : Okinawa::residual;
        r.rounds = static_cast<std::uint8_t>(round[i]);
        const auto islands = static_cast<std::uint8_t>(offer.islands[i]);
        r.islands_promised = r.format == Format::none ? 0 : islands;
        r.islands_transferred = r.format == Format::treaty ? islands : 0;
        r.straits_clause = st.straits_clause[i] != 0;
        r.alliance_clause = st.alliance_clause[i] != 0;
        r.threat_round = static_cast<std::uint8_t>(threat_round[i]);
        r.shigemitsu_round = static_cast<std::uint8_t>(shigemitsu_round[i]);
        r.two_island_round = static_cast<std::uint8_t>(two_island_round[i]);
        r.alignment = st.alignment[i];
        r.reward_total = reward_total[i];
      }
      active &= ~ended;
    }
    round = round + 1.0;
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
