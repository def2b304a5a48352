#pragma once
/// The registry of scenario keys: name, section, type, default, valid range and meaning of every
/// parameter of MODEL.md §4, with typed access to a Scenario. Used for --set, `wedge params`,
/// experiment files and validation.
#include "agents/scenario.hpp"

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

  /// The valid range in words, e.g. "[0, 1]", "(0, 1]", ">= 0", "an integer in [1, 100]", "true or false".
  std::string range_text() const;
  /// The default, as text (e.g. "0.35", "8", "true").
  std::string default_text() const;
  /// True if `value` is inside the key's own range (not the constraints between keys).
  bool in_range(double value) const;
};

/// Every key, in the order of MODEL.md §4 (factions last).
const std::vector<ParamInfo>& parameters();

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

/// Applies "key=value" to `scenario`; throws ConfigError (bad syntax, unknown key, bad value).
void apply_assignment(Scenario& scenario, std::string_view assignment);

/// Levenshtein distance between two strings (for "did you mean" suggestions).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// Whether a known word at edit distance `distance` from `word` is close enough to suggest
/// ("did you mean"): at most max(2, |word| / 3) edits, and at most half of the word's length
/// ("magic" suggests nothing; "rnus" suggests "runs"). The one rule of every suggestion.
bool close_match(std::string_view word, std::size_t distance);

/// A value formatted for display: shortest round-trip for reals, integer or bool otherwise.
std::string format_value(const ParamInfo& info, double value);

}  // namespace wedge::agents
