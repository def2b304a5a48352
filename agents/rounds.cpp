// Round-by-round histories: the replay through the trace's path (kernel::run_lanes at width 1 with
// a tracer that keeps rows instead of the trace's narrative), and the rows' columns.
#include "agents/rounds.hpp"

#include "agents/field_table.hpp"

#include <limits>
#include <stdexcept>
#include <string>

namespace wedge::agents {

namespace {

/// Keeps each traced round as a row. At width 1 the runs of a block are played one after another
/// in lane 0, so the rows arrive run by run, in replicate order.
struct RowTracer {
  static constexpr bool enabled = true;
  std::vector<RoundRow>* rows;
  void start(double /*credibility*/) noexcept {}
  void round(const RoundTrace& t) { rows->push_back(round_row(t)); }
};

using field_table::categorical;
using field_table::names;
using field_table::numbers;

/// A round column of real values, with no histogram. float32: A and the supports lie in [0, 1] (a
/// support's noise may take it a little outside).
engine::FieldSpec continuous(std::string name, std::string description) {
  return field_table::continuous(std::move(name), 0.0, 1.0, 0, std::move(description));
}

engine::FieldSpec spec(RoundField::Categorical field) {
  switch (field) {
    case RoundField::round:
      return categorical("round", numbers(1, 100), "the round (1 = the first)");
    case RoundField::islands_offered:
      return categorical("islands_offered", numbers(0, 4, 2),
                         "islands T the Soviet negotiators offered this round");
    case RoundField::straits_clause:
      return categorical("straits_clause", numbers(0, 1),
                         "straits clause S demanded this round (after its drop, if any)");
    case RoundField::alliance_clause:
      return categorical("alliance_clause", numbers(0, 1),
                         "no-alliance clause N demanded this round (after its drop, if any)");
    case RoundField::declaration_available:
      return categorical("declaration_available", numbers(0, 1),
                         "a joint declaration was on the table (the USSR accepted the format and "
                         "Matsumoto proposed it)");
    case RoundField::dulles:
      return categorical(
          "dulles", names(DULLES_MOVE_NAMES),
          "what Dulles did: none, reward, or reward_threat (rewarded, then threatened Okinawa)");
    case RoundField::fisheries:
      return categorical("fisheries", numbers(0, 1),
                         "Soviet fisheries pressure F in force during the vote");
    case RoundField::sg_min_islands:
      return categorical("sg_min_islands", numbers(0, 4, 2),
                         "islands the Shigemitsu faction required (m_SG) during the vote");
    case RoundField::categorical_count:
      break;
  }
  throw std::logic_error("no such round column");
}

engine::FieldSpec spec(RoundField::Continuous field) {
  switch (field) {
    case RoundField::alignment:
      return continuous("alignment", "Japan's alignment with the US, A, after the round");
    case RoundField::support_treaty:
      return continuous("support_treaty",
                        "Japan's realized support W_t for the treaty on offer (also when T = 0)");
    case RoundField::support_declaration:
      return continuous(
          "support_declaration",
          "Japan's realized support W_d for the declaration; NaN when none was available");
    case RoundField::continuous_count:
      break;
  }
  throw std::logic_error("no such round column");
}

}  // namespace

RoundRow round_row(const RoundTrace& t) {
  RoundRow r;
  r.round = static_cast<std::uint8_t>(t.round);
  r.islands_offered = static_cast<std::uint8_t>(t.islands_offered);
  r.straits_clause = t.straits_clause;
  r.alliance_clause = t.alliance_clause;
  r.declaration_available = t.declaration_available;
  r.dulles = t.coerced    ? DullesMove::reward_threat
             : t.rewarded ? DullesMove::reward
                          : DullesMove::none;
  r.fisheries = t.fisheries_in_force;
  r.sg_min_islands = static_cast<std::uint8_t>(t.sg_min_islands);
  r.alignment = t.alignment_end;
  r.support_treaty = t.support_treaty;
  r.support_declaration =
      t.declaration_available ? t.support_declaration : std::numeric_limits<double>::quiet_NaN();
  return r;
}

const std::vector<engine::FieldSpec>& round_fields() {
  static const std::vector<engine::FieldSpec> specs =
      field_table::build<RoundField::Categorical, RoundField::Continuous>(
          RoundField::categorical_count, RoundField::continuous_count,
          [](auto field) { return spec(field); });
  return specs;
}

void observe_round(const RoundRow& row, std::uint16_t* categories, double* values) noexcept {
  categories[RoundField::round] =
      static_cast<std::uint16_t>(row.round - 1);  // category "1" is index 0
  categories[RoundField::islands_offered] = static_cast<std::uint16_t>(row.islands_offered / 2);
  categories[RoundField::straits_clause] = row.straits_clause ? 1 : 0;
  categories[RoundField::alliance_clause] = row.alliance_clause ? 1 : 0;
  categories[RoundField::declaration_available] = row.declaration_available ? 1 : 0;
  categories[RoundField::dulles] = static_cast<std::uint16_t>(row.dulles);
  categories[RoundField::fisheries] = row.fisheries ? 1 : 0;
  categories[RoundField::sg_min_islands] = static_cast<std::uint16_t>(row.sg_min_islands / 2);
  values[RoundField::alignment] = row.alignment;
  values[RoundField::support_treaty] = row.support_treaty;
  values[RoundField::support_declaration] = row.support_declaration;
}

void replay_rounds(const Scenario& s, const engine::StreamKey& first, std::uint32_t count,
                   RunRecord* records, std::vector<RoundRow>& rows) {
  RowTracer tracer{&rows};
  kernel::run_lanes<simd::Lanes<1>>(s, first, count, records, tracer);
}

}  // namespace wedge::agents
