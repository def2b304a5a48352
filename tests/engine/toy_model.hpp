#pragma once
// A second model, unrelated to the negotiation: a run flips `flips` biased coins. It proves the
// engine runs any model that satisfies engine::Model, without touching engine/.
#include "engine/model.hpp"
#include "engine/runner.hpp"

namespace wedge::test {

struct CoinModel {
  struct Params {
    double p = 0.5;
    int flips = 10;
  };
  struct Record {
    std::uint8_t heads = 0;
    std::uint8_t first = 0;  // 1 if the first flip was heads
    double fraction = 0.0;
    friend bool operator==(const Record&, const Record&) = default;
  };

  static Record run(const Params& params, engine::Stream& stream) {
    Record r;
    for (int i = 0; i < params.flips; ++i) {
      const bool head = stream.bernoulli(params.p);
      if (i == 0) r.first = head ? 1 : 0;
      r.heads = static_cast<std::uint8_t>(r.heads + (head ? 1 : 0));
    }
    r.fraction = static_cast<double>(r.heads) / params.flips;
    return r;
  }

  static std::vector<engine::FieldSpec> fields() {
    engine::FieldSpec parity{"parity", engine::FieldKind::categorical, "heads even or odd",
                             "",       engine::StorageType::uint8,     {"even", "odd"}};
    engine::FieldSpec first{"first", engine::FieldKind::categorical, "first flip",
                            "",      engine::StorageType::uint8,     {"tails", "heads"}};
    engine::FieldSpec fraction{"fraction",
                               engine::FieldKind::continuous,
                               "share of heads",
                               "",
                               engine::StorageType::float64,
                               {},
                               0.0,
                               1.0,
                               10};
    return {parity, first, fraction};
  }

  static void observe(const Record& r, std::uint16_t* categories, double* values) noexcept {
    categories[0] = r.heads % 2;
    categories[1] = r.first;
    values[0] = r.fraction;
  }
};
static_assert(engine::Model<CoinModel>);

/// Collects every record it is given, with its (point, replicate).
template <class Record>
struct CollectingSink : engine::RecordSink<Record> {
  struct Row {
    std::uint32_t point;
    std::uint64_t replicate;
    Record record;
    friend bool operator==(const Row&, const Row&) = default;
  };
  std::vector<Row> rows;
  void consume(std::span<const engine::Block> blocks, std::span<const Record> records,
               std::span<const engine::Summary>) override {
    std::size_t i = 0;
    for (const auto& b : blocks) {
      for (std::uint32_t k = 0; k < b.count; ++k)
        rows.push_back({b.point, b.replicate_begin + k, records[i++]});
    }
  }
};

}  // namespace wedge::test
