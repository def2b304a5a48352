#include "agents/tug_of_war.hpp"
#include "engine/runner.hpp"
#include "experiments/loader.hpp"

#include <catch2/catch.hpp>

using namespace wedge;

namespace {
struct Keep : engine::RecordSink<agents::RunRecord> {
  std::vector<std::vector<agents::RunRecord>> by_point;
  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records, std::span<const engine::Summary>) override {
    std::size_t i = 0;
    for (const auto& b : blocks) {
      if (by_point.size() <= b.point) by_point.resize(b.point + 1);
      for (std::uint32_t k = 0; k < b.count; ++k) by_point[b.point].push_back(records[i++]);
    }
  }
};
}  // namespace

TEST_CASE("trace reproduces the record of the same run in a sweep", "[trace]") {
  for (bool crn : {false, true}) {
    auto e = experiments::load_experiment(WEDGE_SOURCE_DIR "/experiments/sweeps/threat_rewards_grid.toml");
    e.run.crn = crn;
    experiments::resolve_design(e);
    const std::uint64_t reps = 300;
    auto summaries = engine::make_summaries<agents::TugOfWar>(e.points.size());
    engine::RunOptions options;
    options.seed = e.run.seed;
    options.crn = crn;
    Keep keep;
    engine::run_blocks<agents::TugOfWar>(
        e.points, engine::make_blocks(engine::full_plan(static_cast<std::uint32_t>(e.points.size()), reps)),
        summaries, options, &keep);
    for (std::uint32_t p = 0; p < e.points.size(); ++p) {
      for (std::uint64_t r = 0; r < reps; r += 7) {
        const auto trace = agents::trace_run(e.points[p], engine::stream_key(options, p, r));
        REQUIRE(trace.record == keep.by_point[p][r]);
      }
    }
  }
}
