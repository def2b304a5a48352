#pragma once
/// The parameters of the negotiation model (MODEL.md §4): one plain struct with the baseline
/// defaults, and its validation.
#include <array>
#include <cstddef>
#include <string_view>

namespace wedge::agents {

/// A Japanese faction (MODEL.md §3-§4).
struct Faction {
  double weight = 0.0;    ///< relative weight (normalised by the sum over factions)
  int min_islands = 0;    ///< minimum islands: 0, 2 or 4
  double territory = 0.0; ///< salience of territory, a_T
  double side = 0.0;      ///< salience of Soviet non-territorial inducements, a_side
  double alliance = 0.0;  ///< salience of the US alliance, a_A
  double okinawa = 0.0;   ///< salience of Okinawa, a_Ok
};

/// Faction indices, in the order of MODEL.md §4.
enum FactionId : std::size_t { HK = 0, SG = 1, YS = 2, PUB = 3, FISH = 4 };
inline constexpr std::size_t FACTION_COUNT = 5;
inline constexpr std::array<std::string_view, FACTION_COUNT> FACTION_NAMES{"HK", "SG", "YS", "PUB",
                                                                           "FISH"};

/// Every parameter of MODEL.md §4, with its default (the baseline scenario).
struct Scenario {
  struct Negotiation {
    int rounds = 8;
  } negotiation;

  struct Soviet {
    double soft_line_prob = 0.7;
    double four_island_prob = 0.02;
    bool straits_clause = true;
    bool alliance_clause = true;
    double straits_drop_hazard = 0.35;
    double alliance_drop_hazard = 0.35;
    double declaration_accept_early = 0.2;
    double declaration_accept_late = 0.8;
    int declaration_switch_round = 4;
    double fisheries_pressure_prob = 0.7;
    double fisheries_boost = 0.3;
    double carrots = 1.0;
  } soviet;

  struct Matsumoto {
    double formula_prob = 0.5;
  } matsumoto;

  struct Shigemitsu {
    double soften_hazard = 0.25;
  } shigemitsu;

  struct Hatoyama {
    double fall_hazard_early = 0.05;
    double fall_hazard_late = 0.3;
    int fall_switch_round = 6;
  } hatoyama;

  struct Japan {
    double ratify_threshold = 0.6;
    double logit_sharpness = 4.0;
    double vote_noise_sd = 0.05;
    double damage_treaty = 0.3;
    double damage_straits = 0.35;
    double damage_alliance_clause = 0.35;
    double damage_declaration = 0.3;
    std::array<Faction, FACTION_COUNT> factions{{
        {0.35, 2, 0.5, 0.5, 0.5, 0.5},  // HK: Hatoyama-Kono mainstream
        {0.25, 4, 1.0, 0.2, 0.6, 1.0},  // SG: Shigemitsu and the Foreign Ministry
        {0.15, 4, 1.0, 0.1, 1.0, 1.0},  // YS: Yoshida faction
        {0.15, 4, 0.5, 0.5, 0.3, 0.5},  // PUB: public opinion, prisoners' families
        {0.10, 0, 0.1, 0.8, 0.2, 0.2},  // FISH: fisheries lobby
    }};
  } japan;

  struct Dulles {
    double bind_threshold = 0.3;
    double coerce_threshold = 0.45;
    double estimate_noise_sd = 0.1;
    double gravity_straits = 0.5;
    double gravity_alliance_clause = 0.5;
    double reward_power = 1.0;
    double reward_gain = 0.05;
    int suez_round = 6;
    double suez_factor = 0.7;
    double threat_strength = 1.0;
    double credibility_min = 0.2;
    double credibility_max = 0.6;
    double tact = 0.3;
    double backlash = 0.15;
  } dulles;

  struct Alliance {
    double initial = 0.6;
    double treaty_cost = 0.08;
    double declaration_cost = 0.03;
    double drift_sd = 0.03;
    double strained_below = 0.45;
    double rupture_below = 0.25;
    double realign_below = 0.15;
  } alliance;

  /// Throws ConfigError naming the first key out of its valid range (MODEL.md §4), including the
  /// constraints between keys (credibility_min <= credibility_max, realign_below <= rupture_below
  /// < strained_below, faction weights summing to more than 0, min_islands in {0, 2, 4}).
  void validate() const;
};

}  // namespace wedge::agents
