#pragma once
// A small results file for the output tests, written as a run writes one: the coin model
// (tests/engine/toy_model.hpp) over 3 points of swept key "coin.p" (0.25, 0.5, 0.75) x 1000
// replicates in blocks of 64, seed 42, through ResultsSink.
#include "../engine/toy_model.hpp"
#include "output/results_sink.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wedge::test {

/// What the file holds.
struct CoinFile {
  bool store_runs = true;  ///< per-run records (/runs)
  /// false: as an interrupted run leaves it, with every run and /summary but marked incomplete
  /// and without dimension scales (the completing checkpoint writes those)
  bool complete = true;
  std::uint64_t shard_index = 0;  ///< the shard `shard_index` of `shard_count` of the plan
  std::uint64_t shard_count = 1;
};

/// The metadata of a coin-model file written by a test: `points` points of swept key "p"
/// (0.25, 0.5, ...) x `reps` replicates in blocks of 64, seed 42, CRN on, 2 threads.
inline output::Metadata coin_metadata(std::uint32_t points, std::uint64_t reps, bool store_runs) {
  output::Metadata m;
  m.model = "coins";
  m.model_version = "1";
  m.engine_version = "test";
  m.git_commit = "abc";
  m.rng = "Philox4x32-10";
  m.command_line = "wedge run 'x y'";
  m.experiment = "[run]\nruns = 5\n";
  m.design = "grid";
  m.seed = 42;
  m.crn = true;
  m.threads = 2;
  m.replicates = reps;
  m.runs_planned = reps * points;
  m.block_size = 64;
  m.store_runs = store_runs;
  m.libraries = {{"hdf5_version", output::h5::library_version()}};
  m.swept_keys = {"p"};
  for (std::uint32_t i = 0; i < points; ++i) m.values.push_back({0.25 * (i + 1)});
  return m;
}

/// Writes the file to `path`; returns the summaries the engine computed.
inline std::vector<engine::Summary> write_coin_file(const std::string& path,
                                                    const CoinFile& file = {}) {
  output::Metadata m;
  m.model = "coins";
  m.model_version = "1";
  m.experiment = "[run]\nruns = 1000\n";
  m.design = "grid";
  m.seed = 42;
  m.replicates = 1000;
  m.block_size = 64;
  m.store_runs = file.store_runs;
  m.swept_keys = {"coin.p"};
  m.values = {{0.25}, {0.5}, {0.75}};
  m.shard_index = file.shard_index;
  m.shard_count = file.shard_count;
  const auto all = engine::make_blocks(engine::full_plan(3, 1000), 64);
  const auto begin = static_cast<std::ptrdiff_t>(all.size() * file.shard_index / file.shard_count);
  const auto end =
      static_cast<std::ptrdiff_t>(all.size() * (file.shard_index + 1) / file.shard_count);
  const std::vector<engine::Block> blocks(all.begin() + begin, all.begin() + end);
  for (const auto& b : blocks) m.runs_planned += b.count;
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  auto summaries = engine::make_summaries<CoinModel>(3);
  output::ResultsWriter writer(path, m, layout, 3);
  {
    output::ResultsSink<CoinModel> sink(writer, summaries, 0, 0.0, 0.0);
    engine::RunOptions options;
    options.seed = 42;
    const std::vector<CoinModel::Params> params{{0.25, 9}, {0.5, 9}, {0.75, 9}};
    engine::run_blocks<CoinModel>(params, blocks, summaries, options, &sink);
    sink.finish(file.complete);
  }
  writer.close();
  return summaries;
}

}  // namespace wedge::test
