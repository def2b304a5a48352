// Each agent rule of MODEL.md §2-§3 in isolation, with scripted draws.
#include "agents/rules.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace wedge::agents;

namespace {
State baseline_state(const Scenario& s, double credibility = 0.4) {
  return State::initial(s, credibility);
}
}  // namespace

TEST_CASE("clauses are never dropped in round 1 and drop on a draw below the hazard", "[rules]") {
  const Scenario s;
  State st = baseline_state(s);
  drop_clauses(s, st, 1, 0.0, 0.0);
  CHECK(st.straits_clause);
  CHECK(st.alliance_clause);
  drop_clauses(s, st, 2, 0.36, 0.34);  // hazard 0.35: straits stays, alliance goes
  CHECK(st.straits_clause);
  CHECK_FALSE(st.alliance_clause);
  drop_clauses(s, st, 3, 0.34, 0.99);  // a dropped clause never returns
  CHECK_FALSE(st.straits_clause);
  CHECK_FALSE(st.alliance_clause);
}

TEST_CASE("the Soviet line decides the islands offered", "[rules]") {
  const Scenario s;
  const auto hard = soviet_offer(s, 1, 0.7, 0.0, 0.5);  // u_line = 0.7 is not < 0.7: hard line
  CHECK_FALSE(hard.soft_line);
  CHECK(hard.islands == 0);
  const auto two = soviet_offer(s, 1, 0.69, 0.02, 0.5);  // soft, u_four not < 0.02
  CHECK(two.soft_line);
  CHECK(two.islands == 2);
  const auto four = soviet_offer(s, 1, 0.1, 0.019, 0.5);
  CHECK(four.islands == 4);
}

TEST_CASE("the USSR accepts the declaration format with the early, then late, probability",
          "[rules]") {
  const Scenario s;  // early 0.2 before round 4, late 0.8 from round 4
  CHECK(soviet_offer(s, 3, 0.9, 0.9, 0.19).accepts_declaration);
  CHECK_FALSE(soviet_offer(s, 3, 0.9, 0.9, 0.21).accepts_declaration);
  CHECK(soviet_offer(s, 4, 0.9, 0.9, 0.79).accepts_declaration);
  CHECK_FALSE(soviet_offer(s, 4, 0.9, 0.9, 0.81).accepts_declaration);
}

TEST_CASE("Matsumoto proposes the formula with formula_prob", "[rules]") {
  const Scenario s;
  CHECK(matsumoto_proposes(s, 0.49));
  CHECK_FALSE(matsumoto_proposes(s, 0.5));
}

TEST_CASE("support follows the faction formula of MODEL.md section 3", "[rules]") {
  Scenario s;
  State st = baseline_state(s);
  st.threat = 0.2;
  st.fisheries = true;
  // Hand computation for a treaty with T = 2, S = N = 1, A = 0.6, q = 0.2, F = 1.
  const double damage = 0.3 + 0.35 + 0.35;
  double num = 0.0;
  double den = 0.0;
  const double w[5] = {0.35, 0.25, 0.15, 0.15, 0.10};
  const double m[5] = {2, 4, 4, 4, 0};
  const double at[5] = {0.5, 1.0, 1.0, 0.5, 0.1};
  const double as[5] = {0.5, 0.2, 0.1, 0.5, 0.8};
  const double aa[5] = {0.5, 0.6, 1.0, 0.3, 0.2};
  const double ao[5] = {0.5, 1.0, 1.0, 0.5, 0.2};
  for (int f = 0; f < 5; ++f) {
    const double u = at[f] * (2 - m[f]) / 4 + as[f] * 1.0 * 1.3 - aa[f] * 0.6 * damage - ao[f] * 0.2;
    num += w[f] / (1 + std::exp(-4.0 * u));
    den += w[f];
  }
  CHECK(support_treaty(s, st, 2) == Approx(num / den).epsilon(1e-12));

  double dnum = 0.0;
  for (int f = 0; f < 5; ++f) {
    const double u = as[f] * 1.3 - aa[f] * 0.6 * 0.3;
    dnum += w[f] / (1 + std::exp(-4.0 * u));
  }
  CHECK(support_declaration(s, st) == Approx(dnum / den).epsilon(1e-12));

  // SG's minimum is the state's, not the scenario's, once Shigemitsu has softened.
  State soft = st;
  soft.sg_min_islands = 2;
  CHECK(support_treaty(s, soft, 2) > support_treaty(s, st, 2));
  // Weights are normalised: scaling them all changes nothing.
  Scenario scaled = s;
  for (auto& f : scaled.japan.factions) f.weight *= 3.0;
  CHECK(support_treaty(scaled, st, 2) == Approx(support_treaty(s, st, 2)).epsilon(1e-12));
}

TEST_CASE("Dulles estimates with the normal CDF, clamped to the unit interval", "[rules]") {
  const Scenario s;
  CHECK(dulles_estimate(s, 0.6, 0.0) == Approx(0.5));
  CHECK(dulles_estimate(s, 0.65, 0.0) == Approx(0.841344746).epsilon(1e-8));  // Phi(1)
  CHECK(dulles_estimate(s, 0.6, 0.7) == 1.0);
  CHECK(dulles_estimate(s, 0.6, -0.7) == 0.0);
  State st = baseline_state(s);
  CHECK(gravity(s, st) == Approx(2.0));
  st.straits_clause = false;
  CHECK(gravity(s, st) == Approx(1.5));
}

TEST_CASE("Dulles does nothing when the estimated threat is below bind_threshold", "[rules]") {
  const Scenario s;
  State st = baseline_state(s);
  const double a0 = st.alignment;
  const auto act = dulles_act(s, st, 1, 0, -1.0, 0.0);  // p-hat clamped to 0
  CHECK_FALSE(act.rewarded);
  CHECK_FALSE(act.coerced);
  CHECK(st.alignment == a0);
}

TEST_CASE("Dulles rewards, then coerces only if the re-estimate is still grave", "[rules]") {
  const Scenario s;
  State st = baseline_state(s, 0.5);
  // Error +1 makes p-hat = 1: reward (R = 1, A += 0.05), then the second estimate decides.
  auto rewarded_only = st;
  const auto a1 = dulles_act(s, rewarded_only, 1, 2, 1.0, -1.0);
  CHECK(a1.rewarded);
  CHECK(a1.reward == 1.0);
  CHECK(rewarded_only.alignment == Approx(0.65));
  CHECK_FALSE(a1.coerced);
  CHECK(rewarded_only.threat == 0.0);

  auto coerced = st;
  const auto a2 = dulles_act(s, coerced, 1, 2, 1.0, 1.0);
  CHECK(a2.coerced);
  CHECK(coerced.threat == Approx(0.5 * 1.0));  // q = min(1, c * kappa)
  // Backlash: A = 0.65 - 0.15 * 1 * (1 - 0.3)
  CHECK(coerced.alignment == Approx(0.65 - 0.105));
  // A threat in force is never repeated.
  const double a_before = coerced.alignment;
  const auto a3 = dulles_act(s, coerced, 2, 2, 1.0, 1.0);
  CHECK(a3.rewarded);
  CHECK_FALSE(a3.coerced);
  CHECK(coerced.alignment == Approx(std::min(1.0, a_before + 0.05)));
}

TEST_CASE("rewards shrink from the Suez round and coercion needs threat_strength > 0", "[rules]") {
  Scenario s;
  State st = baseline_state(s);
  const auto late = dulles_act(s, st, 6, 2, 1.0, -1.0);
  CHECK(late.reward == Approx(0.7));
  s.dulles.threat_strength = 0.0;
  State st2 = baseline_state(s);
  const auto none = dulles_act(s, st2, 1, 2, 1.0, 1.0);
  CHECK(none.rewarded);
  CHECK_FALSE(none.coerced);
  // Threat capped at 1: c * kappa = 0.6 * 5 = 3.
  Scenario strong;
  strong.dulles.threat_strength = 5.0;
  State st3 = baseline_state(strong, 0.6);
  dulles_act(strong, st3, 1, 2, 1.0, 1.0);
  CHECK(st3.threat == 1.0);
  CHECK(st3.alignment == Approx(0.65 - 0.15 * 5 * 0.7));
  // Tactless: 0.65 - 0.15 * 5 * 1 < 0, floored at 0.
  strong.dulles.tact = 0.0;
  State st4 = baseline_state(strong, 0.6);
  dulles_act(strong, st4, 1, 2, 1.0, 1.0);
  CHECK(st4.alignment == 0.0);
}

TEST_CASE("Japan's vote: thresholds, availability and the tie-break", "[rules]") {
  const Scenario s;
  State st = baseline_state(s);
  const double wt = support_treaty(s, st, 2);
  const double wd = support_declaration(s, st);
  const double theta = s.japan.ratify_threshold;
  // Treaty acceptable alone (W_t >= theta).
  CHECK(japan_vote(s, st, 2, false, theta - wt + 1e-12, 0.0).choice == Format::treaty);
  CHECK(japan_vote(s, st, 2, false, theta - wt - 1e-9, 0.0).choice == Format::none);
  // No islands: no treaty whatever the support.
  CHECK(japan_vote(s, st, 0, false, 1.0, 0.0).choice == Format::none);
  // Declaration only counts when available.
  CHECK(japan_vote(s, st, 0, true, 0.0, theta - wd + 1e-12).choice == Format::declaration);
  CHECK(japan_vote(s, st, 0, false, 0.0, 1.0).choice == Format::none);
  // Both acceptable: the larger realized support wins, the treaty on a tie.
  CHECK(japan_vote(s, st, 2, true, 0.9 - wt, 0.8 - wd).choice == Format::treaty);
  CHECK(japan_vote(s, st, 2, true, 0.8 - wt, 0.9 - wd).choice == Format::declaration);
  // A scenario where the two options have exactly the same support: no territory, no Okinawa,
  // equal damages.
  Scenario flat;
  flat.japan.damage_straits = flat.japan.damage_alliance_clause = 0.0;
  flat.japan.damage_declaration = flat.japan.damage_treaty;
  for (auto& f : flat.japan.factions) f.territory = f.okinawa = 0.0;
  const State fs = baseline_state(flat);
  REQUIRE(support_treaty(flat, fs, 2) == support_declaration(flat, fs));
  const double lift = 0.9 - support_treaty(flat, fs, 2);
  const Vote tie = japan_vote(flat, fs, 2, true, lift, lift);
  REQUIRE(tie.support_treaty == tie.support_declaration);
  CHECK(tie.choice == Format::treaty);
}

TEST_CASE("a treaty costs alignment per clause and may cost Okinawa", "[rules]") {
  const Scenario s;
  State st = baseline_state(s);
  st.threat = 0.3;
  CHECK(conclude_treaty(s, st, 0.29) == Okinawa::us_claim);
  CHECK(st.alignment == Approx(0.6 - 0.08 * 3));
  State calm = baseline_state(s);
  calm.straits_clause = false;
  CHECK(conclude_treaty(s, calm, 0.0) == Okinawa::residual);  // no threat, no claim
  CHECK(calm.alignment == Approx(0.6 - 0.08 * 2));
  State d = baseline_state(s);
  conclude_declaration(s, d);
  CHECK(d.alignment == Approx(0.57));
}

TEST_CASE("a stalled round: fisheries, Shigemitsu, drift, cabinet, deadline", "[rules]") {
  const Scenario s;
  State st = baseline_state(s);
  auto out = stall(s, st, 2, 0.69, 0.24, 0.01, 0.05);
  CHECK(out.fisheries);
  CHECK(st.fisheries);
  CHECK(out.shigemitsu_softened);
  CHECK(st.sg_min_islands == 2);
  CHECK(st.alignment == Approx(0.61));
  CHECK_FALSE(out.cabinet_fell);  // 0.05 is not < 0.05
  CHECK_FALSE(out.deadline);
  out = stall(s, st, 3, 0.7, 0.0, -1.0, 0.04);
  CHECK_FALSE(st.fisheries);
  CHECK_FALSE(out.shigemitsu_softened);  // already softened
  CHECK(st.alignment == 0.0);            // drift clamped
  CHECK(out.cabinet_fell);
  // Late hazard from round 6; the deadline in the last round.
  State late = baseline_state(s);
  CHECK(stall(s, late, 6, 0.9, 0.9, 0.0, 0.29).cabinet_fell);
  const auto last = stall(s, late, 8, 0.9, 0.9, 0.0, 0.31);
  CHECK_FALSE(last.cabinet_fell);
  CHECK(last.deadline);
  // A cabinet that falls in the last round ends the run by its fall, not the deadline.
  const auto fall_last = stall(s, late, 8, 0.9, 0.9, 0.0, 0.0);
  CHECK(fall_last.cabinet_fell);
  CHECK_FALSE(fall_last.deadline);
}

TEST_CASE("the alliance is classified from the final alignment", "[rules]") {
  const Scenario s;
  CHECK(classify_alliance(s, Format::treaty, true, true, 0.14) == AllianceState::rupture_realign);
  CHECK(classify_alliance(s, Format::treaty, true, false, 0.14) == AllianceState::rupture_neutral);
  CHECK(classify_alliance(s, Format::declaration, true, true, 0.14) ==
        AllianceState::rupture_neutral);
  CHECK(classify_alliance(s, Format::none, true, true, 0.2499) == AllianceState::rupture_neutral);
  CHECK(classify_alliance(s, Format::none, true, true, 0.25) == AllianceState::strained);
  CHECK(classify_alliance(s, Format::none, true, true, 0.4499) == AllianceState::strained);
  CHECK(classify_alliance(s, Format::none, true, true, 0.45) == AllianceState::intact);
}
