#pragma once
/// The agents' rules (MODEL.md §2-§3) as small functions of the state and of the random draws
/// they consume, on lanes of runs (engine/simd/lanes.hpp): the same code runs one run at a time
/// (W = 1: the trace, the tests) and many in SIMD lanes (W = 4, 8), with identical bits. A
/// Bernoulli event "with probability p" happens when its uniform draw is below p; for the
/// scenario's fixed probabilities the rules take the draw's 32-bit word and compare it with p's
/// threshold (Chances), which gives the same bits without converting the word.
#include "agents/record.hpp"
#include "agents/scenario.hpp"
#include "engine/simd/distributions.hpp"
#include "engine/simd/lanes.hpp"
#include "engine/simd/math.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace wedge::agents {

namespace simd = engine::simd;

/// The state carried across rounds (MODEL.md §2), one lane per run.
template <class L>
struct State {
  using D = typename L::D;
  using M = typename L::M;
  D alignment;        ///< A
  M straits_clause;   ///< S
  M alliance_clause;  ///< N
  M fisheries;        ///< F
  D sg_min_islands;   ///< m_SG (4 or 2, or the scenario's value)
  D threat;           ///< q
  M threat_issued;    ///< a threat is in force (even if q = c * kappa happens to be 0)
  D credibility;      ///< c

  /// The state at the start of a run, with credibility c.
  static State initial(const Scenario& s, D credibility) {
    State st;
    st.alignment = simd::splat<L>(s.alliance.initial);
    st.straits_clause = simd::splat_m<L>(s.soviet.straits_clause);
    st.alliance_clause = simd::splat_m<L>(s.soviet.alliance_clause);
    st.fisheries = simd::splat_m<L>(false);
    // m_SG: the softening faction's minimum; with none, 0, which never softens (§2.5 needs 4).
    const int softens = s.japan.factions.softens;
    st.sg_min_islands = simd::splat<L>(
        softens >= 0 ? s.japan.factions.list[static_cast<std::size_t>(softens)].min_islands : 0);
    st.threat = simd::splat<L>(0.0);
    st.threat_issued = simd::splat_m<L>(false);
    st.credibility = credibility;
    return st;
  }

  /// `a` in the lanes of `m`, `b` elsewhere.
  static State select(M m, const State& a, const State& b) {
    State st;
    st.alignment = simd::sel<L>(m, a.alignment, b.alignment);
    st.straits_clause = simd::sel_m<L>(m, a.straits_clause, b.straits_clause);
    st.alliance_clause = simd::sel_m<L>(m, a.alliance_clause, b.alliance_clause);
    st.fisheries = simd::sel_m<L>(m, a.fisheries, b.fisheries);
    st.sg_min_islands = simd::sel<L>(m, a.sg_min_islands, b.sg_min_islands);
    st.threat = simd::sel<L>(m, a.threat, b.threat);
    st.threat_issued = simd::sel_m<L>(m, a.threat_issued, b.threat_issued);
    st.credibility = simd::sel<L>(m, a.credibility, b.credibility);
    return st;
  }
};

/// Japan's factions as the support sums use them (§3), derived once from the scenario. With
/// x_f = λ u_f, each faction's logistic 1 / (1 + e^(-x_f)) is 1 / (1 + 2^(t_f)) with
/// t_f = -x_f log2 e, which is linear in the state:
///   treaty:       t_f = territory_f (m_f - T) - side_f(F) + alliance_f A damage + okinawa_f q
///   declaration:  t_f = alliance_f A damage_declaration - side_f(F)
/// where the coefficients are the saliences times λ log2 e (territory also / 4, side also times
/// carrots (1 + fisheries_boost F)), and the weights are normalised by their sum. Each t_f is
/// computed in double as here; the logistic terms and their sum in single precision
/// (simd::LogisticSumFloat: absolute error of W below 1e-6), the support returned as a double.
struct SupportTable {
  explicit SupportTable(const Scenario& s);  // agents/kernel.cpp (one copy, compiled portable)
  std::size_t count = 0;                     ///< the scenario's factions
  std::size_t softens = 0;                   ///< the faction whose minimum is m_SG, or count (none)
  float weight_float[MAX_FACTIONS]{};        ///< w_f / sum of w, rounded to float (the sums')
  double min_islands[MAX_FACTIONS]{};        ///< m_f
  double territory[MAX_FACTIONS]{};          ///< λ log2(e) a_T / 4
  double side[2][MAX_FACTIONS]{};   ///< λ log2(e) a_side carrots (1 + fisheries_boost F), F = 0, 1
  double alliance[MAX_FACTIONS]{};  ///< λ log2(e) a_A
  double okinawa[MAX_FACTIONS]{};   ///< λ log2(e) a_Ok
};

/// The scenario's fixed probabilities as thresholds on the 32-bit words of their draws, derived
/// once per block (simd::uniform_threshold: the word's uniform (w + 1/2) 2^-32 is below p exactly
/// when w is below p's threshold, each in [0, 2^32]).
struct Chances {
  explicit Chances(const Scenario& s);  // agents/kernel.cpp (one copy, compiled portable)
  std::uint64_t straits_drop = 0;       ///< §2.1 soviet.straits_drop_hazard
  std::uint64_t alliance_drop = 0;      ///< §2.1 soviet.alliance_drop_hazard
  std::uint64_t soft_line = 0;          ///< §2.1 soviet.soft_line_prob
  std::uint64_t four_islands = 0;       ///< §2.1 soviet.four_island_prob
  std::uint64_t accept_early = 0;       ///< §2.1 soviet.declaration_accept_early
  std::uint64_t accept_late = 0;        ///< §2.1 soviet.declaration_accept_late
  std::uint64_t formula = 0;            ///< §2.2 matsumoto.formula_prob
  std::uint64_t fisheries = 0;          ///< §2.5 soviet.fisheries_pressure_prob
  std::uint64_t soften = 0;             ///< §2.5 shigemitsu.soften_hazard
  std::uint64_t fall_early = 0;         ///< §2.5 hatoyama.fall_hazard_early
  std::uint64_t fall_late = 0;          ///< §2.5 hatoyama.fall_hazard_late
};

/// Japan's view of the treaty on offer in one round (§3): the part of each faction's t_f that
/// stays fixed while Dulles acts and Japan votes (T, F and m_SG change only outside them), and the
/// alliance damage of the treaty (its clauses S, N were settled before).
template <class L>
struct TreatyOffer {
  typename L::D base[MAX_FACTIONS];  ///< territory_f (m_f - T) - side_f(F)
  typename L::D side[MAX_FACTIONS];  ///< side_f(F) (the declaration's t_f reads it too)
  typename L::D damage;  ///< damage_treaty + damage_straits S + damage_alliance_clause N
};

template <class L>
TreatyOffer<L> treaty_offer(const Scenario& s, const SupportTable& japan, const State<L>& st,
                            typename L::D islands) {
  using D = typename L::D;
  TreatyOffer<L> o;
  o.damage = s.japan.damage_treaty +
             s.japan.damage_straits * simd::as_double<L>(st.straits_clause) +
             s.japan.damage_alliance_clause * simd::as_double<L>(st.alliance_clause);
  for (std::size_t f = 0; f < japan.count; ++f) {
    const D m = f == japan.softens ? st.sg_min_islands : simd::splat<L>(japan.min_islands[f]);
    o.side[f] = simd::sel<L>(st.fisheries, simd::splat<L>(japan.side[1][f]),
                             simd::splat<L>(japan.side[0][f]));
    o.base[f] = japan.territory[f] * (m - islands) - o.side[f];
  }
  return o;
}

/// Japan's support W for the treaty on offer (§3), in the current state (A, q).
/// The support in K states (A_k, q_k) at once, each with the bits it has alone: the K sums
/// advance faction by faction side by side, so that their chains (2^t, the running fraction, the
/// division) overlap instead of following one another.
template <class L, std::size_t K>
std::array<typename L::D, K> support_treaty(const SupportTable& japan, const TreatyOffer<L>& offer,
                                            const std::array<typename L::D, K>& alignment,
                                            const std::array<typename L::D, K>& threat) {
  std::array<typename L::D, K> exposure;
  for (std::size_t k = 0; k < K; ++k) exposure[k] = alignment[k] * offer.damage;
  std::array<simd::LogisticSumFloat<L>, K> sum;
  for (std::size_t f = 0; f < japan.count; ++f) {
    for (std::size_t k = 0; k < K; ++k) {
      sum[k].add(japan.weight_float[f],
                 (offer.base[f] + japan.alliance[f] * exposure[k]) + japan.okinawa[f] * threat[k]);
    }
  }
  std::array<typename L::D, K> out;
  for (std::size_t k = 0; k < K; ++k) out[k] = sum[k].value();
  return out;
}

/// Japan's support W for the treaty on offer (§3), in the current state (A, q).
template <class L>
typename L::D support_treaty(const SupportTable& japan, const TreatyOffer<L>& offer,
                             const State<L>& st) {
  return support_treaty<L, 1>(japan, offer, {st.alignment}, {st.threat})[0];
}

/// Japan's support W for the declaration formula (§3): territory shelved, no Okinawa term. Of
/// the round's treaty offer it reads only side_f(F), which both formats share (F is the state's).
template <class L>
typename L::D support_declaration(const Scenario& s, const SupportTable& japan,
                                  const TreatyOffer<L>& offer, const State<L>& st) {
  const typename L::D exposure = st.alignment * s.japan.damage_declaration;
  simd::LogisticSumFloat<L> sum;
  for (std::size_t f = 0; f < japan.count; ++f) {
    sum.add(japan.weight_float[f], japan.alliance[f] * exposure - offer.side[f]);
  }
  return sum.value();
}

/// The same supports from the scenario alone, for a treaty with T islands (tests and benchmarks;
/// the round derives the table once per block and the offer once per round).
template <class L>
typename L::D support_treaty(const Scenario& s, const State<L>& st, typename L::D islands) {
  const SupportTable japan(s);
  return support_treaty<L>(japan, treaty_offer<L>(s, japan, st, islands), st);
}
template <class L>
typename L::D support_declaration(const Scenario& s, const State<L>& st) {
  const SupportTable japan(s);
  return support_declaration<L>(s, japan, treaty_offer<L>(s, japan, st, simd::splat<L>(0.0)), st);
}

/// §2.1: from round 2 each clause still demanded is dropped when its draw falls below its hazard.
/// The draws are 32-bit words (their uniforms (w + 1/2) 2^-32), compared by their thresholds.
template <class L>
void drop_clauses(const Chances& chance, State<L>& st, typename L::D round, typename L::U w_straits,
                  typename L::U w_alliance) {
  const auto later = round >= 2.0;
  st.straits_clause &= ~(later & simd::below_threshold<L>(w_straits, chance.straits_drop));
  st.alliance_clause &= ~(later & simd::below_threshold<L>(w_alliance, chance.alliance_drop));
}

/// The Soviet position in one round (§2.1).
template <class L>
struct SovietOffer {
  typename L::M soft_line;            ///< Khrushchev line prevailed
  typename L::D islands;              ///< T
  typename L::M accepts_declaration;  ///< USSR accepts the declaration format this round
};

/// The draws are 32-bit words (their uniforms (w + 1/2) 2^-32), compared by their thresholds.
template <class L>
SovietOffer<L> soviet_offer(const Scenario& s, const Chances& chance, typename L::D round,
                            typename L::U w_line, typename L::U w_four, typename L::U w_accept) {
  using simd::sel;
  using simd::splat;
  using simd::splat_u;
  SovietOffer<L> o;
  o.soft_line = simd::below_threshold<L>(w_line, chance.soft_line);
  o.islands = sel<L>(
      o.soft_line,
      sel<L>(simd::below_threshold<L>(w_four, chance.four_islands), splat<L>(4.0), splat<L>(2.0)),
      splat<L>(0.0));
  const auto early = round < static_cast<double>(s.soviet.declaration_switch_round);
  o.accepts_declaration = simd::below_threshold<L>(
      w_accept,
      simd::sel_u<L>(early, splat_u<L>(chance.accept_early), splat_u<L>(chance.accept_late)));
  return o;
}

/// §2.2: Matsumoto proposes the declaration formula (w: the draw's 32-bit word).
template <class L>
typename L::M matsumoto_proposes(const Chances& chance, typename L::U w) {
  return simd::below_threshold<L>(w, chance.formula);
}

/// P(ratify) = Φ((W − θ)/σ_v) of a treaty with support W (§2.3), before Dulles's estimate error.
template <class L>
typename L::D ratify_probability(const Scenario& s, typename L::D support) {
  return simd::normal_cdf<L>((support - s.japan.ratify_threshold) * (1.0 / s.japan.vote_noise_sd));
}

/// §2.3: Dulles's estimate of P(Japan ratifies), given support and his error e.
template <class L>
typename L::D dulles_estimate(const Scenario& s, typename L::D support, typename L::D error) {
  return simd::clamp01<L>(ratify_probability<L>(s, support) + error);
}

/// §2.3: gravity of the threat g = 1 + g_S S + g_N N.
template <class L>
typename L::D gravity(const Scenario& s, const State<L>& st) {
  return 1.0 + s.dulles.gravity_straits * simd::as_double<L>(st.straits_clause) +
         s.dulles.gravity_alliance_clause * simd::as_double<L>(st.alliance_clause);
}

/// What Dulles did in one round.
template <class L>
struct DullesAction {
  typename L::D estimate;  ///< first p-hat
  typename L::D gravity;   ///< g
  typename L::M rewarded;
  typename L::D reward;          ///< R where rewarded, else 0
  typename L::D estimate_after;  ///< p-hat after the reward
  typename L::M coerced;
  typename L::D support_after;  ///< Japan's support for the treaty in the state Dulles left
};

/// §2.3: rewards, then (only after rewarding) coercion, in the lanes of `active`. `error1`,
/// `error2` are his two estimate errors (already scaled by estimate_noise_sd). With LAZY (one
/// untraced lane: play_round), Japan's support in the rewarded and the coerced state is computed
/// only when Dulles rewards, resp. coerces (no other lane needs them): every field of the action
/// and of the state keeps the bits it has without LAZY. `errors()` returns {error1, error2}; it is
/// called once, after Japan's supports are computed, so that making the errors (play_round's
/// Box-Muller) is issued while the supports' long chains of dependent operations run rather than
/// before them (-2% CPU time per 16-lane block on Zen 5).
template <class L, bool LAZY = false, class Errors>
DullesAction<L> dulles_act(const Scenario& s, const SupportTable& japan,
                           const TreatyOffer<L>& offer, State<L>& st, typename L::M active,
                           typename L::D round, const Errors& errors) {
  using simd::sel;
  using simd::splat;
  using D = typename L::D;
  DullesAction<L> a;
  a.gravity = gravity<L>(s, st);
  // Every state Dulles can leave is known before he decides: as it is; rewarded (A_r); rewarded
  // and coerced (A_c, q_c; a threat follows only a reward). Japan's support for the treaty is
  // computed in all three side by side, and his decisions then pick one: the same values as
  // computing each after the decision before it, without the chain support -> estimate ->
  // support -> estimate -> support that made every round wait on itself.
  const auto suez = round >= static_cast<double>(s.dulles.suez_round);
  const auto power =
      s.dulles.reward_power * sel<L>(suez, splat<L>(s.dulles.suez_factor), splat<L>(1.0));
  const D aligned_rewarded =
      simd::min<L>(splat<L>(1.0), st.alignment + s.dulles.reward_gain * power);
  const double backlash = s.dulles.backlash * s.dulles.threat_strength * (1.0 - s.dulles.tact);
  const D aligned_coerced = simd::max<L>(splat<L>(0.0), aligned_rewarded - backlash);
  const D threat_coerced = simd::min<L>(splat<L>(1.0), st.credibility * s.dulles.threat_strength);
  // (A lone lane has no neighbours whose states must be computed anyway: with LAZY it computes the
  // state as is first, and each of the others below only when his decisions reach it.)
  std::array<D, 3> support;
  if constexpr (LAZY) {
    support[0] = support_treaty<L, 1>(japan, offer, {st.alignment}, {st.threat})[0];
    support[1] = support[2] = support[0];  // stand-ins that nothing selects
  } else {
    support = support_treaty<L, 3>(japan, offer, {st.alignment, aligned_rewarded, aligned_coerced},
                                   {st.threat, st.threat, threat_coerced});
  }
  const std::array<D, 2> error = errors();
  const D error1 = error[0], error2 = error[1];
  // p-hat = clamp(Phi + e): the first estimate's Phi is the second's where nothing was rewarded.
  const D phi = ratify_probability<L>(s, support[0]);
  a.estimate = simd::clamp01<L>(phi + error1);
  a.rewarded = active & (a.estimate * a.gravity > s.dulles.bind_threshold);
  a.reward = sel<L>(a.rewarded, power, splat<L>(0.0));
  D phi_after = phi;
  // LAZY skip 1: the rewarded state's support and its Phi only when Dulles rewards.
  if (!LAZY || simd::any<L>(a.rewarded)) {
    if constexpr (LAZY) {
      support[1] = support_treaty<L, 1>(japan, offer, {aligned_rewarded}, {st.threat})[0];
    }
    phi_after = sel<L>(a.rewarded, ratify_probability<L>(s, support[1]), phi);
  }
  a.estimate_after = simd::clamp01<L>(phi_after + error2);
  a.coerced = a.rewarded & (a.estimate_after * a.gravity > s.dulles.coerce_threshold) &
              ~st.threat_issued & simd::splat_m<L>(s.dulles.threat_strength > 0.0);
  // LAZY skip 2: the coerced state's support only when Dulles coerces.
  if constexpr (LAZY) {
    if (simd::any<L>(a.coerced)) {
      support[2] = support_treaty<L, 1>(japan, offer, {aligned_coerced}, {threat_coerced})[0];
    }
  }
  st.threat_issued |= a.coerced;
  st.threat = sel<L>(a.coerced, threat_coerced, st.threat);
  st.alignment =
      sel<L>(a.coerced, aligned_coerced, sel<L>(a.rewarded, aligned_rewarded, st.alignment));
  a.support_after = sel<L>(a.coerced, support[2], sel<L>(a.rewarded, support[1], support[0]));
  return a;
}

/// The same with the errors given.
template <class L, bool LAZY = false>
DullesAction<L> dulles_act(const Scenario& s, const SupportTable& japan,
                           const TreatyOffer<L>& offer, State<L>& st, typename L::M active,
                           typename L::D round, typename L::D error1, typename L::D error2) {
  return dulles_act<L, LAZY>(s, japan, offer, st, active, round, [&] {
    return std::array<typename L::D, 2>{error1, error2};
  });
}

/// The same for a treaty of T islands, from the scenario alone (tests).
template <class L>
DullesAction<L> dulles_act(const Scenario& s, State<L>& st, typename L::M active,
                           typename L::D round, typename L::D islands, typename L::D error1,
                           typename L::D error2) {
  const SupportTable japan(s);
  return dulles_act<L>(s, japan, treaty_offer<L>(s, japan, st, islands), st, active, round, error1,
                       error2);
}

/// Japan's decision in one round (§2.4).
template <class L>
struct Vote {
  typename L::D support_treaty;       ///< realized W_t
  typename L::D support_declaration;  ///< realized W_d
  typename L::M treaty;               ///< Japan takes the treaty
  typename L::M declaration;          ///< Japan takes the declaration
};

/// §2.4: `noise_t`, `noise_d` are the realized-support noises (already scaled by vote_noise_sd);
/// `treaty_support` is Japan's support for the treaty `offer` in the state `st` (support_treaty,
/// or DullesAction::support_after); the declaration's support reads the offer's side_f(F). With
/// LAZY (one untraced lane: play_round), the declaration's support is computed only when a
/// declaration is available; otherwise support_declaration is NaN (nothing reads it: the
/// declaration is not acceptable) and the decisions are as without LAZY.
template <class L, bool LAZY = false>
Vote<L> japan_vote(const Scenario& s, const SupportTable& japan, const TreatyOffer<L>& offer,
                   typename L::D treaty_support, const State<L>& st, typename L::D islands,
                   typename L::M declaration_available, typename L::D noise_t,
                   typename L::D noise_d) {
  Vote<L> v;
  const double theta = s.japan.ratify_threshold;
  v.support_treaty = treaty_support + noise_t;
  // LAZY skip 3: the declaration's support only when a declaration is available.
  if (!LAZY || simd::any<L>(declaration_available)) {
    v.support_declaration = support_declaration<L>(s, japan, offer, st) + noise_d;
  } else {
    v.support_declaration = simd::splat<L>(std::numeric_limits<double>::quiet_NaN());
  }
  const auto treaty_ok = (islands > 0.0) & (v.support_treaty >= theta);
  const auto declaration_ok = declaration_available & (v.support_declaration >= theta);
  // Both acceptable: the larger realized support, the treaty on a tie.
  v.treaty = treaty_ok & (~declaration_ok | (v.support_treaty >= v.support_declaration));
  v.declaration = declaration_ok & ~v.treaty;
  return v;
}

/// The same with the treaty's support computed here from the offer.
template <class L>
Vote<L> japan_vote(const Scenario& s, const SupportTable& japan, const TreatyOffer<L>& offer,
                   const State<L>& st, typename L::D islands, typename L::M declaration_available,
                   typename L::D noise_t, typename L::D noise_d) {
  return japan_vote<L>(s, japan, offer, support_treaty<L>(japan, offer, st), st, islands,
                       declaration_available, noise_t, noise_d);
}

/// The same for a treaty of T islands, from the scenario alone (tests).
template <class L>
Vote<L> japan_vote(const Scenario& s, const State<L>& st, typename L::D islands,
                   typename L::M declaration_available, typename L::D noise_t,
                   typename L::D noise_d) {
  const SupportTable japan(s);
  return japan_vote<L>(s, japan, treaty_offer<L>(s, japan, st, islands), st, islands,
                       declaration_available, noise_t, noise_d);
}

/// §2.4: alignment after a treaty, and whether the US claims Okinawa (draw u_okinawa), in the
/// lanes of `treaty`.
template <class L>
typename L::M conclude_treaty(const Scenario& s, State<L>& st, typename L::M treaty,
                              typename L::D u_okinawa) {
  const auto clauses =
      1.0 + simd::as_double<L>(st.straits_clause) + simd::as_double<L>(st.alliance_clause);
  st.alignment = simd::sel<L>(
      treaty, simd::max<L>(simd::splat<L>(0.0), st.alignment - s.alliance.treaty_cost * clauses),
      st.alignment);
  return treaty & (st.threat > 0.0) & (u_okinawa < st.threat);
}

/// §2.4: alignment after a declaration, in the lanes of `declaration`.
template <class L>
void conclude_declaration(const Scenario& s, State<L>& st, typename L::M declaration) {
  st.alignment = simd::sel<L>(
      declaration, simd::max<L>(simd::splat<L>(0.0), st.alignment - s.alliance.declaration_cost),
      st.alignment);
}

/// What happened in a stalled round (§2.5).
template <class L>
struct Stall {
  typename L::M fisheries;
  typename L::M shigemitsu_softened;
  typename L::M cabinet_fell;
  typename L::M deadline;
};

/// §2.5 in the lanes of `stalled`, in order: fisheries, Shigemitsu, drift (`drift` already scaled
/// by drift_sd), cabinet, deadline. The w_ draws are 32-bit words (their uniforms
/// (w + 1/2) 2^-32), compared by their thresholds.
template <class L>
Stall<L> stall(const Scenario& s, const Chances& chance, State<L>& st, typename L::M stalled,
               typename L::D round, typename L::U w_fisheries, typename L::U w_soften,
               typename L::D drift, typename L::U w_fall) {
  using simd::sel;
  using simd::splat;
  using simd::splat_u;
  Stall<L> out;
  out.fisheries = stalled & simd::below_threshold<L>(w_fisheries, chance.fisheries);
  st.fisheries = out.fisheries | (~stalled & st.fisheries);
  out.shigemitsu_softened =
      stalled & (st.sg_min_islands == 4.0) & simd::below_threshold<L>(w_soften, chance.soften);
  st.sg_min_islands = sel<L>(out.shigemitsu_softened, splat<L>(2.0), st.sg_min_islands);
  st.alignment = sel<L>(stalled, simd::clamp01<L>(st.alignment + drift), st.alignment);
  const auto early = round < static_cast<double>(s.hatoyama.fall_switch_round);
  const auto hazard =
      simd::sel_u<L>(early, splat_u<L>(chance.fall_early), splat_u<L>(chance.fall_late));
  out.cabinet_fell = stalled & simd::below_threshold<L>(w_fall, hazard);
  out.deadline = stalled & ~out.cabinet_fell & (round >= static_cast<double>(s.negotiation.rounds));
  return out;
}

/// End of run: the alliance's state from the final alignment (category index of AllianceState).
template <class L>
typename L::D classify_alliance(const Scenario& s, typename L::M treaty,
                                typename L::M straits_clause, typename L::M alliance_clause,
                                typename L::D alignment) {
  using simd::sel;
  using simd::splat;
  const auto realign =
      treaty & straits_clause & alliance_clause & (alignment < s.alliance.realign_below);
  return sel<L>(
      realign, splat<L>(3.0),
      sel<L>(alignment < s.alliance.rupture_below, splat<L>(2.0),
             sel<L>(alignment < s.alliance.strained_below, splat<L>(1.0), splat<L>(0.0))));
}

}  // namespace wedge::agents
