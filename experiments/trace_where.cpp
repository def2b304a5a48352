#include "experiments/trace_where.hpp"

#include "agents/params.hpp"
#include "agents/rules.hpp"
#include "engine/error.hpp"
#include "engine/runner.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace wedge::experiments {

namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <class List>
std::string closest(std::string_view word, const List& list) {
  std::string best;
  std::size_t d = std::string::npos;
  for (const auto& c : list) {
    const std::size_t x = agents::edit_distance(word.substr(0, 64), c);
    if (x < d) {
      d = x;
      best = std::string(c);
    }
  }
  return best;
}

template <class List>
std::string joined(const List& list) {
  std::string out;
  for (const auto& c : list) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

bool matches(const agents::RunRecord& r, const std::vector<OutcomeCondition>& conditions) {
  std::uint16_t categories[agents::Field::categorical_count];
  double values[agents::Field::continuous_count];
  agents::TugOfWar::observe(r, categories, values);
  return std::all_of(conditions.begin(), conditions.end(),
                     [&](const OutcomeCondition& c) { return categories[c.field] == c.category; });
}

}  // namespace

std::vector<OutcomeCondition> parse_where(const std::string& text) {
  const auto& fields = agents::TugOfWar::fields();
  std::vector<std::string> names;
  for (std::size_t f = 0; f < agents::Field::categorical_count; ++f)
    names.push_back(fields[f].name);
  std::vector<OutcomeCondition> out;
  std::string_view rest(text);
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view item = trimmed(rest.substr(0, comma));
    const auto eq = item.find('=');
    if (item.empty() || eq == std::string_view::npos) {
      throw ConfigError(
          fmt::format("--where '{}': expected field=category[,field=category...], e.g. "
                      "format=treaty,alliance=strained",
                      display_text(text)));
    }
    const std::string field(trimmed(item.substr(0, eq)));
    const std::string category(trimmed(item.substr(eq + 1)));
    const auto f = std::find(names.begin(), names.end(), field);
    if (f == names.end()) {
      throw ConfigError(fmt::format("--where: unknown outcome '{}' (did you mean '{}'? valid: {})",
                                    display_text(field), closest(field, names), joined(names)));
    }
    const std::size_t index = static_cast<std::size_t>(f - names.begin());
    const auto& cats = fields[index].categories;
    const auto c = std::find(cats.begin(), cats.end(), category);
    if (c == cats.end()) {
      const std::size_t shown = std::min<std::size_t>(cats.size(), 12);
      const std::vector<std::string> some(cats.begin(),
                                          cats.begin() + static_cast<std::ptrdiff_t>(shown));
      throw ConfigError(
          fmt::format("--where: {} has no category '{}' (did you mean '{}'? valid: {}{})", field,
                      display_text(category), closest(category, cats), joined(some),
                      cats.size() > shown ? fmt::format(", ... {}", cats.back()) : ""));
    }
    for (const auto& earlier : out) {
      if (earlier.field == index)
        throw ConfigError(fmt::format("--where: {} is given twice", field));
    }
    out.push_back({index, static_cast<std::size_t>(c - cats.begin()), field + "=" + category});
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::string impossible_category(const agents::Scenario& s, std::size_t field,
                                std::size_t category) {
  // Reads only the keys of IMPOSSIBLE_CATEGORY_KEYS (calibrate widens them): a new limit adds its
  // key there (tests/experiments/test_trace.cpp checks the list against every key).
  using agents::Field;
  const auto& cats = agents::TugOfWar::fields().at(field).categories;
  const std::size_t in_use = agents::TugOfWar::categories_in_use(s, field);
  const std::string& name = agents::TugOfWar::fields().at(field).name;
  if (field == Field::threat_round && category > 0 && !(s.dulles.threat_strength > 0.0))
    return "dulles.threat_strength is 0, so no threat is ever issued (threat_round is always 0)";
  if (field == Field::shigemitsu_round && category > 0) {
    const int softens = s.japan.factions.softens;
    if (softens < 0) return "no faction softens under Shigemitsu, so shigemitsu_round is always 0";
    const auto& faction = s.japan.factions.list[static_cast<std::size_t>(softens)];
    if (faction.min_islands != 4) {
      return fmt::format(
          "the softening faction {} asks for {} islands, not 4, so it never softens "
          "(shigemitsu_round is always 0)",
          s.japan.labels.id_of(static_cast<std::size_t>(softens)), faction.min_islands);
    }
    if (!(s.shigemitsu.soften_hazard > 0.0))
      return "shigemitsu.soften_hazard is 0, so Shigemitsu never softens (shigemitsu_round is "
             "always 0)";
  }
  if (category >= in_use) {
    return fmt::format("negotiation.rounds is {}, so {} takes {} to {}", s.negotiation.rounds, name,
                       cats.front(), cats.at(in_use - 1));
  }
  return "";
}

bool read_by_impossible_category(std::string_view key) {
  return std::any_of(IMPOSSIBLE_CATEGORY_KEYS.begin(), IMPOSSIBLE_CATEGORY_KEYS.end(),
                     [key](std::string_view k) {
                       return k.starts_with('*') ? key.ends_with(k.substr(1)) : key == k;
                     });
}

WhereSearch find_replicate(const Experiment& experiment, std::uint32_t point,
                           const std::vector<OutcomeCondition>& conditions, std::uint64_t limit,
                           const engine::CancelToken* cancel) {
  if (point >= experiment.points.size()) {
    throw ConfigError(
        fmt::format("--point {}: the experiment has {} design point(s) (valid: 0 to {})", point,
                    experiment.points.size(), experiment.points.size() - 1));
  }
  if (limit < 1 || limit > engine::MAX_REPLICATES) {
    throw ConfigError(
        fmt::format("--where-limit {}: must be 1 to {}", limit, engine::MAX_REPLICATES));
  }
  for (const auto& c : conditions) {
    if (const auto why = impossible_category(experiment.points[point], c.field, c.category);
        !why.empty()) {
      throw ConfigError(
          fmt::format("--where {}: no run of design point {} can end so: {}", c.text, point, why));
    }
  }
  engine::RunOptions options;
  options.seed = experiment.run.seed;
  options.crn = experiment.run.crn;
  constexpr std::uint32_t BLOCK = 4096;
  std::vector<agents::RunRecord> records(BLOCK);
  WhereSearch out;
  for (std::uint64_t begin = 0; begin < limit; begin += BLOCK) {
    if (cancel != nullptr && cancel->requested())
      throw Interrupted("wedge trace --where interrupted");
    const auto count = static_cast<std::uint32_t>(std::min<std::uint64_t>(BLOCK, limit - begin));
    agents::TugOfWar::run_block(experiment.points[point], engine::stream_key(options, point, begin),
                                count, records.data());
    for (std::uint32_t k = 0; k < count; ++k) {
      if (matches(records[k], conditions)) {
        out.replicate = begin + k;
        out.scanned = begin + k + 1;
        return out;
      }
    }
    out.scanned = begin + count;
  }
  return out;
}

std::vector<FactionSupport> faction_support(const agents::Scenario& s,
                                            const agents::RoundTrace& round) {
  using L = engine::simd::Lanes<1>;
  namespace simd = engine::simd;
  auto st = agents::State<L>::initial(s, simd::splat<L>(0.0));
  // The state of the round's vote (agents/round.hpp): A after Dulles, the clauses after this
  // round's drops, the fisheries pressure in force, m_SG, and q after Dulles.
  st.alignment = simd::splat<L>(round.alignment_after_dulles);
  st.straits_clause = simd::splat_m<L>(round.straits_clause);
  st.alliance_clause = simd::splat_m<L>(round.alliance_clause);
  st.fisheries = simd::splat_m<L>(round.fisheries_in_force);
  st.sg_min_islands = simd::splat<L>(round.sg_min_islands);
  st.threat = simd::splat<L>(round.threat);
  std::vector<FactionSupport> out;
  for (std::size_t f = 0; f < s.japan.factions.count; ++f) {
    agents::Scenario one =
        s;  // the faction alone, with weight 1: the support is its sigma(lambda u_f)
    one.japan.factions.list[0] = s.japan.factions.list[f];
    one.japan.factions.list[0].weight = 1.0;
    one.japan.factions.count = 1;
    one.japan.factions.softens = s.japan.factions.softens == static_cast<int>(f) ? 0 : -1;
    const auto treaty = agents::support_treaty<L>(one, st, simd::splat<L>(round.islands_offered));
    const auto declaration = agents::support_declaration<L>(one, st);
    out.push_back({treaty[0], declaration[0]});
  }
  return out;
}

}  // namespace wedge::experiments
