#pragma once
/// The parameters of the negotiation model (MODEL.md §4): one plain struct with the baseline
/// defaults, and its validation.
///
/// Each section's parameters are listed once, below, as X(type, name, default, kind, min, max,
/// meaning) in MODEL.md §4's order: the struct declares them with their defaults, and the
/// registry (agents/params.hpp) gives each its key "section.name", its kind (real, integer or
/// boolean), its valid range [min, max] (INF: unbounded) and its meaning, for --set, experiment
/// files, `wedge params` and validation. A new parameter is one line here (docs/design.md, "How
/// to add a parameter").
#include <array>
#include <cstddef>
#include <string_view>

namespace wedge::agents {

/// A Japanese faction (MODEL.md §3-§4). Its keys are japan.factions.<id>.<field>
/// (agents/params.cpp).
struct Faction {
  double weight = 0.0;     ///< relative weight (normalised by the sum over factions)
  int min_islands = 0;     ///< minimum islands: 0, 2 or 4
  double territory = 0.0;  ///< salience of territory, a_T
  double side = 0.0;       ///< salience of Soviet non-territorial inducements, a_side
  double alliance = 0.0;   ///< salience of the US alliance, a_A
  double okinawa = 0.0;    ///< salience of Okinawa, a_Ok
};

/// Faction indices, in the order of MODEL.md §4.
enum FactionId : std::size_t { HK = 0, SG = 1, YS = 2, PUB = 3, FISH = 4 };
inline constexpr std::size_t FACTION_COUNT = 5;
inline constexpr std::array<std::string_view, FACTION_COUNT> FACTION_NAMES{"HK", "SG", "YS", "PUB",
                                                                           "FISH"};

/// Most factions a scenario may define (MODEL.md §3 sums over any number of them).
inline constexpr std::size_t MAX_FACTIONS = 16;

/// Japan's factions (MODEL.md §3): the first `count` entries of `list` take part, in the
/// scenario's order; `softens` is the index of the faction whose minimum Shigemitsu's softening
/// lowers from 4 to 2 islands (§2.5; the baseline's SG), or -1 for none.
struct Factions {
  std::array<Faction, MAX_FACTIONS> list{{
      {0.35, 2, 0.5, 0.5, 0.5, 0.5},  // HK: Hatoyama-Kono mainstream
      {0.25, 4, 1.0, 0.2, 0.6, 1.0},  // SG: Shigemitsu and the Foreign Ministry
      {0.15, 4, 1.0, 0.1, 1.0, 1.0},  // YS: Yoshida faction
      {0.15, 4, 0.5, 0.5, 0.3, 0.5},  // PUB: public opinion, prisoners' families
      {0.10, 0, 0.1, 0.8, 0.2, 0.2},  // FISH: fisheries lobby
  }};
  std::size_t count = 5;
  int softens = 1;
};

/// The ids and optional names of Japan's factions, slot by slot as in Factions::list (the
/// experiment side: keys japan.factions.<id>.<field>, reports, the trace; the kernel never reads
/// them). An id is a TOML bare key of 1 to MAX_FACTION_ID characters (A-Z a-z 0-9 _ -); a name
/// at most MAX_FACTION_NAME bytes. Both are NUL-terminated so that a Scenario stays trivially
/// copyable.
inline constexpr std::size_t MAX_FACTION_ID = 31;
inline constexpr std::size_t MAX_FACTION_NAME = 63;
struct FactionLabels {
  /// A NUL-terminated text of at most `Max` bytes per faction slot.
  template <std::size_t Max>
  using Texts = std::array<std::array<char, Max + 1>, MAX_FACTIONS>;
  Texts<MAX_FACTION_ID> id{{{"HK"}, {"SG"}, {"YS"}, {"PUB"}, {"FISH"}}};
  Texts<MAX_FACTION_NAME> name{{
      {"Hatoyama-Kono mainstream"},
      {"Shigemitsu and the Foreign Ministry"},
      {"Yoshida faction"},
      {"public opinion, prisoners' families"},
      {"fisheries lobby"},
  }};
  std::string_view id_of(std::size_t slot) const { return id[slot].data(); }
  std::string_view name_of(std::size_t slot) const { return name[slot].data(); }
};

// clang-format off
/// The talks (MODEL.md §2).
#define WEDGE_NEGOTIATION_PARAMETERS(X)                                                            \
  X(int, rounds, 8, integer, 1, 100, "rounds before the deadline")

/// Soviet negotiators (§2.1): the clauses, the Khrushchev and Molotov lines, the format, fisheries.
#define WEDGE_SOVIET_PARAMETERS(X)                                                                                   \
  X(double, soft_line_prob, 0.7, real, 0, 1, "P(Khrushchev line prevails in a round)")                               \
  X(double, four_island_prob, 0.02, real, 0, 1, "P(soft line offers four islands)")                                  \
  X(bool, straits_clause, true, boolean, 0, 1, "opening draft demands closing the straits")                          \
  X(bool, alliance_clause, true, boolean, 0, 1, "opening draft demands no alliance against former enemies")          \
  X(double, straits_drop_hazard, 0.35, real, 0, 1, "per-round P(straits demand dropped), from round 2")              \
  X(double, alliance_drop_hazard, 0.35, real, 0, 1, "per-round P(no-alliance demand dropped), from round 2")         \
  X(double, declaration_accept_early, 0.2, real, 0, 1, "P(USSR accepts declaration format) before the switch round") \
  X(double, declaration_accept_late, 0.8, real, 0, 1, "P(USSR accepts declaration format) from the switch round on") \
  X(int, declaration_switch_round, 4, integer, 1, 100, "round from which the late acceptance probability applies")   \
  X(double, fisheries_pressure_prob, 0.7, real, 0, 1, "P(fisheries closure after a stalled round)")                  \
  X(double, fisheries_boost, 0.3, real, 0, 5, "how much fisheries pressure raises the value of a deal")              \
  X(double, carrots, 1.0, real, 0, 5, "scale of Soviet non-territorial inducements")

/// Matsumoto (§2.2).
#define WEDGE_MATSUMOTO_PARAMETERS(X)                                                              \
  X(double, formula_prob, 0.5, real, 0, 1, "P(Matsumoto proposes the declaration formula)")

/// Shigemitsu (§2.5).
#define WEDGE_SHIGEMITSU_PARAMETERS(X)                                                             \
  X(double, soften_hazard, 0.25, real, 0, 1, "per stalled round P(SG minimum 4 -> 2)")

/// Hatoyama's cabinet (§2.5).
#define WEDGE_HATOYAMA_PARAMETERS(X)                                                                           \
  X(double, fall_hazard_early, 0.05, real, 0, 1, "per stalled round P(cabinet falls) before the switch round") \
  X(double, fall_hazard_late, 0.3, real, 0, 1, "per stalled round P(cabinet falls) from the switch round on")  \
  X(int, fall_switch_round, 6, integer, 1, 100, "round from which the late fall hazard applies")

/// Japan's vote (§2.4) and support (§3); the factions are listed apart (japan.factions).
#define WEDGE_JAPAN_PARAMETERS(X)                                                                    \
  X(double, ratify_threshold, 0.6, real, 0, 1, "support needed to ratify (theta)")                   \
  X(double, logit_sharpness, 4.0, real, 0, 100, "sharpness of factions' logistic response (lambda)") \
  X(double, vote_noise_sd, 0.05, real, 0, 1, "sd of the noise on realized support (sigma_v)")        \
  X(double, damage_treaty, 0.3, real, 0, INF, "alliance damage of any Soviet treaty")                \
  X(double, damage_straits, 0.35, real, 0, INF, "extra damage of the straits clause")                \
  X(double, damage_alliance_clause, 0.35, real, 0, INF, "extra damage of the no-alliance clause")    \
  X(double, damage_declaration, 0.3, real, 0, INF, "alliance damage of a declaration")

/// Dulles (§2.3): estimates, rewards, the Okinawa threat.
#define WEDGE_DULLES_PARAMETERS(X)                                                                               \
  X(double, bind_threshold, 0.3, real, 0, 10, "estimated threat (p x gravity) above which Dulles rewards")       \
  X(double, coerce_threshold, 0.45, real, 0, 10, "estimated threat after rewards above which Dulles coerces")    \
  X(double, estimate_noise_sd, 0.1, real, 0, INF, "sd of Dulles's error in estimating P(ratification)")          \
  X(double, gravity_straits, 0.5, real, 0, INF, "extra gravity of a treaty with the straits clause")             \
  X(double, gravity_alliance_clause, 0.5, real, 0, INF, "extra gravity of a treaty with the no-alliance clause") \
  X(double, reward_power, 1.0, real, 0, 5, "US reward power (trade, aid, security guarantee)")                   \
  X(double, reward_gain, 0.05, real, 0, 1, "alignment gained per unit of reward")                                \
  X(int, suez_round, 6, integer, 1, 100, "round from which rewards shrink (Suez crisis)")                        \
  X(double, suez_factor, 0.7, real, 0, 1, "factor on rewards from the Suez round on")                            \
  X(double, threat_strength, 1.0, real, 0, 5, "kappa, strength of the Okinawa threat (0 = no coercion)")         \
  X(double, credibility_min, 0.2, real, 0, 1, "lower end of the threat's credibility, drawn once per run")       \
  X(double, credibility_max, 0.6, real, 0, 1, "upper end of the threat's credibility (>= credibility_min)")      \
  X(double, tact, 0.3, real, 0, 1, "1 = fully staffed, private; 0 = public and tactless")                        \
  X(double, backlash, 0.15, real, 0, 1, "alignment lost per unit of tactless coercion")

/// The US-Japan alliance: alignment A and its classification (§2, §2.4, §2.5).
#define WEDGE_ALLIANCE_PARAMETERS(X)                                                                                               \
  X(double, initial, 0.6, real, 0, 1, "Japan's initial alignment with the US")                                                     \
  X(double, treaty_cost, 0.08, real, 0, 1, "alignment lost by a treaty, per clause in force plus one")                             \
  X(double, declaration_cost, 0.03, real, 0, 1, "alignment lost by a declaration")                                                 \
  X(double, drift_sd, 0.03, real, 0, INF, "sd of the alignment's random drift per stalled round")                                  \
  X(double, strained_below, 0.45, real, 0, 1, "alignment below which the alliance is strained")                                    \
  X(double, rupture_below, 0.25, real, 0, 1, "alignment below which the alliance ruptures (< strained_below)")                     \
  X(double, realign_below, 0.15, real, 0, 1, "alignment below which a treaty with both clauses realigns Japan (<= rupture_below)")

// clang-format on

#define WEDGE_DECLARE_PARAMETER(type, name, default_value, kind, min, max, meaning) \
  type name = default_value;

/// Every parameter of MODEL.md §4, with its default (the baseline scenario).
struct Scenario {
  struct Negotiation {
    WEDGE_NEGOTIATION_PARAMETERS(WEDGE_DECLARE_PARAMETER)
  } negotiation;
  struct Soviet {
    WEDGE_SOVIET_PARAMETERS(WEDGE_DECLARE_PARAMETER)
  } soviet;
  struct Matsumoto {
    WEDGE_MATSUMOTO_PARAMETERS(WEDGE_DECLARE_PARAMETER)
  } matsumoto;
  struct Shigemitsu {
    WEDGE_SHIGEMITSU_PARAMETERS(WEDGE_DECLARE_PARAMETER)
  } shigemitsu;
  struct Hatoyama {
    WEDGE_HATOYAMA_PARAMETERS(WEDGE_DECLARE_PARAMETER)
  } hatoyama;
  struct Japan {
    WEDGE_JAPAN_PARAMETERS(WEDGE_DECLARE_PARAMETER)
    Factions factions;
    FactionLabels labels;  ///< ids and names of `factions`, slot by slot
  } japan;
  struct Dulles {
    WEDGE_DULLES_PARAMETERS(WEDGE_DECLARE_PARAMETER)
  } dulles;
  struct Alliance {
    WEDGE_ALLIANCE_PARAMETERS(WEDGE_DECLARE_PARAMETER)
  } alliance;

  /// Throws ConfigError naming the first key out of its valid range (MODEL.md §4), including the
  /// constraints between keys (credibility_min <= credibility_max, realign_below <= rupture_below
  /// < strained_below, 1 to MAX_FACTIONS factions whose weights sum to more than 0, min_islands in
  /// {0, 2, 4}, softens naming one of them or -1).
  void validate() const;
};

#undef WEDGE_DECLARE_PARAMETER

}  // namespace wedge::agents
