#pragma once
/// Building a record's field table (engine/fields.hpp): the helpers the run record
/// (TugOfWar::fields, agents/tug_of_war.cpp) and the round rows (round_fields, agents/rounds.cpp)
/// declare their columns with.
#include "engine/fields.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace wedge::agents::field_table {

/// The labels of a list of names (e.g. FORMAT_NAMES), in order.
std::vector<std::string> names(auto const& list) {
  return std::vector<std::string>(list.begin(), list.end());
}

/// The labels "first", "first + step", ... up to `last` (numbered categories: "0", "2", "4").
inline std::vector<std::string> numbers(int first, int last, int step = 1) {
  std::vector<std::string> out;
  for (int i = first; i <= last; i += step) out.push_back(std::to_string(i));
  return out;
}

/// A categorical field stored as uint8 (at most 256 categories).
inline engine::FieldSpec categorical(std::string name, std::vector<std::string> categories,
                                     std::string description) {
  engine::FieldSpec f;
  f.name = std::move(name);
  f.kind = engine::FieldKind::categorical;
  f.categories = std::move(categories);
  f.description = std::move(description);
  f.storage = engine::StorageType::uint8;
  return f;
}

/// A continuous field stored as float32, summarised with a histogram of `bins` bins on [lo, hi]
/// (bins = 0: no histogram). float32 keeps 7 significant digits: ample for values in [0, 1] and
/// sums of rewards, far below any difference the model resolves.
inline engine::FieldSpec continuous(std::string name, double lo, double hi, std::uint32_t bins,
                                    std::string description) {
  engine::FieldSpec f;
  f.name = std::move(name);
  f.kind = engine::FieldKind::continuous;
  f.hist_min = lo;
  f.hist_max = hi;
  f.hist_bins = bins;
  f.description = std::move(description);
  f.storage = engine::StorageType::float32;
  return f;
}

/// The table of a record whose columns are enumerated by `Categorical` and `Continuous` (each
/// ending in its count, `categorical_count` and `continuous_count`): spec(field) for every
/// categorical field, then for every continuous one, in enumeration order.
template <class Categorical, class Continuous, class Spec>
std::vector<engine::FieldSpec> build(std::size_t categorical_count, std::size_t continuous_count,
                                     Spec spec) {
  std::vector<engine::FieldSpec> out;
  for (std::size_t i = 0; i < categorical_count; ++i) out.push_back(spec(Categorical(i)));
  for (std::size_t i = 0; i < continuous_count; ++i) out.push_back(spec(Continuous(i)));
  return out;
}

}  // namespace wedge::agents::field_table
