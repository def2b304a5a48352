// Per-run cost of the model, its parts, and the engine around it.
#include "agents/kernel.hpp"
#include "agents/rules.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/rng.hpp"
#include "engine/runner.hpp"
#include "engine/simd/distributions.hpp"
#include "output/fletcher32.hpp"
#include "output/results_sink.hpp"

#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <boost/random/normal_distribution.hpp>

#include <filesystem>

using namespace wedge;
using agents::Scenario;
using agents::TugOfWar;

namespace {

// The baseline with `count` factions: the baseline's five, then made-up ones (distinct weights,
// minima and saliences) up to MAX_FACTIONS; SG still softens.
Scenario with_factions(std::size_t count) {
  Scenario s;
  s.japan.factions.count = count;
  for (std::size_t i = 5; i < count; ++i) {
    const double k = static_cast<double>(i);
    s.japan.factions.list[i] = {
        0.05 + 0.01 * k, static_cast<int>(i % 3) * 2, 0.1 * (k - 4), 0.07 * k, 1.5 - 0.1 * k, 0.3};
  }
  return s;
}

// The bare loop: the model's block function over consecutive replicates, records discarded
// (the ceiling the engine is measured against). Besides runs/s it counts what a run must do, so
// that the time per run can be read against the work: rounds per run, and per run the Philox
// blocks (4 per round, 1 for the credibility), the logistic terms of Japan's support (4 supports
// per round, one term per faction), the normal CDFs (Dulles's 2 estimates per round) and the
// Box-Muller pairs (3 per round).
void run_block_loop(benchmark::State& state, const Scenario& s, int width) {
  constexpr std::uint32_t BLOCK = 2048;
  std::vector<agents::RunRecord> out(BLOCK);
  std::uint64_t rep = 0;
  std::uint64_t rounds = 0;
  for (auto _ : state) {
    if (!agents::run_block_width(width, s, 1, 0, rep, BLOCK, out.data())) {
      state.SkipWithError("this lane width is not supported on this CPU");
      return;
    }
    rep += BLOCK;
    for (const auto& r : out) rounds += r.rounds;
    benchmark::DoNotOptimize(out.data());
  }
  const double runs = static_cast<double>(state.iterations() * BLOCK);
  const double per_run = static_cast<double>(rounds) / runs;
  state.SetItemsProcessed(state.iterations() * BLOCK);
  state.counters["mean_rounds"] = per_run;
  state.counters["philox_blocks"] = 4.0 * per_run + 1.0;
  state.counters["logistic_terms"] = 4.0 * static_cast<double>(s.japan.factions.count) * per_run;
  state.counters["normal_cdfs"] = 2.0 * per_run;
  state.counters["box_muller_pairs"] = 3.0 * per_run;
}

// Arg = lane width (1, 4, 8, 16: agents::KERNEL_WIDTHS); the baseline (5 factions).
void BM_Model_RunBlock(benchmark::State& state) {
  run_block_loop(state, Scenario{}, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_Model_RunBlock)->Arg(1)->Arg(4)->Arg(8)->Arg(16);

// Args = lane width, number of factions (issue 17: any number up to 16 at full speed).
void BM_Model_RunBlock_Factions(benchmark::State& state) {
  run_block_loop(state, with_factions(static_cast<std::size_t>(state.range(1))),
                 static_cast<int>(state.range(0)));
}
BENCHMARK(BM_Model_RunBlock_Factions)->ArgsProduct({{1, 4, 8, 16}, {1, 5, 12, 16}});

// One run at a time through the generic per-run interface.
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

// The engine writing every run's record to a results file (uncompressed, as by default), 2^21
// runs per iteration; compare with BM_Engine_SummaryOnly at the same thread count.
void BM_Engine_WriteRuns(benchmark::State& state) {
  const auto threads = static_cast<std::size_t>(state.range(0));
  tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
  const std::vector<Scenario> params{Scenario{}};
  const std::uint64_t runs = 1 << 21;
  const auto blocks = engine::make_blocks(engine::full_plan(1, runs));
  engine::RunOptions options;
  options.seed = 1;
  const auto path = std::filesystem::temp_directory_path() / "wedge-bench-write.h5";
  output::Metadata meta;
  meta.store_runs = true;
  meta.swept_keys = {};
  meta.values = {{}};
  for (auto _ : state) {
    std::filesystem::remove(path);
    auto summaries = engine::make_summaries<TugOfWar>(1);
    output::ResultsWriter writer(path.string(), meta, summaries.front().layout(), 1);
    output::ResultsSink<TugOfWar> sink(writer, summaries, 0, 0.0);
    engine::run_blocks<TugOfWar>(params, blocks, summaries, options, &sink);
    sink.finish(true);
    writer.close();
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(runs));
}
BENCHMARK(BM_Engine_WriteRuns)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

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

// One lane (the portable instantiation the library also uses).
namespace simd = engine::simd;
using L1 = simd::Lanes<1>;

// One round's 16 words for one run (4 Philox blocks).
void BM_Philox_Lane_Round(benchmark::State& state) {
  const engine::LaneStreams<L1> streams(engine::StreamKey{1, 0, 3});
  std::uint64_t r = 0;
  for (auto _ : state) {
    L1::U w[16];
    streams.words(simd::splat_u<L1>(++r), w);
    benchmark::DoNotOptimize(w);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Philox_Lane_Round);

// Japan's support for a treaty, one lane, as the round computes it (the table derived once per
// block, the treaty's fixed part once per round). Arg = number of factions (one logistic each).
void BM_Support_Treaty_Lane(benchmark::State& state) {
  const Scenario s = with_factions(static_cast<std::size_t>(state.range(0)));
  const agents::SupportTable japan(s);
  auto st = agents::State<L1>::initial(s, simd::splat<L1>(0.4));
  const auto offer = agents::treaty_offer<L1>(s, japan, st, simd::splat<L1>(2.0));
  for (auto _ : state) {
    st.alignment = st.alignment + 1e-9;
    benchmark::DoNotOptimize(agents::support_treaty<L1>(japan, offer, st));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Support_Treaty_Lane)->Arg(5)->Arg(12);

// The distributions the kernel uses, one lane: two normals (Box-Muller), the normal CDF, a uniform.
void BM_BoxMuller_Lane(benchmark::State& state) {
  L1::U w1{12345}, w2{67890};
  for (auto _ : state) {
    L1::D z0, z1;
    w1 = w1 + 7;
    simd::box_muller<L1>(w1, w2, z0, z1);
    benchmark::DoNotOptimize(z0);
    benchmark::DoNotOptimize(z1);
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_BoxMuller_Lane);

void BM_NormalCdf_Lane(benchmark::State& state) {
  L1::D x{-3.0};
  for (auto _ : state) {
    x = x + 1e-6;
    benchmark::DoNotOptimize(simd::normal_cdf<L1>(x));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormalCdf_Lane);

void BM_Uniform_Lane(benchmark::State& state) {
  L1::U w{1};
  for (auto _ : state) {
    w = w + 2654435761u;
    benchmark::DoNotOptimize(simd::uniform<L1>(w & 0xFFFFFFFFu));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Uniform_Lane);

// Japan's vote (treaty and declaration supports, noise, decision), one lane.
void BM_Vote_Lane(benchmark::State& state) {
  const Scenario s;
  auto st = agents::State<L1>::initial(s, simd::splat<L1>(0.4));
  const auto islands = simd::splat<L1>(2.0);
  const auto available = simd::splat_m<L1>(true);
  for (auto _ : state) {
    st.alignment = st.alignment + 1e-9;
    const auto v = agents::japan_vote<L1>(s, st, islands, available, L1::D{0.01}, L1::D{-0.02});
    benchmark::DoNotOptimize(v.treaty);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Vote_Lane);

// Aggregating a block: observe 2048 records and add them to a fresh block summary.
void BM_Block_Aggregation(benchmark::State& state) {
  const Scenario s;
  std::vector<agents::RunRecord> records(engine::DEFAULT_BLOCK_SIZE);
  agents::run_block(s, 1, 0, 0, engine::DEFAULT_BLOCK_SIZE, records.data());
  auto summaries = engine::make_summaries<TugOfWar>(1);
  std::uint16_t cats[engine::MAX_FIELDS];
  double values[engine::MAX_FIELDS];
  for (auto _ : state) {
    summaries[0].reset();
    for (const auto& r : records) {
      TugOfWar::observe(r, cats, values);
      summaries[0].add(cats, values);
    }
    benchmark::DoNotOptimize(summaries);
  }
  state.SetItemsProcessed(state.iterations() * engine::DEFAULT_BLOCK_SIZE);
}
BENCHMARK(BM_Block_Aggregation);

// The same block as the runner aggregates it since 2026-11-30: observed 256 runs at a time, then
// added field by field (Summary::add_runs; the same bits as above).
void BM_Block_Aggregation_Runs(benchmark::State& state) {
  const Scenario s;
  std::vector<agents::RunRecord> records(engine::DEFAULT_BLOCK_SIZE);
  agents::run_block(s, 1, 0, 0, engine::DEFAULT_BLOCK_SIZE, records.data());
  auto summaries = engine::make_summaries<TugOfWar>(1);
  constexpr std::size_t CHUNK = 256;
  constexpr std::size_t NC = agents::Field::categorical_count, NV = agents::Field::continuous_count;
  std::vector<std::uint16_t> cats(CHUNK * NC);
  std::vector<double> values(CHUNK * NV);
  for (auto _ : state) {
    summaries[0].reset();
    for (std::size_t k0 = 0; k0 < records.size(); k0 += CHUNK) {
      const std::size_t n = std::min(CHUNK, records.size() - k0);
      for (std::size_t k = 0; k < n; ++k) {
        TugOfWar::observe(records[k0 + k], cats.data() + k * NC, values.data() + k * NV);
      }
      summaries[0].add_runs(cats.data(), values.data(), n);
    }
    benchmark::DoNotOptimize(summaries);
  }
  state.SetItemsProcessed(state.iterations() * engine::DEFAULT_BLOCK_SIZE);
}
BENCHMARK(BM_Block_Aggregation_Runs);

// A /runs chunk's Fletcher-32 (65,536 float32 values): HDF5's own function against wedge's
// (output/fletcher32.hpp; the same result), bytes per second.
extern "C" std::uint32_t H5_checksum_fletcher32(const void* data, std::size_t len);
std::vector<unsigned char> chunk_bytes() {
  std::vector<unsigned char> bytes(65536 * 4);
  engine::Stream stream(engine::StreamKey{1, 2, 3});
  for (auto& b : bytes) b = static_cast<unsigned char>(stream());
  return bytes;
}
void BM_Fletcher32_Hdf5(benchmark::State& state) {
  const auto bytes = chunk_bytes();
  for (auto _ : state) benchmark::DoNotOptimize(H5_checksum_fletcher32(bytes.data(), bytes.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_Fletcher32_Hdf5);
void BM_Fletcher32_Wedge(benchmark::State& state) {
  const auto bytes = chunk_bytes();
  for (auto _ : state) benchmark::DoNotOptimize(output::fletcher32(bytes.data(), bytes.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_Fletcher32_Wedge);

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

// The core's clock as the kernels run (turbo and the host's throttling included, which the nominal
// clock in /proc/cpuinfo does not show, and which a VM may not show at all): chains of dependent
// 64-bit integer additions, one cycle each on every x86-64 core of the last two decades (Agner
// Fog, "Instruction tables": ADD r,r latency 1). Register operands, not immediates: recent cores
// (Golden Cove onwards) fold chains of immediate additions in the renamer, several per cycle.
// items_per_second is cycles per second; the harness (benchmarks/harness.py) turns ns per run
// into cycles per run with it.
#if defined(__x86_64__)
void BM_Clock(benchmark::State& state) {
  std::uint64_t x = 0, y = 1;
  benchmark::DoNotOptimize(y);
  for (auto _ : state) {
    for (int i = 0; i < 10; ++i)
      asm volatile(".rept 100\n\tadd %1, %0\n\t.endr" : "+r"(x) : "r"(y));
  }
  benchmark::DoNotOptimize(x);
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Clock);
#endif

BENCHMARK_MAIN();
