#include "agents/tug_of_war.hpp"

#include "agents/field_table.hpp"

#include <stdexcept>
#include <string>

namespace wedge::agents {

namespace {

using field_table::categorical;
using field_table::continuous;
using field_table::names;
using field_table::numbers;

engine::FieldSpec spec(Field::Categorical field) {
  switch (field) {
    case Field::format:
      return categorical("format", names(FORMAT_NAMES), "the agreement reached (none = breakdown)");
    case Field::end_reason:
      return categorical("end_reason", names(END_REASON_NAMES), "why the run ended");
    case Field::alliance:
      return categorical("alliance", names(ALLIANCE_NAMES), "the US-Japan alliance at the end");
    case Field::okinawa:
      return categorical("okinawa", names(OKINAWA_NAMES), "Okinawa's status at the end");
    case Field::islands_promised:
      return categorical("islands_promised", numbers(0, 4, 2), "islands promised to Japan");
    case Field::islands_transferred:
      return categorical("islands_transferred", numbers(0, 4, 2), "islands transferred to Japan");
    case Field::straits_clause:
      return categorical("straits_clause", numbers(0, 1),
                         "straits clause still demanded at the end");
    case Field::alliance_clause:
      return categorical("alliance_clause", numbers(0, 1),
                         "no-alliance clause still demanded at the end");
    case Field::rounds:
      return categorical("rounds", numbers(1, TugOfWar::MAX_ROUNDS),
                         "the round in which the run ended");
    case Field::threat_round:
      return categorical("threat_round", numbers(0, TugOfWar::MAX_ROUNDS),
                         "round of the Okinawa threat, 0 if none");
    case Field::shigemitsu_round:
      return categorical("shigemitsu_round", numbers(0, TugOfWar::MAX_ROUNDS),
                         "round in which Shigemitsu's faction softened to two islands, 0 if never");
    case Field::two_island_round:
      return categorical("two_island_round", numbers(0, TugOfWar::MAX_ROUNDS),
                         "first round with at least two islands offered, 0 if never");
    case Field::categorical_count:
      break;
  }
  throw std::logic_error("no such categorical field");
}

engine::FieldSpec spec(Field::Continuous field) {
  switch (field) {
    case Field::alignment:
      return continuous("alignment", 0.0, 1.0, 50, "Japan's final alignment with the US, A");
    case Field::reward_total:
      return continuous("reward_total", 0.0, 20.0, 80, "sum of US rewards R over the run");
    case Field::continuous_count:
      break;
  }
  throw std::logic_error("no such continuous field");
}

}  // namespace

const std::vector<engine::FieldSpec>& TugOfWar::fields() {
  static const std::vector<engine::FieldSpec> specs =
      field_table::build<Field::Categorical, Field::Continuous>(
          Field::categorical_count, Field::continuous_count,
          [](auto field) { return spec(field); });
  return specs;
}

std::size_t TugOfWar::categories_in_use(const Scenario& s, std::size_t field) {
  const auto rounds = static_cast<std::size_t>(s.negotiation.rounds);
  switch (field) {
    case Field::rounds:
      return rounds;  // "1" .. rounds
    case Field::threat_round:
    case Field::shigemitsu_round:
    case Field::two_island_round:
      return rounds + 1;  // "0" .. rounds
    default:
      return fields().at(field).categories.size();
  }
}

}  // namespace wedge::agents
