#pragma once
/// What each run records (MODEL.md §5): a small POD with categorical fields as small enums.
#include <array>
#include <cstdint>
#include <string_view>

namespace wedge::agents {

enum class Format : std::uint8_t { none = 0, declaration = 1, treaty = 2 };
enum class EndReason : std::uint8_t { agreement = 0, deadline = 1, cabinet_fell = 2 };
enum class AllianceState : std::uint8_t {
  intact = 0,
  strained = 1,
  rupture_neutral = 2,
  rupture_realign = 3
};
enum class Okinawa : std::uint8_t { residual = 0, us_claim = 1 };

inline constexpr std::array<std::string_view, 3> FORMAT_NAMES{"none", "declaration", "treaty"};
inline constexpr std::array<std::string_view, 3> END_REASON_NAMES{"agreement", "deadline",
                                                                  "cabinet_fell"};
inline constexpr std::array<std::string_view, 4> ALLIANCE_NAMES{
    "intact", "strained", "rupture_neutral", "rupture_realign"};
inline constexpr std::array<std::string_view, 2> OKINAWA_NAMES{"residual", "us_claim"};

/// One run's outcome (MODEL.md §5). Rounds are 1-based; a round field of 0 means "never".
struct RunRecord {
  Format format = Format::none;
  EndReason end_reason = EndReason::deadline;
  AllianceState alliance = AllianceState::intact;
  Okinawa okinawa = Okinawa::residual;
  std::uint8_t rounds = 0;               ///< the round in which the run ended
  std::uint8_t islands_promised = 0;     ///< 0, 2 or 4
  std::uint8_t islands_transferred = 0;  ///< 0, 2 or 4
  bool straits_clause = false;           ///< clause still demanded when the run ended
  bool alliance_clause = false;          ///< clause still demanded when the run ended
  std::uint8_t threat_round = 0;         ///< round of the Okinawa threat, 0 if none
  std::uint8_t shigemitsu_round = 0;     ///< round in which SG softened, 0 if never
  std::uint8_t two_island_round = 0;     ///< first round with T >= 2 offered, 0 if never
  double alignment = 0.0;                ///< final A
  double reward_total = 0.0;             ///< sum of R over the run

  friend bool operator==(const RunRecord&, const RunRecord&) = default;
};

}  // namespace wedge::agents
