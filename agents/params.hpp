#pragma once
/// The registry of scenario keys: name, section, type, default, valid range and meaning of every
/// parameter of MODEL.md §4, with typed access to a Scenario. Used for --set, `wedge params`,
/// experiment files and validation.
#include "agents/scenario.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wedge::agents {

enum class ParamType { real, integer, boolean };

/// One scenario key.
struct ParamInfo {
  std::string key;      ///< e.g. "dulles.tact", "japan.factions.HK.weight"
  std::string section;  ///< e.g. "dulles", "japan.factions.HK"
  ParamType type = ParamType::real;
  double min = 0.0;            ///< lower bound (may be -inf)
  double max = 0.0;            ///< upper bound (may be +inf)
  bool min_exclusive = false;  ///< true for "> min"
  std::string meaning;
  double (*get)(const Scenario&) = nullptr;
  void (*set)(Scenario&, double) = nullptr;

  /// The valid range in words, e.g. "[0, 1]", "(0, 1]", ">= 0", "an integer in [1, 100]", "true or
  /// false".
  std::string range_text() const;
  /// The default, as text (e.g. "0.35", "8", "true").
  std::string default_text() const;
  /// True if `value` is inside the key's own range (not the constraints between keys).
  bool in_range(double value) const;
};

/// Every key of the default scenario (the five factions of MODEL.md §4), in the order of MODEL.md
/// §4 (factions last).
const std::vector<ParamInfo>& parameters();

/// Every key of `scenario`: the fixed keys of MODEL.md §4, then japan.factions.<id>.<field> for
/// each of its factions (FACTION_FIELDS), in the scenario's order. A faction key's get/set reach
/// its slot of `scenario.japan.factions.list`, so they apply to any scenario with the same
/// factions (the design points of an experiment share their base's).
std::vector<ParamInfo> parameters(const Scenario& scenario);

/// The attributes of a faction that are keys, in order: weight, min_islands, territory, side,
/// alliance, okinawa.
inline constexpr std::array<std::string_view, 6> FACTION_FIELDS{
    "weight", "min_islands", "territory", "side", "alliance", "okinawa"};

/// The key `key` of `scenario` (a fixed key or one of its factions'), or nothing.
std::optional<ParamInfo> find_parameter(const Scenario& scenario, std::string_view key);

/// The key of `scenario` closest to `key` (edit distance), for "did you mean" messages.
std::string nearest_parameter(const Scenario& scenario, std::string_view key);

/// Throws ConfigError for a key `scenario` does not have, with a did-you-mean suggestion.
ParamInfo require_parameter(const Scenario& scenario, std::string_view key);

/// The slot of the faction with id `id` in `scenario`, or nothing.
std::optional<std::size_t> faction_slot(const Scenario& scenario, std::string_view id);

/// True if `id` may name a faction: 1 to MAX_FACTION_ID characters, each A-Z, a-z, 0-9, '_' or
/// '-' (a TOML bare key), and not the reserved word "replace".
bool valid_faction_id(std::string_view id);

/// The sections of the keys, each once, in registry order: "negotiation", "soviet", ...,
/// "japan.factions.HK", ... (for experiment files' tables).
const std::vector<std::string>& sections();

/// The key named `key`, or nullptr.
const ParamInfo* find_parameter(std::string_view key);

/// The known key closest to `key` (edit distance), for "did you mean" messages.
std::string nearest_parameter(std::string_view key);

/// Throws ConfigError for an unknown key, with a did-you-mean suggestion.
const ParamInfo& require_parameter(std::string_view key);

/// Parses `text` as a value of `info`'s type ("true"/"false"/"1"/"0" for booleans, an integer
/// for integer keys) and checks the key's range; throws ConfigError naming the key otherwise.
double parse_parameter_value(const ParamInfo& info, std::string_view text);

/// Applies "key=value" to `scenario` (any of its keys, its factions' included); throws
/// ConfigError (bad syntax, unknown key, bad value).
void apply_assignment(Scenario& scenario, std::string_view assignment);

/// Edit distance between two strings (optimal string alignment: insertions, deletions,
/// substitutions and transpositions of adjacent characters), for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// Whether a known word at edit distance `distance` from `word` is close enough to suggest
/// ("did you mean"): at most max(2, |word| / 3) edits, and at most half of the word's length
/// ("magic" suggests nothing; "rnus" suggests "runs"). The one rule of every suggestion.
bool close_match(std::string_view word, std::size_t distance);

/// A value formatted for display: shortest round-trip for reals, integer or bool otherwise.
std::string format_value(const ParamInfo& info, double value);

}  // namespace wedge::agents
