#include "experiments/trace_report.hpp"

#include <fmt/format.h>

namespace wedge::experiments {

using namespace agents;

namespace {
const char* yes_no(bool b) { return b ? "yes" : "no"; }
std::string_view name(Format f) { return FORMAT_NAMES[static_cast<std::size_t>(f)]; }

std::string record_json(const RunRecord& r) {
  return fmt::format(
      "{{\"format\": \"{}\", \"end_reason\": \"{}\", \"rounds\": {}, \"islands_promised\": {}, "
      "\"islands_transferred\": {}, \"straits_clause\": {}, \"alliance_clause\": {}, "
      "\"alliance\": \"{}\", \"alignment\": {}, \"okinawa\": \"{}\", \"threat_round\": {}, "
      "\"reward_total\": {}, \"shigemitsu_round\": {}, \"two_island_round\": {}}}",
      name(r.format), END_REASON_NAMES[static_cast<std::size_t>(r.end_reason)], r.rounds,
      r.islands_promised, r.islands_transferred, r.straits_clause ? 1 : 0,
      r.alliance_clause ? 1 : 0, ALLIANCE_NAMES[static_cast<std::size_t>(r.alliance)],
      r.alignment, OKINAWA_NAMES[static_cast<std::size_t>(r.okinawa)], r.threat_round,
      r.reward_total, r.shigemitsu_round, r.two_island_round);
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
  std::string out = fmt::format(
      "{{\"seed\": {}, \"point\": {}, \"replicate\": {}, \"credibility\": {}, \"rounds\": [", seed,
      point, replicate, trace.credibility);
  for (std::size_t i = 0; i < trace.rounds.size(); ++i) {
    const RoundTrace& t = trace.rounds[i];
    out += fmt::format(
        "{}{{\"round\": {}, \"alignment_start\": {}, \"soft_line\": {}, \"islands_offered\": {}, "
        "\"straits_clause\": {}, \"alliance_clause\": {}, \"ussr_accepts_declaration\": {}, "
        "\"matsumoto_proposes\": {}, \"declaration_available\": {}, \"fisheries_in_force\": {}, "
        "\"sg_min_islands\": {}, \"dulles_estimate\": {}, \"gravity\": {}, \"rewarded\": {}, "
        "\"reward\": {}, \"dulles_estimate_after\": {}, \"coerced\": {}, \"threat\": {}, "
        "\"alignment_after_dulles\": {}, \"realized_support_treaty\": {}, "
        "\"realized_support_declaration\": {}, "
        "\"decision\": \"{}\", \"okinawa\": \"{}\", \"fisheries_pressure\": {}, "
        "\"shigemitsu_softened\": {}, \"cabinet_fell\": {}, \"deadline\": {}, "
        "\"alignment_end\": {}}}",
        i > 0 ? ", " : "", t.round, t.alignment_start, t.soft_line, t.islands_offered,
        t.straits_clause, t.alliance_clause, t.ussr_accepts_declaration, t.matsumoto_proposes,
        t.declaration_available, t.fisheries_in_force, t.sg_min_islands, t.dulles_estimate,
        t.gravity, t.rewarded, t.reward, t.dulles_estimate_after,
        t.coerced, t.threat, t.alignment_after_dulles, t.support_treaty,
        t.declaration_available ? t.support_declaration : 0.0,
        name(t.decision), OKINAWA_NAMES[static_cast<std::size_t>(t.okinawa)],
        t.fisheries_pressure, t.shigemitsu_softened, t.cabinet_fell, t.deadline,
        t.alignment_end);
  }
  out += "], \"record\": " + record_json(trace.record) + "}\n";
  return out;
}

}  // namespace wedge::experiments
