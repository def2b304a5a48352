#pragma once
/// How a model declares the fields of its per-run record, so that the engine can summarise them
/// (and output can store them) without knowing the model.
#include <cstdint>
#include <string>
#include <vector>

namespace wedge::engine {

enum class FieldKind : std::uint8_t {
  categorical,  ///< a small set of named categories; summarised as counts
  continuous,   ///< a real value; summarised as n, mean, variance, min, max, histogram
};

/// Compact storage type a field needs per run (for writers of per-run records).
enum class StorageType : std::uint8_t { uint8, uint16, float32, float64 };

/// One field of a model's run record.
struct FieldSpec {
  std::string name;
  FieldKind kind = FieldKind::categorical;
  std::string description;
  std::string units;
  StorageType storage = StorageType::uint8;
  /// Categorical: category names, indexed by the value observe() reports.
  std::vector<std::string> categories;
  /// Continuous: histogram range and bin count (values outside go to under/overflow).
  double hist_min = 0.0;
  double hist_max = 1.0;
  std::uint32_t hist_bins = 0;
};

/// The fields of a record, split by kind in declaration order.
struct FieldLayout {
  std::vector<FieldSpec> categorical;
  std::vector<FieldSpec> continuous;

  static FieldLayout from(const std::vector<FieldSpec>& fields) {
    FieldLayout layout;
    for (const auto& f : fields) {
      (f.kind == FieldKind::categorical ? layout.categorical : layout.continuous).push_back(f);
    }
    return layout;
  }
};

}  // namespace wedge::engine
