#include "agents/params.hpp"

#include "engine/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace wedge::agents {

namespace {

constexpr double INF = std::numeric_limits<double>::infinity();

// One registry entry per parameter, generated from scenario.hpp's lists (in their order, which is
// MODEL.md §4's). The lambdas are captureless, so they convert to function pointers.
#define WEDGE_PARAM(KEY, SECTION, MEMBER, TYPE, LO, HI, MEANING)                                 \
  ParamInfo {                                                                                    \
    KEY, SECTION, ParamType::TYPE, LO, HI, false, MEANING,                                       \
        [](const Scenario& s) { return static_cast<double>(s.MEMBER); },                         \
        [](Scenario& s, double v) {                                                              \
          s.MEMBER = ParamType::TYPE == ParamType::boolean ? v != 0.0                            \
                                                           : static_cast<decltype(s.MEMBER)>(v); \
        }                                                                                        \
  }

#define WEDGE_ENTRY(SECTION, type, name, default_value, kind, lo, hi, meaning) \
  WEDGE_PARAM(#SECTION "." #name, #SECTION, SECTION.name, kind, lo, hi, meaning),
#define WEDGE_NEGOTIATION(...) WEDGE_ENTRY(negotiation, __VA_ARGS__)
#define WEDGE_SOVIET(...) WEDGE_ENTRY(soviet, __VA_ARGS__)
#define WEDGE_MATSUMOTO(...) WEDGE_ENTRY(matsumoto, __VA_ARGS__)
#define WEDGE_SHIGEMITSU(...) WEDGE_ENTRY(shigemitsu, __VA_ARGS__)
#define WEDGE_HATOYAMA(...) WEDGE_ENTRY(hatoyama, __VA_ARGS__)
#define WEDGE_JAPAN(...) WEDGE_ENTRY(japan, __VA_ARGS__)
#define WEDGE_DULLES(...) WEDGE_ENTRY(dulles, __VA_ARGS__)
#define WEDGE_ALLIANCE(...) WEDGE_ENTRY(alliance, __VA_ARGS__)

/// get/set of attribute MEMBER of faction slot I (function pointers need one function per slot).
template <std::size_t I, auto MEMBER>
double faction_get(const Scenario& s) {
  return static_cast<double>(s.japan.factions.list[I].*MEMBER);
}
template <std::size_t I, auto MEMBER>
void faction_set(Scenario& s, double v) {
  using T = std::remove_reference_t<decltype(s.japan.factions.list[I].*MEMBER)>;
  s.japan.factions.list[I].*MEMBER = static_cast<T>(v);
}

struct FactionField {
  ParamType type;
  double min, max;
  const char* meaning;
  double (*get[MAX_FACTIONS])(const Scenario&);
  void (*set[MAX_FACTIONS])(Scenario&, double);
};

template <auto MEMBER, std::size_t... I>
FactionField faction_field(ParamType type, double lo, double hi, const char* meaning,
                           std::index_sequence<I...>) {
  return FactionField{
      type, lo, hi, meaning, {&faction_get<I, MEMBER>...}, {&faction_set<I, MEMBER>...}};
}

/// The attributes of FACTION_FIELDS, in its order.
const std::array<FactionField, 6>& faction_fields() {
  using Seq = std::make_index_sequence<MAX_FACTIONS>;
  static const std::array<FactionField, 6> fields{
      faction_field<&Faction::weight>(ParamType::real, 0.0, INF,
                                      "relative weight (normalised by the sum over factions)",
                                      Seq{}),
      faction_field<&Faction::min_islands>(ParamType::integer, 0.0, 4.0,
                                           "minimum number of islands: 0, 2 or 4", Seq{}),
      faction_field<&Faction::territory>(ParamType::real, 0.0, INF, "salience of territory", Seq{}),
      faction_field<&Faction::side>(
          ParamType::real, 0.0, INF,
          "salience of Soviet non-territorial inducements (prisoners, UN, fisheries)", Seq{}),
      faction_field<&Faction::alliance>(ParamType::real, 0.0, INF, "salience of the US alliance",
                                        Seq{}),
      faction_field<&Faction::okinawa>(ParamType::real, 0.0, INF, "salience of Okinawa", Seq{}),
  };
  return fields;
}

ParamInfo faction_parameter(std::string_view id, std::size_t slot, std::size_t field) {
  const FactionField& f = faction_fields()[field];
  const std::string section = fmt::format("japan.factions.{}", id);
  return ParamInfo{section + "." + std::string(FACTION_FIELDS[field]),
                   section,
                   f.type,
                   f.min,
                   f.max,
                   false,
                   f.meaning,
                   f.get[slot],
                   f.set[slot]};
}

std::vector<ParamInfo> make_registry() {
  std::vector<ParamInfo> r{
      WEDGE_NEGOTIATION_PARAMETERS(WEDGE_NEGOTIATION) WEDGE_SOVIET_PARAMETERS(WEDGE_SOVIET)
          WEDGE_MATSUMOTO_PARAMETERS(WEDGE_MATSUMOTO) WEDGE_SHIGEMITSU_PARAMETERS(WEDGE_SHIGEMITSU)
              WEDGE_HATOYAMA_PARAMETERS(WEDGE_HATOYAMA) WEDGE_JAPAN_PARAMETERS(WEDGE_JAPAN)
                  WEDGE_DULLES_PARAMETERS(WEDGE_DULLES) WEDGE_ALLIANCE_PARAMETERS(WEDGE_ALLIANCE)};
  for (auto& p : r) {
    if (p.key == "japan.vote_noise_sd") p.min_exclusive = true;
  }
  return r;
}

#undef WEDGE_ALLIANCE
#undef WEDGE_DULLES
#undef WEDGE_JAPAN
#undef WEDGE_HATOYAMA
#undef WEDGE_SHIGEMITSU
#undef WEDGE_MATSUMOTO
#undef WEDGE_SOVIET
#undef WEDGE_NEGOTIATION
#undef WEDGE_ENTRY
#undef WEDGE_PARAM

std::string number_text(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus the transposition of two adjacent characters
  // ("JPS" is one edit from "JSP"), over three rows.
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      row[j] =
          std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

bool close_match(std::string_view word, std::size_t distance) {
  return distance <= std::max<std::size_t>(2, word.size() / 3) && 2 * distance <= word.size();
}

std::string ParamInfo::range_text() const {
  switch (type) {
    case ParamType::boolean:
      return "true or false";
    case ParamType::integer:
      if (key.ends_with(".min_islands")) return "0, 2 or 4";
      return fmt::format("an integer in [{}, {}]", number_text(min), number_text(max));
    case ParamType::real:
      break;
  }
  if (std::isinf(max)) return fmt::format("{} {}", min_exclusive ? ">" : ">=", number_text(min));
  return fmt::format("{}{}, {}]", min_exclusive ? "(" : "[", number_text(min), number_text(max));
}

std::string ParamInfo::default_text() const { return format_value(*this, get(Scenario{})); }

namespace {

/// A key's own range without its name: what ParamInfo::in_range reads of it (its key only for
/// whether it is a ".min_islands", whose values are 0, 2 or 4).
struct Bounds {
  ParamType type = ParamType::real;
  double min = 0.0, max = 0.0;
  bool min_exclusive = false;
  bool islands = false;
};

[[gnu::always_inline]] inline bool within(const Bounds& b, double value) {
  if (std::isnan(value)) return false;
  if (b.type == ParamType::real && !std::isfinite(value)) return false;
  if (b.type != ParamType::real && value != std::floor(value)) return false;
  if (b.islands) return value == 0 || value == 2 || value == 4;
  if (b.min_exclusive ? !(value > b.min) : !(value >= b.min)) return false;
  return value <= b.max;
}

Bounds bounds_of(const ParamInfo& p) {
  return {p.type, p.min, p.max, p.min_exclusive, p.key.ends_with(".min_islands")};
}

}  // namespace

bool ParamInfo::in_range(double value) const { return within(bounds_of(*this), value); }

std::string format_value(const ParamInfo& info, double value) {
  switch (info.type) {
    case ParamType::boolean:
      return value != 0.0 ? "true" : "false";
    case ParamType::integer:
      return fmt::format("{}", static_cast<long long>(value));
    case ParamType::real:
      break;
  }
  return number_text(value);
}

/// The keys outside japan.factions (make_registry), built once.
const std::vector<ParamInfo>& fixed_parameters() {
  static const std::vector<ParamInfo> fixed = make_registry();
  return fixed;
}

std::vector<ParamInfo> parameters(const Scenario& scenario) {
  std::vector<ParamInfo> out = fixed_parameters();
  const std::size_t n = std::min(scenario.japan.factions.count, MAX_FACTIONS);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t f = 0; f < FACTION_FIELDS.size(); ++f) {
      out.push_back(faction_parameter(scenario.japan.labels.id_of(i), i, f));
    }
  }
  return out;
}

const std::vector<ParamInfo>& parameters() {
  static const std::vector<ParamInfo> registry = parameters(Scenario{});
  return registry;
}

std::optional<std::size_t> faction_slot(const Scenario& scenario, std::string_view id) {
  const std::size_t n = std::min(scenario.japan.factions.count, MAX_FACTIONS);
  for (std::size_t i = 0; i < n; ++i) {
    if (scenario.japan.labels.id_of(i) == id) return i;
  }
  return std::nullopt;
}

bool valid_faction_id(std::string_view id) {
  return !id.empty() && id.size() <= MAX_FACTION_ID && id != "replace" &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
         });
}

std::optional<ParamInfo> find_parameter(const Scenario& scenario, std::string_view key) {
  constexpr std::string_view PREFIX = "japan.factions.";
  if (key.starts_with(PREFIX)) {
    const std::string_view rest = key.substr(PREFIX.size());
    const auto dot = rest.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const auto slot = faction_slot(scenario, rest.substr(0, dot));
    const auto field =
        std::find(FACTION_FIELDS.begin(), FACTION_FIELDS.end(), rest.substr(dot + 1));
    if (!slot || field == FACTION_FIELDS.end()) return std::nullopt;
    return faction_parameter(rest.substr(0, dot), *slot,
                             static_cast<std::size_t>(field - FACTION_FIELDS.begin()));
  }
  for (const auto& p : parameters()) {
    if (p.key == key) return p;
  }
  return std::nullopt;
}

namespace {
std::string nearest_in(const std::vector<ParamInfo>& list, std::string_view key) {
  const ParamInfo* best = nullptr;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (const auto& p : list) {
    std::size_t d = edit_distance(key, p.key);
    // A key written without its section ("tact") should still find "dulles.tact".
    const auto dot = p.key.rfind('.');
    if (dot != std::string::npos) d = std::min(d, edit_distance(key, p.key.substr(dot + 1)) + 1);
    if (d < best_d) {
      best_d = d;
      best = &p;
    }
  }
  return best != nullptr && close_match(key, best_d) ? best->key : std::string{};
}
}  // namespace

std::string nearest_parameter(const Scenario& scenario, std::string_view key) {
  return nearest_in(parameters(scenario), key);
}

ParamInfo require_parameter(const Scenario& scenario, std::string_view key) {
  if (auto p = find_parameter(scenario, key)) return *p;
  const std::string near = nearest_parameter(scenario, key);
  throw ConfigError(
      fmt::format("unknown parameter '{}' ({}`wedge params` lists every key)", key,
                  near.empty() ? std::string() : fmt::format("did you mean '{}'? ", near)));
}

const std::vector<std::string>& sections() {
  static const std::vector<std::string> list = [] {
    std::vector<std::string> out;
    for (const auto& p : parameters()) {
      if (std::find(out.begin(), out.end(), p.section) == out.end()) out.push_back(p.section);
    }
    return out;
  }();
  return list;
}

const ParamInfo* find_parameter(std::string_view key) {
  for (const auto& p : parameters()) {
    if (p.key == key) return &p;
  }
  return nullptr;
}

std::string nearest_parameter(std::string_view key) { return nearest_in(parameters(), key); }

const ParamInfo& require_parameter(std::string_view key) {
  if (const ParamInfo* p = find_parameter(key)) return *p;
  const std::string near = nearest_parameter(key);
  throw ConfigError(
      fmt::format("unknown parameter '{}' ({}`wedge params` lists every key)", key,
                  near.empty() ? std::string() : fmt::format("did you mean '{}'? ", near)));
}

double parse_parameter_value(const ParamInfo& info, std::string_view raw) {
  const std::string_view text = trim(raw);
  double value = 0.0;
  bool ok = false;
  if (info.type == ParamType::boolean) {
    if (text == "true" || text == "1") {
      value = 1.0;
      ok = true;
    } else if (text == "false" || text == "0") {
      value = 0.0;
      ok = true;
    }
  } else if (info.type == ParamType::integer) {
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ok = ec == std::errc{} && end == text.data() + text.size() && !text.empty();
    value = static_cast<double>(v);
  } else {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    ok = ec == std::errc{} && end == text.data() + text.size() && !text.empty();
  }
  if (!ok) {
    const char* what = info.type == ParamType::boolean   ? "a boolean"
                       : info.type == ParamType::integer ? "an integer"
                                                         : "a number";
    throw ConfigError(
        fmt::format("{} = '{}': not {} (valid: {})", info.key, text, what, info.range_text()));
  }
  if (!info.in_range(value)) {
    throw ConfigError(fmt::format("{} = {}: must be {}", info.key, text, info.range_text()));
  }
  return value;
}

void apply_assignment(Scenario& scenario, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    throw ConfigError(
        fmt::format("--set '{}': expected key=value, e.g. dulles.tact=0.9", assignment));
  }
  const std::string_view key = trim(assignment.substr(0, eq));
  const std::string_view value = trim(assignment.substr(eq + 1));
  if (key.empty() || value.empty()) {
    throw ConfigError(
        fmt::format("--set '{}': expected key=value, e.g. dulles.tact=0.9", assignment));
  }
  const ParamInfo info = require_parameter(scenario, key);
  info.set(scenario, parse_parameter_value(info, value));
}

void Scenario::validate() const {
  if (japan.factions.count < 1 || japan.factions.count > MAX_FACTIONS) {
    throw ConfigError(fmt::format("japan.factions: {} factions: must be 1 to {}",
                                  japan.factions.count, MAX_FACTIONS));
  }
  // Every key in range. Validation runs once per design point (4,096 points and more), so the
  // faction keys' names (fmt::format, allocations: ~110,000 instructions a point when every
  // parameter was copied by name) are built only for a value out of range.
  const auto check = [this](const ParamInfo& p, double v) {
    if (!p.in_range(v)) {
      throw ConfigError(
          fmt::format("{} = {}: must be {}", p.key, format_value(p, v), p.range_text()));
    }
  };
  // The keys' ranges without their names, made once (ParamInfo::in_range's test on each: ~1,700
  // instructions a scenario, not ~7,100 with the names' suffixes compared and strings made).
  struct Ranges {
    std::vector<Bounds> fixed;
    std::array<Bounds, FACTION_FIELDS.size()> faction;
  };
  static const Ranges ranges = [] {
    Ranges r;
    for (const auto& p : fixed_parameters()) r.fixed.push_back(bounds_of(p));
    for (std::size_t f = 0; f < FACTION_FIELDS.size(); ++f) {
      const FactionField& field = faction_fields()[f];
      r.faction[f] = {field.type, field.min, field.max, false, FACTION_FIELDS[f] == "min_islands"};
    }
    return r;
  }();
  const auto& fixed = fixed_parameters();
  for (std::size_t j = 0; j < fixed.size(); ++j) {
    const double v = fixed[j].get(*this);
    if (!within(ranges.fixed[j], v)) check(fixed[j], v);
  }
  for (std::size_t i = 0; i < japan.factions.count; ++i) {
    for (std::size_t f = 0; f < FACTION_FIELDS.size(); ++f) {
      const double v = faction_fields()[f].get[i](*this);
      if (!within(ranges.faction[f], v)) check(faction_parameter(japan.labels.id_of(i), i, f), v);
    }
  }
  if (dulles.credibility_max < dulles.credibility_min) {
    throw ConfigError(
        fmt::format("dulles.credibility_max = {}: must be >= dulles.credibility_min ({}) and <= 1",
                    dulles.credibility_max, dulles.credibility_min));
  }
  if (!(alliance.rupture_below < alliance.strained_below)) {
    throw ConfigError(
        fmt::format("alliance.rupture_below = {}: must be < alliance.strained_below ({})",
                    alliance.rupture_below, alliance.strained_below));
  }
  if (alliance.realign_below > alliance.rupture_below) {
    throw ConfigError(
        fmt::format("alliance.realign_below = {}: must be <= alliance.rupture_below ({})",
                    alliance.realign_below, alliance.rupture_below));
  }
  if (japan.factions.softens < -1 ||
      japan.factions.softens >= static_cast<int>(japan.factions.count)) {
    throw ConfigError(
        fmt::format("japan.factions: softens = {}: must name one of the {} factions or none (-1)",
                    japan.factions.softens, japan.factions.count));
  }
  double total = 0.0;
  for (std::size_t i = 0; i < japan.factions.count; ++i) total += japan.factions.list[i].weight;
  if (!(total > 0.0)) {
    throw ConfigError(
        "japan.factions.*.weight: the faction weights sum to 0; at least one must be > 0");
  }
}

}  // namespace wedge::agents
