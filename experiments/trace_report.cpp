#include "experiments/trace_report.hpp"

#include "experiments/report.hpp"
#include "experiments/trace_where.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace wedge::experiments {

using namespace agents;

namespace {
const char* yes_no(bool b) { return b ? "yes" : "no"; }
std::string_view name(Format f) { return FORMAT_NAMES[static_cast<std::size_t>(f)]; }

nlohmann::ordered_json record_json(const RunRecord& r) {
  return {{"format", name(r.format)},
          {"end_reason", END_REASON_NAMES[static_cast<std::size_t>(r.end_reason)]},
          {"rounds", r.rounds},
          {"islands_promised", r.islands_promised},
          {"islands_transferred", r.islands_transferred},
          {"straits_clause", r.straits_clause ? 1 : 0},
          {"alliance_clause", r.alliance_clause ? 1 : 0},
          {"alliance", ALLIANCE_NAMES[static_cast<std::size_t>(r.alliance)]},
          {"alignment", r.alignment},
          {"okinawa", OKINAWA_NAMES[static_cast<std::size_t>(r.okinawa)]},
          {"threat_round", r.threat_round},
          {"reward_total", r.reward_total},
          {"shigemitsu_round", r.shigemitsu_round},
          {"two_island_round", r.two_island_round}};
}

/// A round's decision line ("  decision: ..."); `pressure` names fisheries pressure in a stall
/// ("fisheries pressure" in print_trace, "F" in print_story, whose symbols say what F is).
void print_decision(std::FILE* out, const RoundTrace& t, std::string_view pressure) {
  fmt::print(out, "  decision: ");
  if (t.decision == Format::treaty) {
    fmt::print(
        out, "PEACE TREATY with {} islands{}\n", t.islands_offered,
        t.okinawa == Okinawa::us_claim ? "; the US claims full sovereignty over Okinawa" : "");
  } else if (t.decision == Format::declaration) {
    fmt::print(out, "JOINT DECLARATION ({} islands promised after a future treaty)\n",
               t.islands_offered);
  } else {
    fmt::print(out, "stall; {} {}; Shigemitsu {}; A drifts to {:.4f}; cabinet {}{}\n", pressure,
               t.fisheries_pressure ? "imposed" : "lifted",
               t.shigemitsu_softened ? "softens to two islands" : "holds", t.alignment_end,
               t.cabinet_fell ? "FALLS" : "survives", t.deadline ? "; deadline reached" : "");
  }
}

/// The run's outcome line, after a blank line.
void print_outcome(std::FILE* out, const RunRecord& r) {
  fmt::print(out,
             "\noutcome: format {}, ended by {} in round {}, islands promised {} / transferred "
             "{}, alliance {} (A = {:.4f}), Okinawa {}\n",
             name(r.format), END_REASON_NAMES[static_cast<std::size_t>(r.end_reason)], r.rounds,
             r.islands_promised, r.islands_transferred,
             ALLIANCE_NAMES[static_cast<std::size_t>(r.alliance)], r.alignment,
             OKINAWA_NAMES[static_cast<std::size_t>(r.okinawa)]);
}
}  // namespace

void print_trace(std::FILE* out, const Trace& trace, double threshold) {
  fmt::print(out, "credibility of a US threat this run: c = {:.4f}\n", trace.credibility);
  for (const RoundTrace& t : trace.rounds) {
    fmt::print(out, "\nround {} (alignment A = {:.4f})\n", t.round, t.alignment_start);
    fmt::print(
        out, "  USSR: {} line, offers {} islands; straits clause {}, no-alliance clause {}\n",
        t.soft_line ? "soft (Khrushchev)" : "hard (Molotov)", t.islands_offered,
        t.straits_clause ? "demanded" : "dropped", t.alliance_clause ? "demanded" : "dropped");
    fmt::print(
        out,
        "  declaration: USSR accepts the format: {}; Matsumoto proposes it: {}; available: {}\n",
        yes_no(t.ussr_accepts_declaration), yes_no(t.matsumoto_proposes),
        yes_no(t.declaration_available));
    fmt::print(out, "  Dulles: estimates P(ratify) = {:.4f}, gravity {:.2f}", t.dulles_estimate,
               t.gravity);
    if (t.rewarded) {
      fmt::print(out, "; rewards R = {:.3f}; re-estimates {:.4f}", t.reward,
                 t.dulles_estimate_after);
      if (t.coerced) fmt::print(out, "; THREATENS Okinawa (q = {:.4f})", t.threat);
    } else {
      fmt::print(out, "; no action");
    }
    fmt::print(out, "; A = {:.4f}\n", t.alignment_after_dulles);
    fmt::print(
        out,
        "  Japan (fisheries pressure {}, SG minimum {} islands): realized support: treaty {:.4f}",
        t.fisheries_in_force ? "on" : "off", t.sg_min_islands, t.support_treaty);
    if (t.declaration_available) fmt::print(out, ", declaration {:.4f}", t.support_declaration);
    fmt::print(out, " (threshold {:.2f})\n", threshold);
    print_decision(out, t, "fisheries pressure");
  }
  print_outcome(out, trace.record);
}

std::string trace_json(const Trace& trace, std::uint64_t seed, std::uint32_t point,
                       std::uint64_t replicate) {
  nlohmann::ordered_json rounds = nlohmann::ordered_json::array();
  for (const RoundTrace& t : trace.rounds) {
    rounds.push_back(
        {{"round", t.round},
         {"alignment_start", t.alignment_start},
         {"soft_line", t.soft_line},
         {"islands_offered", t.islands_offered},
         {"straits_clause", t.straits_clause},
         {"alliance_clause", t.alliance_clause},
         {"ussr_accepts_declaration", t.ussr_accepts_declaration},
         {"matsumoto_proposes", t.matsumoto_proposes},
         {"declaration_available", t.declaration_available},
         {"fisheries_in_force", t.fisheries_in_force},
         {"sg_min_islands", t.sg_min_islands},
         {"dulles_estimate", t.dulles_estimate},
         {"gravity", t.gravity},
         {"rewarded", t.rewarded},
         {"reward", t.reward},
         {"dulles_estimate_after", t.dulles_estimate_after},
         {"coerced", t.coerced},
         {"threat", t.threat},
         {"alignment_after_dulles", t.alignment_after_dulles},
         {"realized_support_treaty", t.support_treaty},
         {"realized_support_declaration", t.declaration_available ? t.support_declaration : 0.0},
         {"decision", name(t.decision)},
         {"okinawa", OKINAWA_NAMES[static_cast<std::size_t>(t.okinawa)]},
         {"fisheries_pressure", t.fisheries_pressure},
         {"shigemitsu_softened", t.shigemitsu_softened},
         {"cabinet_fell", t.cabinet_fell},
         {"deadline", t.deadline},
         {"alignment_end", t.alignment_end}});
  }
  const nlohmann::ordered_json doc = {{"seed", seed},
                                      {"point", point},
                                      {"replicate", replicate},
                                      {"credibility", trace.credibility},
                                      {"rounds", std::move(rounds)},
                                      {"record", record_json(trace.record)}};
  return json_text(doc) + "\n";
}

void print_story(std::FILE* out, const Trace& trace, const Scenario& s) {
  const double theta = s.japan.ratify_threshold;
  fmt::print(
      out,
      "symbols (each explained once):\n"
      "  A     Japan's alignment with the US, 0 (none left) to 1 (firmly with Washington); it "
      "starts at {}\n"
      "  c     the credibility of a US threat, drawn once per run in [{}, {}]\n"
      "  q     the Okinawa threat in force, q = c x kappa (kappa = dulles.threat_strength = {}); 0 "
      "until Dulles "
      "threatens\n"
      "  R     a US reward (trade access, aid, a security guarantee); it raises A by reward_gain x "
      "R\n"
      "  S, N  the Soviet clauses still demanded: close the straits (S), no alliance against "
      "former enemies (N)\n"
      "  g     the gravity Dulles gives the treaty on offer: 1, plus {} with S, plus {} with N\n"
      "  p^    Dulles's estimate of P(Japan ratifies the treaty on offer), with his error; he "
      "rewards when "
      "p^ x g > {} and threatens when, after rewarding, p^ x g > {}\n"
      "  F     Soviet fisheries pressure, imposed after a stalled round\n"
      "  m_SG  the minimum islands of the faction that softens under Shigemitsu (4, then 2)\n"
      "  u_f   faction f's utility for an option; sigma(lambda u_f) its support, 0 to 1 (lambda = "
      "{})\n"
      "  W     Japan's support: the weight-averaged mean of the factions' sigma(lambda u_f), plus "
      "vote noise\n"
      "  theta the support needed to ratify (japan.ratify_threshold = {})\n",
      s.alliance.initial, s.dulles.credibility_min, s.dulles.credibility_max,
      s.dulles.threat_strength, s.dulles.gravity_straits, s.dulles.gravity_alliance_clause,
      s.dulles.bind_threshold, s.dulles.coerce_threshold, s.japan.logit_sharpness, theta);
  fmt::print(out, "factions (weight; minimum islands):\n");
  for (std::size_t f = 0; f < s.japan.factions.count; ++f) {
    const auto& x = s.japan.factions.list[f];
    fmt::print(out, "  {:<6} {} (weight {}; {} islands{})\n", s.japan.labels.id_of(f),
               s.japan.labels.name_of(f), x.weight, x.min_islands,
               s.japan.factions.softens == static_cast<int>(f) ? ", softens under Shigemitsu" : "");
  }
  fmt::print(out, "\nthis run: c = {:.4f}\n", trace.credibility);
  bool in_force = false;
  for (const RoundTrace& t : trace.rounds) {
    fmt::print(out, "\nround {} (A = {:.4f})\n", t.round, t.alignment_start);
    fmt::print(out, "  USSR: {} line, offers {} islands; S {}, N {}\n",
               t.soft_line ? "soft (Khrushchev)" : "hard (Molotov)", t.islands_offered,
               t.straits_clause ? "demanded" : "dropped",
               t.alliance_clause ? "demanded" : "dropped");
    fmt::print(
        out,
        "  declaration: USSR accepts the format: {}; Matsumoto proposes it: {}; available: {}\n",
        yes_no(t.ussr_accepts_declaration), yes_no(t.matsumoto_proposes),
        yes_no(t.declaration_available));
    const double threat = t.dulles_estimate * t.gravity;
    fmt::print(out, "  Dulles: p^ = {:.4f}, g = {:.2f}, p^ x g = {:.4f}", t.dulles_estimate,
               t.gravity, threat);
    if (!t.rewarded) {
      fmt::print(out, " <= {}: no action (the treaty does not look grave enough)",
                 s.dulles.bind_threshold);
    } else {
      const double after = t.dulles_estimate_after * t.gravity;
      fmt::print(out, " > {}: rewards R = {:.3f}; re-estimates p^ x g = {:.4f}",
                 s.dulles.bind_threshold, t.reward, after);
      if (t.coerced) {
        fmt::print(out, " > {}: THREATENS Okinawa, q = {:.4f}", s.dulles.coerce_threshold,
                   t.threat);
      } else if (after <= s.dulles.coerce_threshold) {
        fmt::print(out, " <= {}: no threat needed", s.dulles.coerce_threshold);
      } else if (in_force) {
        fmt::print(out, " > {}, but a threat is already in force (q = {:.4f}): no new threat",
                   s.dulles.coerce_threshold, t.threat);
      } else {
        fmt::print(out, " > {}, but coercion is off (kappa = 0): no threat",
                   s.dulles.coerce_threshold);
      }
    }
    fmt::print(out, "; A = {:.4f}\n", t.alignment_after_dulles);
    in_force = in_force || t.coerced;
    const auto support = faction_support(s, t);
    fmt::print(
        out,
        "  Japan (F {}, m_SG = {}, q = {:.4f}): each faction's sigma(lambda u_f), treaty{}:\n   ",
        t.fisheries_in_force ? "on" : "off", t.sg_min_islands, t.threat,
        t.declaration_available ? " / declaration" : "");
    for (std::size_t f = 0; f < support.size(); ++f) {
      fmt::print(out, " {} {:.3f}", s.japan.labels.id_of(f), support[f].treaty);
      if (t.declaration_available) fmt::print(out, "/{:.3f}", support[f].declaration);
      fmt::print(out, "{}", f + 1 < support.size() ? ";" : "\n");
    }
    fmt::print(out, "  realized W: treaty {:.4f}", t.support_treaty);
    if (t.declaration_available) fmt::print(out, ", declaration {:.4f}", t.support_declaration);
    fmt::print(out, " (theta = {}){}\n", theta,
               t.islands_offered == 0 ? "; no islands offered, so no treaty" : "");
    print_decision(out, t, "F");
  }
  print_outcome(out, trace.record);
}

std::string trace_json(const Trace& trace, const Scenario& s, std::uint64_t seed,
                       std::uint32_t point, std::uint64_t replicate, const WhereInfo* where) {
  auto doc = nlohmann::ordered_json::parse(trace_json(trace, seed, point, replicate));
  nlohmann::ordered_json factions = nlohmann::ordered_json::array();
  for (std::size_t f = 0; f < s.japan.factions.count; ++f) {
    factions.push_back({{"id", std::string(s.japan.labels.id_of(f))},
                        {"name", std::string(s.japan.labels.name_of(f))},
                        {"weight", s.japan.factions.list[f].weight},
                        {"softens", s.japan.factions.softens == static_cast<int>(f)}});
  }
  doc["factions"] = std::move(factions);
  bool in_force = false;
  for (std::size_t i = 0; i < trace.rounds.size(); ++i) {
    const auto support = faction_support(s, trace.rounds[i]);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (std::size_t f = 0; f < support.size(); ++f) {
      list.push_back({{"id", std::string(s.japan.labels.id_of(f))},
                      {"treaty", support[f].treaty},
                      {"declaration", support[f].declaration}});
    }
    doc["rounds"][i]["threat_in_force_before"] = in_force;
    doc["rounds"][i]["faction_support"] = std::move(list);
    in_force = in_force || trace.rounds[i].coerced;
  }
  if (where != nullptr)
    doc["where"] = {{"conditions", where->conditions}, {"scanned", where->scanned}};
  return json_text(doc) + "\n";
}

}  // namespace wedge::experiments
