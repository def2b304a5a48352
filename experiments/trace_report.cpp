#include "experiments/trace_report.hpp"

#include "experiments/report.hpp"

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
}  // namespace

void print_trace(std::FILE* out, const Trace& trace, double threshold) {
  fmt::print(out, "credibility of a US threat this run: c = {:.4f}\n", trace.credibility);
  for (const RoundTrace& t : trace.rounds) {
    fmt::print(out, "\nround {} (alignment A = {:.4f})\n", t.round, t.alignment_start);
    fmt::print(out, "  USSR: {} line, offers {} islands; straits clause {}, no-alliance clause {}\n",
               t.soft_line ? "soft (Khrushchev)" : "hard (Molotov)", t.islands_offered,
               t.straits_clause ? "demanded" : "dropped", t.alliance_clause ? "demanded" : "dropped");
    fmt::print(out, "  declaration: USSR accepts the format: {}; Matsumoto proposes it: {}; available: {}\n",
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
    fmt::print(out, "  Japan (fisheries pressure {}, SG minimum {} islands): realized support: treaty {:.4f}",
               t.fisheries_in_force ? "on" : "off", t.sg_min_islands, t.support_treaty);
    if (t.declaration_available) fmt::print(out, ", declaration {:.4f}", t.support_declaration);
    fmt::print(out, " (threshold {:.2f})", threshold);
    fmt::print(out, "\n  decision: ");
    if (t.decision == Format::treaty) {
      fmt::print(out, "PEACE TREATY with {} islands{}\n", t.islands_offered,
                 t.okinawa == Okinawa::us_claim ? "; the US claims full sovereignty over Okinawa"
                                                : "");
    } else if (t.decision == Format::declaration) {
      fmt::print(out, "JOINT DECLARATION ({} islands promised after a future treaty)\n",
                 t.islands_offered);
    } else {
      fmt::print(out, "stall; fisheries pressure {}; Shigemitsu {}; A drifts to {:.4f}; cabinet {}{}\n",
                 t.fisheries_pressure ? "imposed" : "lifted",
                 t.shigemitsu_softened ? "softens to two islands" : "holds",
                 t.alignment_end, t.cabinet_fell ? "FALLS" : "survives",
                 t.deadline ? "; deadline reached" : "");
    }
  }
  const RunRecord& r = trace.record;
  fmt::print(out,
             "\noutcome: format {}, ended by {} in round {}, islands promised {} / transferred "
             "{}, alliance {} (A = {:.4f}), Okinawa {}\n",
             name(r.format), END_REASON_NAMES[static_cast<std::size_t>(r.end_reason)], r.rounds,
             r.islands_promised, r.islands_transferred,
             ALLIANCE_NAMES[static_cast<std::size_t>(r.alliance)], r.alignment,
             OKINAWA_NAMES[static_cast<std::size_t>(r.okinawa)]);
}

std::string trace_json(const Trace& trace, std::uint64_t seed, std::uint32_t point,
                       std::uint64_t replicate) {
  nlohmann::ordered_json rounds = nlohmann::ordered_json::array();
  for (const RoundTrace& t : trace.rounds) {
    rounds.push_back({{"round", t.round},
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
  const nlohmann::ordered_json doc = {{"seed", seed},         {"point", point},   {"replicate", replicate},
                                      {"credibility", trace.credibility}, {"rounds", std::move(rounds)},
                                      {"record", record_json(trace.record)}};
  return json_text(doc) + "\n";
}

}  // namespace wedge::experiments
