// Each agent rule of MODEL.md sections 2-3 in isolation, with scripted draws, on one lane.
#include "agents/rules.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>

using namespace wedge::agents;
using L = simd::Lanes<1>;
using D = L::D;
using M = L::M;

namespace {
D d(double x) { return D{x}; }
/// The draw "uniform x" as a rule takes it, a 32-bit word: the first word whose uniform
/// (simd::uniform, the kernel's conversion) is not below x, so that u(p) is not below p and
/// u(x) for x < p - 2^-32 is below p.
L::U u(double x) {
  std::uint64_t lo = 0, hi = std::uint64_t{1} << 32;  // the answer is in [lo, hi]
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (simd::uniform<L>(L::U{mid})[0] < x) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return L::U{lo};
}
double v(D x) { return x[0]; }
bool yes(M m) { return m[0] != 0; }
State<L> baseline_state(const Scenario& s, double credibility = 0.4) {
  return State<L>::initial(s, d(credibility));
}
const M ALL = simd::splat_m<L>(true);
/// How far Japan's support may be from its exact value (libm's exp): the logistic terms and their
/// sum are single precision (simd::LogisticSumFloat, whose bound tests/engine/test_simd.cpp
/// measures), the weights rounded to float.
constexpr double SUPPORT_ERROR = 1e-6;
}  // namespace

TEST_CASE("clauses are never dropped in round 1 and drop on a draw below the hazard", "[rules]") {
  const Scenario s;
  State<L> st = baseline_state(s);
  drop_clauses<L>(Chances(s), st, d(1), u(0.0), u(0.0));
  CHECK(yes(st.straits_clause));
  CHECK(yes(st.alliance_clause));
  drop_clauses<L>(Chances(s), st, d(2), u(0.36),
                  u(0.34));  // hazard 0.35: straits stays, alliance goes
  CHECK(yes(st.straits_clause));
  CHECK_FALSE(yes(st.alliance_clause));
  drop_clauses<L>(Chances(s), st, d(3), u(0.34), u(0.0));  // a dropped clause never returns
  CHECK_FALSE(yes(st.straits_clause));
  CHECK_FALSE(yes(st.alliance_clause));
}

TEST_CASE("the Soviet line decides the islands offered", "[rules]") {
  const Scenario s;
  const auto hard =
      soviet_offer<L>(s, Chances(s), d(1), u(0.7), u(0.0), u(0.5));  // 0.7 is not < 0.7: hard line
  CHECK_FALSE(yes(hard.soft_line));
  CHECK(v(hard.islands) == 0);
  const auto two =
      soviet_offer<L>(s, Chances(s), d(1), u(0.69), u(0.02), u(0.5));  // soft, u_four not < 0.02
  CHECK(yes(two.soft_line));
  CHECK(v(two.islands) == 2);
  CHECK(v(soviet_offer<L>(s, Chances(s), d(1), u(0.1), u(0.019), u(0.5)).islands) == 4);
}

TEST_CASE("the USSR accepts the declaration format with the early, then late, probability",
          "[rules]") {
  const Scenario s;  // early 0.2 before round 4, late 0.8 from round 4
  CHECK(yes(soviet_offer<L>(s, Chances(s), d(3), u(0.9), u(0.9), u(0.19)).accepts_declaration));
  CHECK_FALSE(
      yes(soviet_offer<L>(s, Chances(s), d(3), u(0.9), u(0.9), u(0.21)).accepts_declaration));
  CHECK(yes(soviet_offer<L>(s, Chances(s), d(4), u(0.9), u(0.9), u(0.79)).accepts_declaration));
  CHECK_FALSE(
      yes(soviet_offer<L>(s, Chances(s), d(4), u(0.9), u(0.9), u(0.81)).accepts_declaration));
}

TEST_CASE("Matsumoto proposes the formula with formula_prob", "[rules]") {
  const Scenario s;
  CHECK(yes(matsumoto_proposes<L>(Chances(s), u(0.49))));
  CHECK_FALSE(yes(matsumoto_proposes<L>(Chances(s), u(0.5))));
}

TEST_CASE("support follows the faction formula of MODEL.md section 3", "[rules]") {
  Scenario s;
  State<L> st = baseline_state(s);
  st.threat = d(0.2);
  st.fisheries = simd::splat_m<L>(true);
  // Hand computation for a treaty with T = 2, S = N = 1, A = 0.6, q = 0.2, F = 1 (libm's exp).
  const double damage = 0.3 + 0.35 + 0.35;
  const double w[5] = {0.35, 0.25, 0.15, 0.15, 0.10};
  const double m[5] = {2, 4, 4, 4, 0};
  const double at[5] = {0.5, 1.0, 1.0, 0.5, 0.1};
  const double as[5] = {0.5, 0.2, 0.1, 0.5, 0.8};
  const double aa[5] = {0.5, 0.6, 1.0, 0.3, 0.2};
  const double ao[5] = {0.5, 1.0, 1.0, 0.5, 0.2};
  double num = 0.0, dnum = 0.0, den = 0.0;
  for (int f = 0; f < 5; ++f) {
    const double u = at[f] * (2 - m[f]) / 4 + as[f] * 1.3 - aa[f] * 0.6 * damage - ao[f] * 0.2;
    num += w[f] / (1 + std::exp(-4.0 * u));
    const double ud = as[f] * 1.3 - aa[f] * 0.6 * 0.3;
    dnum += w[f] / (1 + std::exp(-4.0 * ud));
    den += w[f];
  }
  // Within SUPPORT_ERROR: the float sum's bound (pow2f's relative error 2.4e-7 gives each term
  // within 6e-8 of libm's; the running fraction's rounding adds a few float ulps).
  CHECK(v(support_treaty<L>(s, st, d(2))) == Approx(num / den).epsilon(0).margin(SUPPORT_ERROR));
  CHECK(v(support_declaration<L>(s, st)) == Approx(dnum / den).epsilon(0).margin(SUPPORT_ERROR));

  // SG's minimum is the state's, not the scenario's, once Shigemitsu has softened.
  State<L> soft = st;
  soft.sg_min_islands = d(2);
  CHECK(v(support_treaty<L>(s, soft, d(2))) > v(support_treaty<L>(s, st, d(2))));
  // Weights are normalised: scaling them all changes nothing.
  Scenario scaled = s;
  for (auto& f : scaled.japan.factions.list) f.weight *= 3.0;
  CHECK(v(support_treaty<L>(scaled, st, d(2))) ==
        Approx(v(support_treaty<L>(s, st, d(2)))).epsilon(1e-13));
}

namespace {
/// MODEL.md section 3 by hand (libm's exp) over the scenario's factions: the support for a treaty
/// with T islands (or the declaration), the softening faction's minimum taken from m_soft.
double support_by_hand(const Scenario& s, bool treaty, double islands, const State<L>& st) {
  const auto& fs = s.japan.factions;
  const double S = yes(st.straits_clause) ? 1 : 0, N = yes(st.alliance_clause) ? 1 : 0;
  const double pressure = 1 + s.soviet.fisheries_boost * (yes(st.fisheries) ? 1 : 0);
  const double A = v(st.alignment), q = v(st.threat);
  double num = 0.0, den = 0.0;
  for (std::size_t i = 0; i < fs.count; ++i) {
    const Faction& f = fs.list[i];
    const double m = static_cast<int>(i) == fs.softens ? v(st.sg_min_islands) : f.min_islands;
    const double side = f.side * s.soviet.carrots * pressure;
    const double u = treaty ? f.territory * (islands - m) / 4 + side -
                                  f.alliance * A *
                                      (s.japan.damage_treaty + s.japan.damage_straits * S +
                                       s.japan.damage_alliance_clause * N) -
                                  f.okinawa * q
                            : side - f.alliance * A * s.japan.damage_declaration;
    num += f.weight / (1 + std::exp(-s.japan.logit_sharpness * u));
    den += f.weight;
  }
  return num / den;
}
}  // namespace

TEST_CASE("support sums over any number of factions, 1 to MAX_FACTIONS", "[rules][factions]") {
  for (std::size_t count : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{6},
                            std::size_t{12}, MAX_FACTIONS}) {
    Scenario s;
    s.japan.factions.count = count;
    if (count < 2) s.japan.factions.softens = -1;
    for (std::size_t i = 5; i < count;
         ++i) {  // distinct made-up factions beyond the baseline's five
      const double k = static_cast<double>(i);
      s.japan.factions.list[i] = {0.05 + 0.01 * k, static_cast<int>(i % 3) * 2,
                                  0.1 * (k - 4),   0.07 * k,
                                  1.5 - 0.1 * k,   0.3};
    }
    REQUIRE_NOTHROW(s.validate());
    State<L> st = baseline_state(s);
    st.threat = d(0.3);
    st.alignment = d(0.7);
    st.straits_clause = simd::splat_m<L>(false);
    for (double islands : {0.0, 2.0, 4.0}) {
      CHECK(v(support_treaty<L>(s, st, d(islands))) ==
            Approx(support_by_hand(s, true, islands, st)).epsilon(0).margin(SUPPORT_ERROR));
    }
    CHECK(v(support_declaration<L>(s, st)) ==
          Approx(support_by_hand(s, false, 0, st)).epsilon(0).margin(SUPPORT_ERROR));
  }
}

TEST_CASE("Shigemitsu's softening applies to the faction named by softens, or to none",
          "[rules][factions]") {
  // softens = PUB: its minimum is the state's m_SG (4 at the start, 2 once softened); SG keeps 4.
  Scenario pub;
  pub.japan.factions.softens = PUB;
  pub.japan.factions.list[PUB].min_islands = 4;
  State<L> st = State<L>::initial(pub, d(0.4));
  CHECK(v(st.sg_min_islands) == 4);
  auto out = stall<L>(pub, Chances(pub), st, ALL, d(2), u(0.9), u(0.24), d(0.0),
                      u(0.9));  // hazard 0.25: softens
  CHECK(yes(out.shigemitsu_softened));
  CHECK(v(st.sg_min_islands) == 2);
  const double expected = support_by_hand(pub, true, 2, st);
  CHECK(v(support_treaty<L>(pub, st, d(2))) == Approx(expected).epsilon(0).margin(SUPPORT_ERROR));
  // ...which is the baseline's support with PUB's minimum at 2 and SG's at 4: not SG softening.
  Scenario by_hand = pub;
  by_hand.japan.factions.softens = -1;
  by_hand.japan.factions.list[PUB].min_islands = 2;
  const State<L> plain = State<L>::initial(by_hand, d(0.4));
  State<L> same = st;
  same.sg_min_islands = plain.sg_min_islands;
  CHECK(v(support_treaty<L>(by_hand, same, d(2))) == v(support_treaty<L>(pub, st, d(2))));
  Scenario sg_softened;  // the baseline with SG softened differs: the softening moved to PUB
  State<L> sg = State<L>::initial(sg_softened, d(0.4));
  sg.sg_min_islands = d(2);
  CHECK(v(support_treaty<L>(sg_softened, sg, d(2))) != Approx(v(support_treaty<L>(pub, st, d(2)))));

  // softens = -1: no faction softens, whatever the draw; every faction keeps its own minimum.
  Scenario none;
  none.japan.factions.softens = -1;
  REQUIRE_NOTHROW(none.validate());
  State<L> hard = State<L>::initial(none, d(0.4));
  const double before = v(support_treaty<L>(none, hard, d(2)));
  out = stall<L>(none, Chances(none), hard, ALL, d(2), u(0.9), u(0.0), d(0.0), u(0.9));
  CHECK_FALSE(yes(out.shigemitsu_softened));
  CHECK(v(support_treaty<L>(none, hard, d(2))) == before);
  State<L> base = State<L>::initial(Scenario{}, d(0.4));  // the baseline before SG softens
  CHECK(before == v(support_treaty<L>(Scenario{}, base, d(2))));
}

TEST_CASE("the factions are validated: count 1 to MAX_FACTIONS, softens one of them or -1",
          "[rules][factions]") {
  Scenario s;
  s.japan.factions.count = 0;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("1 to 16"));
  s.japan.factions.count = MAX_FACTIONS + 1;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("1 to 16"));
  s.japan.factions.count = 2;
  s.japan.factions.softens = 2;
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("softens = 2"));
  s.japan.factions.softens = -2;
  CHECK_THROWS(s.validate());
  s.japan.factions.softens = -1;
  CHECK_NOTHROW(s.validate());
  s.japan.factions.list[0].weight = s.japan.factions.list[1].weight =
      0.0;  // only the first two count
  CHECK_THROWS_WITH(s.validate(), Catch::Contains("sum to 0"));
}

TEST_CASE("Dulles estimates with the normal CDF, clamped to the unit interval", "[rules]") {
  const Scenario s;
  CHECK(v(dulles_estimate<L>(s, d(0.6), d(0.0))) == Approx(0.5).epsilon(1e-7));
  CHECK(v(dulles_estimate<L>(s, d(0.65), d(0.0))) == Approx(0.841344746).epsilon(1e-7));  // Phi(1)
  CHECK(v(dulles_estimate<L>(s, d(0.6), d(0.7))) == 1.0);
  CHECK(v(dulles_estimate<L>(s, d(0.6), d(-0.7))) == 0.0);
  State<L> st = baseline_state(s);
  CHECK(v(gravity<L>(s, st)) == Approx(2.0));
  st.straits_clause = simd::splat_m<L>(false);
  CHECK(v(gravity<L>(s, st)) == Approx(1.5));
}

TEST_CASE("Dulles does nothing when the estimated threat is below bind_threshold", "[rules]") {
  const Scenario s;
  State<L> st = baseline_state(s);
  const auto act = dulles_act<L>(s, st, ALL, d(1), d(0), d(-1.0), d(0.0));  // p-hat clamped to 0
  CHECK_FALSE(yes(act.rewarded));
  CHECK_FALSE(yes(act.coerced));
  CHECK(v(act.reward) == 0.0);
  CHECK(v(st.alignment) == 0.6);
}

TEST_CASE("Dulles rewards, then coerces only if the re-estimate is still grave", "[rules]") {
  const Scenario s;
  const State<L> st = baseline_state(s, 0.5);
  // Error +1 makes p-hat = 1: reward (R = 1, A += 0.05), then the second estimate decides.
  auto rewarded_only = st;
  const auto a1 = dulles_act<L>(s, rewarded_only, ALL, d(1), d(2), d(1.0), d(-1.0));
  CHECK(yes(a1.rewarded));
  CHECK(v(a1.reward) == 1.0);
  CHECK(v(rewarded_only.alignment) == Approx(0.65));
  CHECK_FALSE(yes(a1.coerced));
  CHECK(v(rewarded_only.threat) == 0.0);

  auto coerced = st;
  const auto a2 = dulles_act<L>(s, coerced, ALL, d(1), d(2), d(1.0), d(1.0));
  CHECK(yes(a2.coerced));
  CHECK(v(coerced.threat) == Approx(0.5 * 1.0));                       // q = min(1, c * kappa)
  CHECK(v(coerced.alignment) == Approx(0.65 - 0.15 * 1 * (1 - 0.3)));  // backlash
  // A threat in force is never repeated.
  const double a_before = v(coerced.alignment);
  const auto a3 = dulles_act<L>(s, coerced, ALL, d(2), d(2), d(1.0), d(1.0));
  CHECK(yes(a3.rewarded));
  CHECK_FALSE(yes(a3.coerced));
  CHECK(v(coerced.alignment) == Approx(std::min(1.0, a_before + 0.05)));
  // An inactive lane is left alone.
  auto idle = st;
  const auto a4 = dulles_act<L>(s, idle, simd::splat_m<L>(false), d(1), d(2), d(1.0), d(1.0));
  CHECK_FALSE(yes(a4.rewarded));
  CHECK(v(idle.alignment) == 0.6);
}

TEST_CASE("the support Dulles leaves is Japan's support in the state he left", "[rules]") {
  // dulles_act computes the support in all three states he can leave side by side and picks
  // one (support_after, what the vote takes): it must be the support of the state he did leave.
  const Scenario s;
  struct Case {
    double error1, error2;
    bool rewarded, coerced;
  };
  for (const Case c :
       {Case{-1.0, 0.0, false, false}, Case{1.0, -1.0, true, false}, Case{1.0, 1.0, true, true}}) {
    State<L> st = baseline_state(s, 0.5);
    const auto act = dulles_act<L>(s, st, ALL, d(1), d(2), d(c.error1), d(c.error2));
    REQUIRE(yes(act.rewarded) == c.rewarded);
    REQUIRE(yes(act.coerced) == c.coerced);
    CHECK(v(act.support_after) == v(support_treaty<L>(s, st, d(2))));
  }
  // The three states differ in their support, so picking the wrong one would show.
  State<L> as_is = baseline_state(s, 0.5), rewarded = as_is, coerced = as_is;
  dulles_act<L>(s, rewarded, ALL, d(1), d(2), d(1.0), d(-1.0));
  dulles_act<L>(s, coerced, ALL, d(1), d(2), d(1.0), d(1.0));
  const double w0 = v(support_treaty<L>(s, as_is, d(2)));
  const double w1 = v(support_treaty<L>(s, rewarded, d(2)));
  const double w2 = v(support_treaty<L>(s, coerced, d(2)));
  CHECK(w0 != w1);
  CHECK(w1 != w2);
  CHECK(w0 != w2);
}

TEST_CASE("rewards shrink from the Suez round and coercion needs threat_strength > 0", "[rules]") {
  Scenario s;
  State<L> st = baseline_state(s);
  CHECK(v(dulles_act<L>(s, st, ALL, d(6), d(2), d(1.0), d(-1.0)).reward) == Approx(0.7));
  s.dulles.threat_strength = 0.0;
  State<L> st2 = baseline_state(s);
  const auto none = dulles_act<L>(s, st2, ALL, d(1), d(2), d(1.0), d(1.0));
  CHECK(yes(none.rewarded));
  CHECK_FALSE(yes(none.coerced));
  // Threat capped at 1: c * kappa = 0.6 * 5 = 3.
  Scenario strong;
  strong.dulles.threat_strength = 5.0;
  State<L> st3 = baseline_state(strong, 0.6);
  dulles_act<L>(strong, st3, ALL, d(1), d(2), d(1.0), d(1.0));
  CHECK(v(st3.threat) == 1.0);
  CHECK(v(st3.alignment) == Approx(0.65 - 0.15 * 5 * 0.7));
  // Tactless: 0.65 - 0.15 * 5 * 1 < 0, floored at 0.
  strong.dulles.tact = 0.0;
  State<L> st4 = baseline_state(strong, 0.6);
  dulles_act<L>(strong, st4, ALL, d(1), d(2), d(1.0), d(1.0));
  CHECK(v(st4.alignment) == 0.0);
}

TEST_CASE("Japan's vote: thresholds, availability and the tie-break", "[rules]") {
  const Scenario s;
  const State<L> st = baseline_state(s);
  const double wt = v(support_treaty<L>(s, st, d(2)));
  const double wd = v(support_declaration<L>(s, st));
  const double theta = s.japan.ratify_threshold;
  const M yes_m = simd::splat_m<L>(true), no_m = simd::splat_m<L>(false);
  auto vote = [&](double islands, M available, double nt, double nd) {
    return japan_vote<L>(s, st, d(islands), available, d(nt), d(nd));
  };
  // Treaty acceptable alone (W_t >= theta).
  CHECK(yes(vote(2, no_m, theta - wt + 1e-12, 0.0).treaty));
  CHECK_FALSE(yes(vote(2, no_m, theta - wt - 1e-9, 0.0).treaty));
  // No islands: no treaty whatever the support.
  CHECK_FALSE(yes(vote(0, no_m, 1.0, 0.0).treaty));
  // Declaration only counts when available.
  CHECK(yes(vote(0, yes_m, 0.0, theta - wd + 1e-12).declaration));
  CHECK_FALSE(yes(vote(0, no_m, 0.0, 1.0).declaration));
  // Both acceptable: the larger realized support wins.
  const auto t = vote(2, yes_m, 0.9 - wt, 0.8 - wd);
  CHECK(yes(t.treaty));
  CHECK_FALSE(yes(t.declaration));
  const auto dd = vote(2, yes_m, 0.8 - wt, 0.9 - wd);
  CHECK(yes(dd.declaration));
  CHECK_FALSE(yes(dd.treaty));
  // The treaty on a tie: a scenario where the two options have exactly the same support (no
  // territory, no Okinawa, equal damages), and the same noise.
  Scenario flat;
  flat.japan.damage_straits = flat.japan.damage_alliance_clause = 0.0;
  flat.japan.damage_declaration = flat.japan.damage_treaty;
  for (auto& f : flat.japan.factions.list) f.territory = f.okinawa = 0.0;
  const State<L> fs = baseline_state(flat);
  REQUIRE(v(support_treaty<L>(flat, fs, d(2))) == v(support_declaration<L>(flat, fs)));
  const double lift = 0.9 - v(support_treaty<L>(flat, fs, d(2)));
  const auto tie = japan_vote<L>(flat, fs, d(2), yes_m, d(lift), d(lift));
  REQUIRE(v(tie.support_treaty) == v(tie.support_declaration));
  CHECK(yes(tie.treaty));
  CHECK_FALSE(yes(tie.declaration));
}

TEST_CASE("a treaty costs alignment per clause and may cost Okinawa", "[rules]") {
  const Scenario s;
  State<L> st = baseline_state(s);
  st.threat = d(0.3);
  CHECK(yes(conclude_treaty<L>(s, st, ALL, d(0.29))));
  CHECK(v(st.alignment) == Approx(0.6 - 0.08 * 3));
  State<L> calm = baseline_state(s);
  calm.straits_clause = simd::splat_m<L>(false);
  CHECK_FALSE(yes(conclude_treaty<L>(s, calm, ALL, d(0.0))));  // no threat, no claim
  CHECK(v(calm.alignment) == Approx(0.6 - 0.08 * 2));
  State<L> dec = baseline_state(s);
  conclude_declaration<L>(s, dec, ALL);
  CHECK(v(dec.alignment) == Approx(0.57));
  State<L> other = baseline_state(s);
  conclude_declaration<L>(s, other, simd::splat_m<L>(false));
  CHECK(v(other.alignment) == 0.6);
}

TEST_CASE("a stalled round: fisheries, Shigemitsu, drift, cabinet, deadline", "[rules]") {
  const Scenario s;
  State<L> st = baseline_state(s);
  auto out = stall<L>(s, Chances(s), st, ALL, d(2), u(0.69), u(0.24), d(0.01), u(0.05));
  CHECK(yes(out.fisheries));
  CHECK(yes(st.fisheries));
  CHECK(yes(out.shigemitsu_softened));
  CHECK(v(st.sg_min_islands) == 2);
  CHECK(v(st.alignment) == Approx(0.61));
  CHECK_FALSE(yes(out.cabinet_fell));  // 0.05 is not < 0.05
  CHECK_FALSE(yes(out.deadline));
  out = stall<L>(s, Chances(s), st, ALL, d(3), u(0.7), u(0.0), d(-1.0), u(0.04));
  CHECK_FALSE(yes(st.fisheries));
  CHECK_FALSE(yes(out.shigemitsu_softened));  // already softened
  CHECK(v(st.alignment) == 0.0);              // drift clamped
  CHECK(yes(out.cabinet_fell));
  // Late hazard from round 6; the deadline in the last round.
  State<L> late = baseline_state(s);
  CHECK(
      yes(stall<L>(s, Chances(s), late, ALL, d(6), u(0.9), u(0.9), d(0.0), u(0.29)).cabinet_fell));
  const auto last = stall<L>(s, Chances(s), late, ALL, d(8), u(0.9), u(0.9), d(0.0), u(0.31));
  CHECK_FALSE(yes(last.cabinet_fell));
  CHECK(yes(last.deadline));
  // A cabinet that falls in the last round ends the run by its fall, not the deadline.
  const auto fall_last = stall<L>(s, Chances(s), late, ALL, d(8), u(0.9), u(0.9), d(0.0), u(0.0));
  CHECK(yes(fall_last.cabinet_fell));
  CHECK_FALSE(yes(fall_last.deadline));
  // A lane that did not stall keeps its state.
  State<L> kept = baseline_state(s);
  kept.fisheries = simd::splat_m<L>(true);
  const auto none =
      stall<L>(s, Chances(s), kept, simd::splat_m<L>(false), d(8), u(0.9), u(0.0), d(0.3), u(0.0));
  CHECK_FALSE(yes(none.cabinet_fell));
  CHECK_FALSE(yes(none.deadline));
  CHECK(yes(kept.fisheries));
  CHECK(v(kept.sg_min_islands) == 4);
  CHECK(v(kept.alignment) == 0.6);
}

TEST_CASE("the alliance is classified from the final alignment", "[rules]") {
  const Scenario s;
  const M t = simd::splat_m<L>(true), f = simd::splat_m<L>(false);
  auto classify = [&](M treaty, M straits, M alliance, double a) {
    return static_cast<AllianceState>(
        static_cast<int>(v(classify_alliance<L>(s, treaty, straits, alliance, d(a)))));
  };
  CHECK(classify(t, t, t, 0.14) == AllianceState::rupture_realign);
  CHECK(classify(t, t, f, 0.14) == AllianceState::rupture_neutral);
  CHECK(classify(f, t, t, 0.14) == AllianceState::rupture_neutral);
  CHECK(classify(f, t, t, 0.2499) == AllianceState::rupture_neutral);
  CHECK(classify(f, t, t, 0.25) == AllianceState::strained);
  CHECK(classify(f, t, t, 0.4499) == AllianceState::strained);
  CHECK(classify(f, t, t, 0.45) == AllianceState::intact);
}

TEST_CASE("the vote's declaration support reads side_f(F) of the state it is given", "[rules]") {
  // The declaration's t_f takes side_f(F) from the round's treaty offer: with fisheries pressure in
  // force (F = 1) the side term is boosted, without it not, exactly as support_declaration alone.
  const Scenario s;
  for (const bool pressure : {false, true}) {
    State<L> st = baseline_state(s);
    st.alignment = d(0.6);
    st.fisheries = simd::splat_m<L>(pressure);
    const auto vote = japan_vote<L>(s, st, d(0), simd::splat_m<L>(true), d(0.0), d(0.0));
    CHECK(std::bit_cast<std::uint64_t>(v(vote.support_declaration)) ==
          std::bit_cast<std::uint64_t>(v(support_declaration<L>(s, st))));
  }
  State<L> calm = baseline_state(s), pressed = calm;
  pressed.fisheries = simd::splat_m<L>(true);
  CHECK(v(support_declaration<L>(s, pressed)) > v(support_declaration<L>(s, calm)));
}
