#include "agents/validation.hpp"

#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "engine/plan.hpp"
#include "engine/runner.hpp"
#include "engine/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>

namespace wedge::agents {

namespace {

/// A C target of MODEL.md §7: its change and the expected direction.
struct Counterfactual {
  const char* id;
  const char* description;
  std::vector<std::string> changes;
};

const std::vector<Counterfactual>& counterfactuals() {
  static const std::vector<Counterfactual> list{
      {"C1",
       "no straits clause: P(treaty) rises, by less than 0.15",
       {"soviet.straits_clause=false", "dulles.gravity_straits=0"}},
      {"C2",
       "no Okinawa threat: P(treaty) rises by at least 0.1; P(declaration) falls",
       {"dulles.threat_strength=0"}},
      {"C3", "weak US rewards: P(alliance intact) falls", {"dulles.reward_power=0.2"}},
      {"C4",
       "heavy tactless coercion: P(treaty) falls; P(strained or rupture) rises",
       {"dulles.threat_strength=2", "dulles.tact=0"}},
      {"C7",
       "credible four-island offer: P(treaty) rises by at least 0.1",
       {"soviet.four_island_prob=0.5"}},
  };
  return list;
}

/// Indicators kept per run for the paired differences (one byte per run and scenario).
enum Flag : std::uint8_t { TREATY = 1, DECLARATION = 2, INTACT = 4 };

/// What the targets need of each scenario's runs: tallies, and each run's flags by replicate.
struct Tally : engine::RecordSink<RunRecord> {
  struct Point {
    std::uint64_t n = 0;
    std::array<std::uint64_t, 3> format{};  ///< none, declaration, treaty
    std::uint64_t intact = 0, rupture = 0, us_claim = 0, threat = 0;
    std::uint64_t rounds_to_2 = 0, rounds_to_6 = 0;      ///< runs ending in round <= 2, <= 6
    std::array<std::uint64_t, 3> declaration_islands{};  ///< declarations promising 0, 2, 4 islands
    std::vector<std::uint8_t> flags;                     ///< by replicate (paired points only)
  };
  std::vector<Point> points;

  void consume(std::span<const engine::Block> blocks, std::span<const RunRecord> records,
               std::span<const engine::Summary>) override {
    std::size_t i = 0;
    for (const auto& b : blocks) {
      Point& p = points[b.point];
      for (std::uint32_t k = 0; k < b.count; ++k) {
        const RunRecord& r = records[i++];
        ++p.n;
        ++p.format[static_cast<std::size_t>(r.format)];
        p.intact += r.alliance == AllianceState::intact;
        p.rupture += r.alliance == AllianceState::rupture_neutral ||
                     r.alliance == AllianceState::rupture_realign;
        p.us_claim += r.okinawa == Okinawa::us_claim;
        p.threat += r.threat_round != 0;
        p.rounds_to_2 += r.rounds <= 2;
        p.rounds_to_6 += r.rounds <= 6;
        if (r.format == Format::declaration) ++p.declaration_islands[r.islands_promised / 2];
        const std::uint64_t rep = b.replicate_begin + k;
        if (rep < p.flags.size()) {
          p.flags[rep] =
              static_cast<std::uint8_t>((r.format == Format::treaty ? TREATY : 0) |
                                        (r.format == Format::declaration ? DECLARATION : 0) |
                                        (r.alliance == AllianceState::intact ? INTACT : 0));
        }
      }
    }
  }
};

CheckCondition proportion(std::string quantity, std::uint64_t k, std::uint64_t n) {
  const auto ci = engine::wilson(k, n, Z99);
  return {std::move(quantity),
          n > 0 ? static_cast<double>(k) / static_cast<double>(n) : 0.0,
          ci.low,
          ci.high,
          "",
          false};
}

CheckCondition at_least(CheckCondition c, double bound) {
  c.requirement = fmt::format(">= {}", bound);
  c.pass = c.low >= bound;
  return c;
}

CheckCondition at_most(CheckCondition c, double bound) {
  c.requirement = fmt::format("<= {}", bound);
  c.pass = c.high <= bound;
  return c;
}

CheckCondition below(CheckCondition c, double bound, const std::string& what) {
  c.requirement = fmt::format("< {} ({})", bound, what);
  c.pass = c.high < bound;
  return c;
}

/// `c` entirely below `other`'s interval.
CheckCondition below_of(CheckCondition c, const CheckCondition& other) {
  c.requirement = fmt::format("< {:.4f} (low end of {})", other.low, other.quantity);
  c.pass = c.high < other.low;
  return c;
}

/// The paired difference of indicator `flag` (counterfactual minus baseline) over the first `n`
/// replicates.
CheckCondition paired(std::string quantity, const Tally::Point& cf, const Tally::Point& base,
                      std::uint8_t flag, bool negate, std::uint64_t n) {
  double sum = 0.0, sum2 = 0.0;
  for (std::uint64_t r = 0; r < n; ++r) {
    const bool a = ((cf.flags[r] & flag) != 0) != negate;
    const bool b = ((base.flags[r] & flag) != 0) != negate;
    const double d = (a ? 1.0 : 0.0) - (b ? 1.0 : 0.0);
    sum += d;
    sum2 += d * d;
  }
  const double count = static_cast<double>(n);
  const double mean = sum / count;
  const double var = n > 1 ? std::max(0.0, (sum2 - count * mean * mean) / (count - 1.0)) : 0.0;
  const double half = Z99 * std::sqrt(var / count);
  return {std::move(quantity), mean, mean - half, mean + half, "", false};
}

CheckCondition positive(CheckCondition c, double bound = 0.0) {
  c.requirement = bound > 0 ? fmt::format(">= {}", bound) : "> 0 (rises)";
  c.pass = bound > 0 ? c.low >= bound : c.low > 0.0;
  return c;
}

CheckCondition negative(CheckCondition c) {
  c.requirement = "< 0 (falls)";
  c.pass = c.high < 0.0;
  return c;
}

Scenario with_changes(const Scenario& base, const std::vector<std::string>& changes) {
  Scenario s = base;
  for (const auto& c : changes) apply_assignment(s, c);
  return s;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass:
      return "pass";
    case Verdict::fail:
      return "fail";
    case Verdict::not_applicable:
      break;
  }
  return "not applicable";
}

bool same_scenario(const Scenario& a, const Scenario& b) {
  if (a.japan.factions.count != b.japan.factions.count ||
      a.japan.factions.softens != b.japan.factions.softens) {
    return false;
  }
  for (std::size_t i = 0; i < a.japan.factions.count; ++i) {
    if (a.japan.labels.id_of(i) != b.japan.labels.id_of(i)) return false;
  }
  for (const auto& p : parameters(a)) {
    if (p.get(a) != p.get(b)) return false;
  }
  return true;
}

std::vector<CheckTarget> run_check(const Scenario& scenario, const CheckOptions& options) {
  if (options.runs < 1 || options.runs > MAX_CHECK_RUNS) {
    throw ConfigError(
        fmt::format("--runs {}: wedge check takes 1 to {} runs", options.runs, MAX_CHECK_RUNS));
  }
  const std::uint64_t paired_runs = options.paired_runs == 0 ? options.runs : options.paired_runs;
  if (paired_runs > options.runs) throw ConfigError("check: paired_runs must be <= runs");
  scenario.validate();

  // Points: 0 the reference baseline, 1..5 the counterfactuals, and the scenario itself when it is
  // none of those.
  const bool is_baseline = same_scenario(scenario, Scenario{});
  const Scenario reference = options.as_baseline ? scenario : Scenario{};
  const auto wanted = [&](std::string_view id) {
    return options.only.empty() ||
           std::find(options.only.begin(), options.only.end(), id) != options.only.end();
  };
  bool any_v = false;
  for (const char* id : {"V1", "V2", "V3", "V4", "V5", "V6", "V7"}) any_v = any_v || wanted(id);
  std::vector<Scenario> points{reference};
  std::vector<std::size_t> cf_point(counterfactuals().size(), 0);  // 0: not run
  for (std::size_t k = 0; k < counterfactuals().size(); ++k) {
    if (!wanted(counterfactuals()[k].id)) continue;
    cf_point[k] = points.size();
    points.push_back(with_changes(reference, counterfactuals()[k].changes));
    points.back().validate();
  }
  const std::size_t paired_points = points.size();
  std::size_t own = points.size();
  for (std::size_t p = 0; p < points.size(); ++p) {
    if (same_scenario(points[p], scenario)) {
      own = p;
      break;
    }
  }
  if (own == points.size()) {
    if (any_v) {
      points.push_back(scenario);
    } else {
      own = SIZE_MAX;  // only C targets, and the scenario is none of their scenarios: nothing more
                       // to run
    }
  }

  std::vector<engine::Segment> segments;
  Tally tally;
  tally.points.resize(points.size());
  for (std::uint32_t p = 0; p < points.size(); ++p) {
    const std::uint64_t n = p == own ? options.runs : paired_runs;
    segments.push_back({p, 0, n});
    if (p < paired_points) tally.points[p].flags.assign(paired_runs, 0);
  }
  auto summaries = engine::make_summaries<TugOfWar>(points.size());
  engine::RunOptions run_options;
  run_options.seed = options.seed;
  run_options.crn =
      true;  // replicate r draws the same stream in every scenario: paired differences
  run_options.cancel = options.cancel;
  const auto report = engine::run_blocks<TugOfWar>(points, engine::make_blocks(segments), summaries,
                                                   run_options, &tally);
  if (report.interrupted) throw Interrupted("wedge check interrupted");

  const bool v_apply = options.as_baseline || is_baseline;
  const std::string v_why =
      "the scenario is not the baseline (MODEL.md §7 states these targets for the baseline; "
      "--as-baseline judges it as one)";
  std::vector<CheckTarget> out;
  const auto& s = tally.points[own == SIZE_MAX ? 0 : own];
  const auto add_v = [&](const char* id, const char* description,
                         std::vector<CheckCondition> conditions) {
    if (!wanted(id)) return;
    CheckTarget t{
        id, description, "", std::move(conditions), Verdict::not_applicable, v_apply ? "" : v_why};
    if (v_apply) {
      t.verdict = Verdict::pass;
      for (const auto& c : t.conditions) {
        if (!c.pass) t.verdict = Verdict::fail;
      }
    }
    out.push_back(std::move(t));
  };

  const auto decl = proportion("P(declaration)", s.format[1], s.n);
  const auto treaty = proportion("P(treaty)", s.format[2], s.n);
  const auto none = proportion("P(no agreement)", s.format[0], s.n);
  add_v("V1", "declaration is the most frequent format, P(declaration) >= 0.55",
        {at_least(decl, 0.55), below_of(treaty, decl), below_of(none, decl)});
  add_v("V2", "P(treaty) <= 0.25", {at_most(treaty, 0.25)});
  add_v("V3", "P(alliance intact) >= 0.80 and P(any rupture) <= 0.01",
        {at_least(proportion("P(alliance intact)", s.intact, s.n), 0.80),
         at_most(proportion("P(any rupture)", s.rupture, s.n), 0.01)});
  add_v("V4", "P(okinawa = us_claim) <= 0.05",
        {at_most(proportion("P(okinawa = us_claim)", s.us_claim, s.n), 0.05)});
  // median >= 3 <=> P(rounds <= 2) < 1/2; median <= 6 <=> P(rounds <= 6) >= 1/2.
  add_v("V5", "median rounds between 3 and 6",
        {below(proportion("P(rounds <= 2)", s.rounds_to_2, s.n), 0.5, "median >= 3"),
         at_least(proportion("P(rounds <= 6)", s.rounds_to_6, s.n), 0.5)});
  const std::uint64_t declarations =
      s.declaration_islands[0] + s.declaration_islands[1] + s.declaration_islands[2];
  auto two = proportion("P(2 islands | declaration)", s.declaration_islands[1], declarations);
  two.requirement = "above the others";
  two.pass = declarations > 0;  // (and the two conditions below)
  add_v("V6", "among declarations, islands_promised = 2 is the most frequent value",
        {two,
         below_of(proportion("P(0 islands | declaration)", s.declaration_islands[0], declarations),
                  two),
         below_of(proportion("P(4 islands | declaration)", s.declaration_islands[2], declarations),
                  two)});
  auto threat = proportion("P(Okinawa threat issued)", s.threat, s.n);
  threat.requirement = "in [0.3, 0.65]";
  threat.pass = threat.low >= 0.30 && threat.high <= 0.65;
  add_v("V7", "an Okinawa threat is issued in 30-65% of runs", {threat});

  const auto& base = tally.points[0];
  for (std::size_t k = 0; k < counterfactuals().size(); ++k) {
    const auto& c = counterfactuals()[k];
    if (cf_point[k] == 0) continue;
    const auto& cf = tally.points[cf_point[k]];
    std::vector<CheckCondition> conditions;
    const auto d = [&](const char* what, std::uint8_t flag, bool negate = false) {
      return paired(fmt::format("change in {}", what), cf, base, flag, negate, paired_runs);
    };
    const std::string id = c.id;
    if (id == "C1") {
      auto t = positive(d("P(treaty)", TREATY));
      t.requirement = "> 0 and < 0.15";
      t.pass = t.low > 0.0 && t.high < 0.15;
      conditions = {t};
    } else if (id == "C2") {
      conditions = {positive(d("P(treaty)", TREATY), 0.1),
                    negative(d("P(declaration)", DECLARATION))};
    } else if (id == "C3") {
      conditions = {negative(d("P(alliance intact)", INTACT))};
    } else if (id == "C4") {
      conditions = {negative(d("P(treaty)", TREATY)),
                    positive(d("P(strained or rupture)", INTACT, true))};
    } else {
      conditions = {positive(d("P(treaty)", TREATY), 0.1)};
    }
    std::string changes;
    for (const auto& x : c.changes) changes += (changes.empty() ? "" : " ") + x;
    const bool applies = v_apply || own == cf_point[k];
    CheckTarget t{
        c.id,
        c.description,
        changes,
        std::move(conditions),
        Verdict::not_applicable,
        applies ? ""
                : fmt::format("the scenario is neither the baseline nor {}'s counterfactual (the "
                              "baseline with {})",
                              c.id, changes)};
    if (applies) {
      t.verdict = Verdict::pass;
      for (const auto& x : t.conditions) {
        if (!x.pass) t.verdict = Verdict::fail;
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool all_pass(const std::vector<CheckTarget>& targets) {
  for (const auto& t : targets) {
    if (t.verdict == Verdict::fail) return false;
  }
  return true;
}

}  // namespace wedge::agents
