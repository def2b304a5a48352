#pragma once
/// The agents' rules (MODEL.md §2-§3) as small pure functions of the state and of the random
/// draws they consume, so that each rule can be tested exactly with scripted draws. A Bernoulli
/// event "with probability p" happens when its uniform draw u in [0, 1) is below p.
#include "agents/record.hpp"
#include "agents/scenario.hpp"

#include <algorithm>
#include <cmath>

namespace wedge::agents {

/// The state carried across rounds (MODEL.md §2).
struct State {
  double alignment = 0.0;        ///< A
  bool straits_clause = false;   ///< S
  bool alliance_clause = false;  ///< N
  bool fisheries = false;        ///< F
  int sg_min_islands = 4;        ///< m_SG
  double threat = 0.0;           ///< q
  bool threat_issued = false;    ///< a threat is in force (even if q = c*kappa happens to be 0)
  double credibility = 0.0;      ///< c

  /// The state at the start of a run, with credibility c.
  static State initial(const Scenario& s, double credibility) noexcept {
    State st;
    st.alignment = s.alliance.initial;
    st.straits_clause = s.soviet.straits_clause;
    st.alliance_clause = s.soviet.alliance_clause;
    st.sg_min_islands = s.japan.factions[SG].min_islands;
    st.credibility = credibility;
    return st;
  }
};

inline double clamp01(double x) noexcept { return std::clamp(x, 0.0, 1.0); }

/// sigma(x) = 1 / (1 + e^-x).
inline double logistic(double x) noexcept { return 1.0 / (1.0 + std::exp(-x)); }

/// Standard normal CDF.
inline double normal_cdf(double x) noexcept { return 0.5 * std::erfc(-x * M_SQRT1_2); }

/// Value of Soviet non-territorial inducements for a faction with side-salience a_side (§3).
inline double side_value(const Scenario& s, const State& st, double a_side) noexcept {
  return a_side * s.soviet.carrots * (1.0 + s.soviet.fisheries_boost * (st.fisheries ? 1.0 : 0.0));
}

/// Japan's support W for a treaty with T islands in state `st` (§3).
inline double support_treaty(const Scenario& s, const State& st, int islands) noexcept {
  const double damage = s.japan.damage_treaty +
                        s.japan.damage_straits * (st.straits_clause ? 1.0 : 0.0) +
                        s.japan.damage_alliance_clause * (st.alliance_clause ? 1.0 : 0.0);
  double num = 0.0;
  double den = 0.0;
  for (std::size_t i = 0; i < FACTION_COUNT; ++i) {
    const Faction& f = s.japan.factions[i];
    const int m = i == SG ? st.sg_min_islands : f.min_islands;
    const double u = f.territory * (islands - m) / 4.0 + side_value(s, st, f.side) -
                     f.alliance * st.alignment * damage - f.okinawa * st.threat;
    num += f.weight * logistic(s.japan.logit_sharpness * u);
    den += f.weight;
  }
  return num / den;
}

/// Japan's support W for the declaration formula in state `st` (§3): territory shelved, no
/// border recognised, so no Okinawa term.
inline double support_declaration(const Scenario& s, const State& st) noexcept {
  double num = 0.0;
  double den = 0.0;
  for (const Faction& f : s.japan.factions) {
    const double u = side_value(s, st, f.side) - f.alliance * st.alignment * s.japan.damage_declaration;
    num += f.weight * logistic(s.japan.logit_sharpness * u);
    den += f.weight;
  }
  return num / den;
}

/// §2.1: from round 2 each clause still demanded is dropped when its draw falls below its hazard.
inline void drop_clauses(const Scenario& s, State& st, int round, double u_straits,
                         double u_alliance) noexcept {
  if (round < 2) return;
  if (st.straits_clause && u_straits < s.soviet.straits_drop_hazard) st.straits_clause = false;
  if (st.alliance_clause && u_alliance < s.soviet.alliance_drop_hazard) st.alliance_clause = false;
}

/// The Soviet position in one round (§2.1).
struct SovietOffer {
  bool soft_line = false;           ///< Khrushchev line prevailed
  int islands = 0;                  ///< T
  bool accepts_declaration = false; ///< USSR accepts the declaration format this round
};

inline SovietOffer soviet_offer(const Scenario& s, int round, double u_line, double u_four,
                                double u_accept) noexcept {
  SovietOffer o;
  o.soft_line = u_line < s.soviet.soft_line_prob;
  o.islands = o.soft_line ? (u_four < s.soviet.four_island_prob ? 4 : 2) : 0;
  const double accept = round < s.soviet.declaration_switch_round ? s.soviet.declaration_accept_early
                                                                  : s.soviet.declaration_accept_late;
  o.accepts_declaration = u_accept < accept;
  return o;
}

/// §2.2: Matsumoto proposes the declaration formula.
inline bool matsumoto_proposes(const Scenario& s, double u) noexcept {
  return u < s.matsumoto.formula_prob;
}

/// §2.3: Dulles's estimate p-hat of P(Japan ratifies the treaty), given Japan's support and his
/// error e ~ Normal(0, estimate_noise_sd).
inline double dulles_estimate(const Scenario& s, double support, double error) noexcept {
  const double p = normal_cdf((support - s.japan.ratify_threshold) / s.japan.vote_noise_sd);
  return clamp01(p + error);
}

/// §2.3: gravity of the threat g = 1 + g_S S + g_N N.
inline double gravity(const Scenario& s, const State& st) noexcept {
  return 1.0 + s.dulles.gravity_straits * (st.straits_clause ? 1.0 : 0.0) +
         s.dulles.gravity_alliance_clause * (st.alliance_clause ? 1.0 : 0.0);
}

/// What Dulles did in one round.
struct DullesAction {
  double estimate = 0.0;         ///< first p-hat
  double gravity = 1.0;          ///< g
  bool rewarded = false;
  double reward = 0.0;           ///< R
  double estimate_after = 0.0;   ///< p-hat after the reward (0 if no reward)
  bool coerced = false;
};

/// §2.3: rewards, then (only after rewarding) coercion. `error1`, `error2` are his two estimate
/// errors (already scaled by estimate_noise_sd).
inline DullesAction dulles_act(const Scenario& s, State& st, int round, int islands, double error1,
                               double error2) noexcept {
  DullesAction a;
  a.gravity = gravity(s, st);
  a.estimate = dulles_estimate(s, support_treaty(s, st, islands), error1);
  if (!(a.estimate * a.gravity > s.dulles.bind_threshold)) return a;
  a.rewarded = true;
  a.reward = s.dulles.reward_power * (round >= s.dulles.suez_round ? s.dulles.suez_factor : 1.0);
  st.alignment = std::min(1.0, st.alignment + s.dulles.reward_gain * a.reward);
  a.estimate_after = dulles_estimate(s, support_treaty(s, st, islands), error2);
  if (a.estimate_after * a.gravity > s.dulles.coerce_threshold && s.dulles.threat_strength > 0.0 &&
      !st.threat_issued) {
    a.coerced = true;
    st.threat_issued = true;
    st.threat = std::min(1.0, st.credibility * s.dulles.threat_strength);
    st.alignment = std::max(
        0.0, st.alignment - s.dulles.backlash * s.dulles.threat_strength * (1.0 - s.dulles.tact));
  }
  return a;
}

/// Japan's decision in one round (§2.4).
struct Vote {
  double support_treaty = 0.0;       ///< realized W_t
  double support_declaration = 0.0;  ///< realized W_d (0 if no declaration available)
  Format choice = Format::none;      ///< none = stall
};

/// §2.4: `noise_t`, `noise_d` are the realized-support noises (already scaled by vote_noise_sd).
inline Vote japan_vote(const Scenario& s, const State& st, int islands, bool declaration_available,
                       double noise_t, double noise_d) noexcept {
  Vote v;
  const double theta = s.japan.ratify_threshold;
  v.support_treaty = support_treaty(s, st, islands) + noise_t;
  const bool treaty_ok = islands > 0 && v.support_treaty >= theta;
  bool declaration_ok = false;
  if (declaration_available) {
    v.support_declaration = support_declaration(s, st) + noise_d;
    declaration_ok = v.support_declaration >= theta;
  }
  if (treaty_ok && declaration_ok) {
    v.choice = v.support_treaty >= v.support_declaration ? Format::treaty : Format::declaration;
  } else if (treaty_ok) {
    v.choice = Format::treaty;
  } else if (declaration_ok) {
    v.choice = Format::declaration;
  }
  return v;
}

/// §2.4: alignment after a treaty, and whether the US claims Okinawa (draw u_okinawa).
inline Okinawa conclude_treaty(const Scenario& s, State& st, double u_okinawa) noexcept {
  const double clauses = 1.0 + (st.straits_clause ? 1.0 : 0.0) + (st.alliance_clause ? 1.0 : 0.0);
  st.alignment = std::max(0.0, st.alignment - s.alliance.treaty_cost * clauses);
  return st.threat > 0.0 && u_okinawa < st.threat ? Okinawa::us_claim : Okinawa::residual;
}

/// §2.4: alignment after a declaration.
inline void conclude_declaration(const Scenario& s, State& st) noexcept {
  st.alignment = std::max(0.0, st.alignment - s.alliance.declaration_cost);
}

/// What happened in a stalled round (§2.5).
struct Stall {
  bool fisheries = false;
  bool shigemitsu_softened = false;
  bool cabinet_fell = false;
  bool deadline = false;
};

/// §2.5, in order: fisheries, Shigemitsu, drift (`drift` already scaled by drift_sd), cabinet,
/// deadline.
inline Stall stall(const Scenario& s, State& st, int round, double u_fisheries, double u_soften,
                   double drift, double u_fall) noexcept {
  Stall out;
  st.fisheries = u_fisheries < s.soviet.fisheries_pressure_prob;
  out.fisheries = st.fisheries;
  if (st.sg_min_islands == 4 && u_soften < s.shigemitsu.soften_hazard) {
    st.sg_min_islands = 2;
    out.shigemitsu_softened = true;
  }
  st.alignment = clamp01(st.alignment + drift);
  const double hazard = round < s.hatoyama.fall_switch_round ? s.hatoyama.fall_hazard_early
                                                             : s.hatoyama.fall_hazard_late;
  out.cabinet_fell = u_fall < hazard;
  out.deadline = !out.cabinet_fell && round >= s.negotiation.rounds;
  return out;
}

/// §2, end of run: the alliance's state from the final alignment.
inline AllianceState classify_alliance(const Scenario& s, Format format, bool straits_clause,
                                       bool alliance_clause, double alignment) noexcept {
  if (format == Format::treaty && straits_clause && alliance_clause &&
      alignment < s.alliance.realign_below) {
    return AllianceState::rupture_realign;
  }
  if (alignment < s.alliance.rupture_below) return AllianceState::rupture_neutral;
  if (alignment < s.alliance.strained_below) return AllianceState::strained;
  return AllianceState::intact;
}

}  // namespace wedge::agents
