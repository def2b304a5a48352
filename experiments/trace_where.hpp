#pragma once
/// `wedge trace --where`: the first replicate of a design point whose outcome matches conditions
/// such as "format=treaty,alliance=strained", found with the engine's own kernel; and each
/// faction's support in a traced round (for the narrative).
#include "agents/tug_of_war.hpp"
#include "engine/cancel.hpp"
#include "experiments/experiment.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wedge::experiments {

/// One condition: categorical field `field` (agents::Field::Categorical) in category `category`.
struct OutcomeCondition {
  std::size_t field = 0;
  std::size_t category = 0;
  std::string text;  ///< as written, e.g. "format=treaty"
};

/// Exit code of `wedge trace --where` when no replicate matches within the cap.
inline constexpr int EXIT_NO_MATCH = 4;

/// Default cap on the replicates `--where` scans.
inline constexpr std::uint64_t DEFAULT_WHERE_LIMIT = 10'000'000;

/// Parses "field=category[,field=category...]" over the record's categorical fields (format,
/// end_reason, alliance, okinawa, islands_promised, ..., two_island_round; categories as in
/// results files: "treaty", "2", "0" for "never" in round fields). ConfigError for an empty list,
/// a missing '=', an unknown field or category (with a did-you-mean suggestion and the valid
/// names), or a field given twice.
std::vector<OutcomeCondition> parse_where(const std::string& text);

/// Why category `category` of categorical field `field` (agents::Field::Categorical) can occur in
/// no run of scenario `s`, or "" when it can. The rules are the model's own (MODEL.md §2, §5):
/// the round fields stop at negotiation.rounds; with dulles.threat_strength = 0 no threat is ever
/// issued (threat_round is 0); Shigemitsu's faction softens only when some faction softens, its
/// minimum is 4 islands and shigemitsu.soften_hazard > 0 (else shigemitsu_round is 0). A "" is
/// no promise that the category occurs: only these structural limits are known.
std::string impossible_category(const agents::Scenario& s, std::size_t field, std::size_t category);

/// The scenario keys impossible_category reads, and no others: an entry "*.name" stands for every
/// key ending in ".name" (each faction's min_islands). A caller that widens a scenario to make
/// every outcome possible (calibrate's prior) widens these.
inline constexpr std::array<std::string_view, 4> IMPOSSIBLE_CATEGORY_KEYS{
    "negotiation.rounds", "dulles.threat_strength", "shigemitsu.soften_hazard", "*.min_islands"};

/// True if impossible_category reads scenario key `key` (IMPOSSIBLE_CATEGORY_KEYS).
bool read_by_impossible_category(std::string_view key);

/// The result of a search.
struct WhereSearch {
  std::optional<std::uint64_t> replicate;  ///< the first matching replicate, if any
  std::uint64_t scanned = 0;               ///< replicates examined (0 .. replicate, or the cap)
};

/// Scans replicates 0, 1, 2, ... of design point `point` (the engine's streams: the experiment's
/// seed and crn) in blocks with the SIMD kernel, and stops at the first whose record meets every
/// condition, or after `limit` replicates (1 <= limit <= 2^32). Deterministic: the same answer on
/// any machine. ConfigError for a point outside the design, a bad limit or a condition no run of
/// the point can meet (impossible_category: `rounds=9` with negotiation.rounds = 8); Interrupted
/// if `cancel` is requested.
WhereSearch find_replicate(const Experiment& experiment, std::uint32_t point,
                           const std::vector<OutcomeCondition>& conditions, std::uint64_t limit,
                           const engine::CancelToken* cancel = nullptr);

/// The model support sigma(lambda u_f) of each faction of `s` for the round's treaty and
/// declaration (MODEL.md §3), before the vote noise, from the state the round's vote saw
/// (agents/rules.hpp's support functions, one faction at a time). Japan's model support is the
/// weight-averaged mean of these.
struct FactionSupport {
  double treaty = 0.0;
  double declaration = 0.0;
};
std::vector<FactionSupport> faction_support(const agents::Scenario& s,
                                            const agents::RoundTrace& round);

}  // namespace wedge::experiments
