// Per-run cost of the model, its parts, and the engine around it.
#include "agents/rules.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/runner.hpp"

#include <benchmark/benchmark.h>
#include <boost/random/normal_distribution.hpp>
#include <tbb/global_control.h>

using namespace wedge;
using agents::Scenario;
using agents::TugOfWar;

namespace {

// The bare loop: the model's run function over consecutive replicates, record discarded.
void BM_Model_Run(benchmark::State& state) {
  const Scenario s;
  std::uint32_t rep = 0;
  std::uint64_t rounds = 0;
  for (auto _ : state) {
    engine::Stream stream(engine::StreamKey{1, 0, rep++});
    const auto rec = TugOfWar::run(s, stream);
    rounds += rec.rounds;
    benchmark::DoNotOptimize(rec);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["mean_rounds"] =
      static_cast<double>(rounds) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Model_Run);

// The engine with summaries only, on 1..N threads: runs/s (real time).
void BM_Engine_SummaryOnly(benchmark::State& state) {
  const auto threads = static_cast<std::size_t>(state.range(0));
  tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
  const std::vector<Scenario> params{Scenario{}};
  const std::uint64_t runs = 1 << 20;
  const auto blocks = engine::make_blocks(engine::full_plan(1, runs));
  engine::RunOptions options;
  options.seed = 1;
  for (auto _ : state) {
    auto summaries = engine::make_summaries<TugOfWar>(1);
    engine::run_blocks<TugOfWar>(params, blocks, summaries, options);
    benchmark::DoNotOptimize(summaries);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(runs));
}
BENCHMARK(BM_Engine_SummaryOnly)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_Philox_Word(benchmark::State& state) {
  engine::Stream stream(engine::StreamKey{1, 2, 3});
  for (auto _ : state) benchmark::DoNotOptimize(stream());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Philox_Word);

void BM_Boost_Normal(benchmark::State& state) {
  engine::Stream stream(engine::StreamKey{1, 2, 3});
  boost::random::normal_distribution<double> normal;
  for (auto _ : state) benchmark::DoNotOptimize(normal(stream));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Boost_Normal);

void BM_Round_Draws(benchmark::State& state) {
  engine::Stream stream(engine::StreamKey{1, 2, 3});
  std::uint32_t r = 0;
  for (auto _ : state) {
    stream.seek_substream(++r);
    benchmark::DoNotOptimize(agents::RoundDraws::draw(stream));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Round_Draws);

void BM_Support_Treaty(benchmark::State& state) {
  const Scenario s;
  auto st = agents::State::initial(s, 0.4);
  for (auto _ : state) {
    st.alignment = st.alignment < 0.9 ? st.alignment + 1e-9 : 0.5;
    benchmark::DoNotOptimize(agents::support_treaty(s, st, 2));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Support_Treaty);

void BM_Summary_Add(benchmark::State& state) {
  auto summaries = engine::make_summaries<TugOfWar>(1);
  const Scenario s;
  engine::Stream stream(engine::StreamKey{1, 0, 0});
  const auto rec = TugOfWar::run(s, stream);
  std::uint16_t cats[engine::MAX_FIELDS];
  double values[engine::MAX_FIELDS];
  for (auto _ : state) {
    TugOfWar::observe(rec, cats, values);
    summaries[0].add(cats, values);
  }
  benchmark::DoNotOptimize(summaries);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Summary_Add);

void BM_Summary_Merge(benchmark::State& state) {
  auto a = engine::make_summaries<TugOfWar>(2);
  for (auto _ : state) a[0].merge(a[1]);
  benchmark::DoNotOptimize(a);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Summary_Merge);

}  // namespace

BENCHMARK_MAIN();
