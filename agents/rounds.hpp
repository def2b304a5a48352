#pragma once
/// Round-by-round histories (`wedge run --store rounds`, docs/output-format.md "/rounds"): what a
/// run records of each round it plays, and the replay that produces it. The rows come from the
/// trace's path (kernel::run_lanes at width 1 with a tracer: the same draws and the same record as
/// the engine's run), so the SIMD kernel carries no per-round bookkeeping of its own.
#include "agents/kernel.hpp"
#include "agents/record.hpp"
#include "agents/scenario.hpp"
#include "engine/fields.hpp"
#include "engine/rng.hpp"

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace wedge::agents {

/// What Dulles did in a round (MODEL.md §2.3): nothing, a reward, or a reward and then the
/// Okinawa threat. He threatens only after rewarding, and at most once per run, so a round
/// after the threat shows "none" or "reward" even while the threat is in force.
enum class DullesMove : std::uint8_t { none = 0, reward = 1, reward_threat = 2 };
inline constexpr std::array<std::string_view, 3> DULLES_MOVE_NAMES{"none", "reward",
                                                                   "reward_threat"};

/// One round of one run as `--store rounds` keeps it (MODEL.md §2: the state and the moves).
struct RoundRow {
  std::uint8_t round = 0;              ///< 1, 2, ...
  std::uint8_t islands_offered = 0;    ///< T: 0, 2 or 4
  bool straits_clause = false;         ///< S, after this round's drops
  bool alliance_clause = false;        ///< N, after this round's drops
  bool declaration_available = false;  ///< the USSR accepts the format and Matsumoto proposes it
  DullesMove dulles = DullesMove::none;
  bool fisheries = false;            ///< F in force during the vote
  std::uint8_t sg_min_islands = 4;   ///< m_SG in force during the vote
  double alignment = 0.0;            ///< A after the round (the run's final A in its last round)
  double support_treaty = 0.0;       ///< realized W_t (computed even when T = 0)
  double support_declaration = 0.0;  ///< realized W_d; NaN when no declaration was available
};

/// The row of a traced round.
RoundRow round_row(const RoundTrace& t);

/// Where each column of a round row sits (categorical and continuous counted apart), as
/// round_fields() declares them and observe_round() writes them.
struct RoundField {
  enum Categorical : std::size_t {
    round,
    islands_offered,
    straits_clause,
    alliance_clause,
    declaration_available,
    dulles,
    fisheries,
    sg_min_islands,
    categorical_count
  };
  enum Continuous : std::size_t {
    alignment,
    support_treaty,
    support_declaration,
    continuous_count
  };
};

/// The columns of a round row: categorical (uint8 in the file), then continuous (float32), in the
/// order of RoundField.
const std::vector<engine::FieldSpec>& round_fields();

/// A row's category indices and values at their RoundField positions.
void observe_round(const RoundRow& row, std::uint16_t* categories, double* values) noexcept;

/// Replays replicates [first.replicate, first.replicate + count) of `s` one lane at a time (the
/// trace's path): writes record k to records[k] (the same record the engine's run_block gives) and
/// appends the rows of every run, in replicate order, to `rows` (records[k].rounds rows for run k).
void replay_rounds(const Scenario& s, const engine::StreamKey& first, std::uint32_t count,
                   RunRecord* records, std::vector<RoundRow>& rows);

}  // namespace wedge::agents
