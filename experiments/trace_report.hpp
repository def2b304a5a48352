#pragma once
/// Telling one run's story (`wedge trace`): readable text or JSON.
#include "agents/tug_of_war.hpp"

#include <cstdint>
#include <cstdio>
#include <string>

namespace wedge::experiments {

/// `threshold` = japan.ratify_threshold, shown beside the realized support.
void print_trace(std::FILE* out, const agents::Trace& trace, double threshold);
std::string trace_json(const agents::Trace& trace, std::uint64_t seed, std::uint32_t point,
                       std::uint64_t replicate);

/// The narrative of `wedge trace` for a run of scenario `s`: first each symbol explained once
/// (A, c, q, R, g, p̂, W, θ, σ(λ·u_f), m_SG, S, N, F) and the factions; then round by round
/// what each agent did and why (Dulles's estimate against his thresholds, including "no new
/// threat: one is already in force"), each faction's model support σ(λ·u_f) for the treaty and
/// the declaration (experiments/trace_where.hpp), Japan's realized support against θ, and the
/// decision; then the outcome.
void print_story(std::FILE* out, const agents::Trace& trace, const agents::Scenario& s);

/// How a `--where` search chose the replicate (for the JSON document).
struct WhereInfo {
  std::string conditions;     ///< as given, e.g. "format=treaty,alliance=strained"
  std::uint64_t scanned = 0;  ///< replicates examined
};

/// trace_json's document plus "factions" (id, name, weight, softens), per round
/// "threat_in_force_before" and "faction_support" ([{id, treaty, declaration}]: σ(λ·u_f)), and,
/// for a --where search, "where": {"conditions", "scanned"}.
std::string trace_json(const agents::Trace& trace, const agents::Scenario& s, std::uint64_t seed,
                       std::uint32_t point, std::uint64_t replicate,
                       const WhereInfo* where = nullptr);

}  // namespace wedge::experiments
