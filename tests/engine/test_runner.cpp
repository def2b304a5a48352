#include "engine/cancel.hpp"
#include "engine/precision.hpp"
#include "engine/progress.hpp"
#include "engine/runner.hpp"
#include "toy_model.hpp"

#include <tbb/global_control.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <deque>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

using namespace wedge::engine;
using wedge::test::CoinModel;
using Sink = wedge::test::CollectingSink<CoinModel::Record>;

namespace {

struct Result {
  std::vector<Summary> summaries;
  std::vector<Sink::Row> rows;
  RunReport report;
};

Result run_coins(std::size_t threads, std::size_t grain, std::size_t wave, bool crn,
                 std::uint32_t block_size = 64) {
  tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
  const std::vector<CoinModel::Params> params{{0.5, 10}, {0.3, 7}, {0.8, 12}};
  Result out{make_summaries<CoinModel>(params.size()), {}, {}};
  RunOptions options;
  options.seed = 2024;
  options.crn = crn;
  options.grain = grain;
  options.wave_blocks = wave;
  Sink sink;
  const auto blocks = make_blocks(full_plan(3, 1000), block_size);
  out.report = run_blocks<CoinModel>(params, blocks, out.summaries, options, &sink);
  out.rows = std::move(sink.rows);
  return out;
}

}  // namespace

TEST_CASE("a toy model runs on the engine and its records arrive in plan order", "[runner]") {
  const auto r = run_coins(2, 1, 0, false);
  CHECK(r.report.runs_done == 3000);
  CHECK_FALSE(r.report.interrupted);
  REQUIRE(r.rows.size() == 3000);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    REQUIRE(r.rows[i].point == i / 1000);
    REQUIRE(r.rows[i].replicate == i % 1000);
  }
  // The record of a run is the model applied to its own stream, nothing else.
  Stream s(StreamKey{2024, 2, 417});
  CHECK(r.rows[2417].record == CoinModel::run({0.8, 12}, s));
  for (const auto& sum : r.summaries) CHECK(sum.runs() == 1000);
}

TEST_CASE("1 thread, 2 threads, all threads and any grain give bit-identical results", "[runner]") {
  for (bool crn : {false, true}) {
    const auto one = run_coins(1, 1, 0, crn);
    const auto all = run_coins(std::thread::hardware_concurrency(), 1, 0, crn);
    const auto two_coarse = run_coins(2, 7, 5, crn);
    const auto four_fine = run_coins(4, 1, 1, crn);
    for (const auto* other : {&all, &two_coarse, &four_fine}) {
      CHECK(other->rows == one.rows);
      for (std::size_t p = 0; p < one.summaries.size(); ++p) {
        CHECK(other->summaries[p] == one.summaries[p]);
      }
    }
  }
}

TEST_CASE("blocks computed on demand run exactly as the blocks made", "[runner]") {
  const std::vector<CoinModel::Params> params{{0.5, 10}, {0.3, 7}, {0.8, 12}};
  const auto run = [&](const auto& blocks, std::size_t wave) {
    tbb::global_control control(tbb::global_control::max_allowed_parallelism, 2);
    Result out{make_summaries<CoinModel>(params.size()), {}, {}};
    RunOptions options;
    options.seed = 99;
    options.wave_blocks = wave;
    Sink sink;
    out.report = run_blocks<CoinModel>(params, blocks, out.summaries, options, &sink);
    out.rows = std::move(sink.rows);
    return out;
  };
  // Uneven blocks (1000 = 15 x 64 + 40), and a shard-like slice starting inside a point.
  const auto eager = make_blocks(full_plan(3, 1000), 64);
  const BlockRange lazy(full_plan(3, 1000), 64);
  const auto slice = lazy.slice(10, 37);
  const std::vector<Block> eager_slice(eager.begin() + 10, eager.begin() + 37);
  for (const std::size_t wave : {std::size_t{0}, std::size_t{1}, std::size_t{5}}) {
    const auto a = run(eager, wave), b = run(lazy, wave);
    REQUIRE(b.rows.size() == 3000);
    CHECK(b.rows == a.rows);
    CHECK(b.summaries == a.summaries);
    CHECK(b.report.blocks_done == eager.size());
    const auto c = run(std::span<const Block>(eager_slice), wave), d = run(slice, wave);
    REQUIRE(d.rows.size() == slice.runs());
    CHECK(d.rows == c.rows);
    CHECK(d.summaries == c.summaries);
    CHECK(d.rows.front().point == 0);
    CHECK(d.rows.front().replicate == 640);
  }
}

namespace {

/// CoinModel with a block path (the runner's preferred one: records observed 256 at a time).
struct BlockCoinModel : CoinModel {
  static void run_block(const Params& params, const StreamKey& key, std::uint32_t count,
                        Record* out) {
    for (std::uint32_t k = 0; k < count; ++k) {
      Stream stream(StreamKey{key.seed, key.point, key.replicate + k});
      out[k] = CoinModel::run(params, stream);
    }
  }
};
static_assert(BlockModel<BlockCoinModel>);

/// A sink that takes the observed fields from the workers (RecordSink::takes_observed): keeps
/// each wave's rows as given, checks that every row came exactly once, and collects them in
/// plan order with their (point, replicate).
struct ObservingSink : RecordSink<CoinModel::Record> {
  static constexpr std::size_t C = 2, V = 1;
  struct Wave {
    std::vector<std::uint16_t> cats;
    std::vector<double> vals;
    std::vector<std::uint8_t> given;  ///< times each row was given
  };
  struct Row {
    std::uint32_t point;
    std::uint64_t replicate;
    std::array<std::uint16_t, C> cats;
    double value;
    friend bool operator==(const Row&, const Row&) = default;
  };
  std::mutex mutex;
  std::deque<std::unique_ptr<Wave>> waves;  ///< begun, not yet consumed
  Wave* current = nullptr;
  std::vector<Row> rows;
  std::size_t bad_rows = 0;      ///< rows given other than once
  std::size_t records_seen = 0;  ///< records consume() got (none expected)

  bool takes_observed() const override { return true; }
  void begin_observed(std::size_t runs) override {
    auto wave = std::make_unique<Wave>();
    wave->cats.assign(runs * C, 0xFFFF);
    wave->vals.assign(runs * V, -1.0);
    wave->given.assign(runs, 0);
    std::lock_guard lock(mutex);
    current = wave.get();
    waves.push_back(std::move(wave));
  }
  void observed(std::size_t row0, std::size_t n, const std::uint16_t* categories,
                const double* values) override {
    // Disjoint rows from several threads: each writes its own elements.
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t c = 0; c < C; ++c) current->cats[(row0 + k) * C + c] = categories[k * C + c];
      current->vals[row0 + k] = values[k * V];
      ++current->given[row0 + k];
    }
  }
  void consume(std::span<const Block> blocks, std::span<const CoinModel::Record> records,
               std::span<const Summary>) override {
    records_seen += records.size();
    std::unique_ptr<Wave> wave;
    {
      std::lock_guard lock(mutex);
      wave = std::move(waves.front());
      waves.pop_front();
    }
    std::size_t i = 0;
    for (const auto& b : blocks) {
      for (std::uint32_t k = 0; k < b.count; ++k, ++i) {
        if (i >= wave->given.size() || wave->given[i] != 1) {
          ++bad_rows;
          continue;
        }
        rows.push_back({b.point,
                        b.replicate_begin + k,
                        {wave->cats[i * C], wave->cats[i * C + 1]},
                        wave->vals[i]});
      }
    }
    if (i != wave->given.size()) ++bad_rows;
  }
};

}  // namespace

TEST_CASE(
    "a sink that takes observed fields gets every run's once, in plan order, as observe "
    "gives them from the records",
    "[runner]") {
  const std::vector<CoinModel::Params> params{{0.5, 10}, {0.3, 7}, {0.8, 12}};
  // Blocks of 600 runs (the block path observes 256 at a time: rows at 0, 256 and 512 of each
  // block) and of 64; several waves, grains and thread counts.
  for (const std::uint32_t block_size : {600u, 64u}) {
    const auto blocks = make_blocks(full_plan(3, 1500), block_size);
    // The reference: the records, observed here.
    std::vector<ObservingSink::Row> expected;
    {
      auto summaries = make_summaries<CoinModel>(params.size());
      Sink sink;
      RunOptions options;
      options.seed = 7;
      run_blocks<CoinModel>(params, blocks, summaries, options, &sink);
      for (const auto& row : sink.rows) {
        std::array<std::uint16_t, 2> cats{};
        double value = 0;
        CoinModel::observe(row.record, cats.data(), &value);
        expected.push_back({row.point, row.replicate, cats, value});
      }
      REQUIRE(expected.size() == 4500);
    }
    for (const std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
      for (const std::size_t wave : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
        for (const bool block_path : {true, false}) {
          INFO("block size " << block_size << ", " << threads << " threads, wave " << wave
                             << (block_path ? ", run_block" : ", run"));
          tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
          auto summaries = make_summaries<CoinModel>(params.size());
          ObservingSink sink;
          RunOptions options;
          options.seed = 7;
          options.wave_blocks = wave;
          options.grain = wave == 3 ? 2 : 1;
          const auto report =
              block_path ? run_blocks<BlockCoinModel>(params, blocks, summaries, options, &sink)
                         : run_blocks<CoinModel>(params, blocks, summaries, options, &sink);
          CHECK(report.runs_done == 4500);
          CHECK(sink.bad_rows == 0);
          CHECK(sink.records_seen == 0);
          CHECK(sink.waves.empty());
          CHECK(sink.rows == expected);
        }
      }
    }
  }
}

TEST_CASE("each point's blocks merge in block order whether or not a wave holds its others",
          "[runner]") {
  // A point alone in its wave is merged by the worker that ran its block; a point with several
  // blocks in the wave after it, in order. Blocks of the three points interleaved (so a wave holds
  // one, two or three blocks of a point) and one block per point (every point alone) give the
  // summaries of the plain plan, for any wave size and thread count.
  const std::vector<CoinModel::Params> params{{0.5, 10}, {0.3, 7}, {0.8, 12}};
  // Without a sink, a point alone in its wave with no runs yet is added to in place (no block
  // summary); with one (which takes the block summaries) never: both give the same summaries.
  const auto run = [&](std::span<const Block> blocks, std::size_t points, std::size_t wave,
                       std::size_t threads, bool with_sink = false) {
    tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
    std::vector<CoinModel::Params> all;
    for (std::size_t p = 0; p < points; ++p) all.push_back(params[p % 3]);
    auto summaries = make_summaries<CoinModel>(points);
    RunOptions options;
    options.seed = 7;
    options.wave_blocks = wave;
    Sink sink;
    run_blocks<CoinModel>(all, blocks, summaries, options, with_sink ? &sink : nullptr);
    return summaries;
  };
  // Summaries that have runs already (a second batch) are merged into, never added to in place.
  const auto twice = [&](std::span<const Block> blocks, std::size_t points, bool with_sink) {
    std::vector<CoinModel::Params> all;
    for (std::size_t p = 0; p < points; ++p) all.push_back(params[p % 3]);
    auto summaries = make_summaries<CoinModel>(points);
    RunOptions options;
    options.seed = 7;
    Sink sink;
    for (const std::uint64_t seed : {std::uint64_t{7}, std::uint64_t{8}}) {
      options.seed = seed;
      run_blocks<CoinModel>(all, blocks, summaries, options, with_sink ? &sink : nullptr);
    }
    return summaries;
  };
  const auto plain = make_blocks(full_plan(3, 1000), 64);  // 16 blocks a point
  std::vector<Block> interleaved;
  for (std::size_t j = 0; j < 16; ++j) {
    for (std::size_t p = 0; p < 3; ++p) interleaved.push_back(plain[p * 16 + j]);
  }
  const auto expected = run(plain, 3, 1, 1, true);
  const auto one_each = make_blocks(full_plan(300, 50), 64);  // 300 points of one block
  const auto expected_each = run(one_each, 300, 1, 1, true);
  CHECK(run(plain, 3, 1, 1) == expected);
  CHECK(run(one_each, 300, 1, 1) == expected_each);
  CHECK(twice(one_each, 300, false) == twice(one_each, 300, true));
  for (const std::size_t wave : {0u, 1u, 2u, 3u, 4u, 5u, 7u, 64u}) {
    for (const std::size_t threads : {1u, 2u, 4u}) {
      CHECK(run(plain, 3, wave, threads) == expected);
      CHECK(run(interleaved, 3, wave, threads) == expected);
      CHECK(run(one_each, 300, wave, threads) == expected_each);
      CHECK(run(interleaved, 3, wave, threads, true) == expected);
    }
  }
}

TEST_CASE("blocks out of the design or beyond 2^32 replicates are refused before anything runs",
          "[runner]") {
  const std::vector<CoinModel::Params> params{{0.5, 10}, {0.3, 7}};
  RunOptions options;
  options.seed = 1;
  const auto refused = [&](const auto& blocks) {
    auto summaries = make_summaries<CoinModel>(params.size());
    const auto before = summaries;
    Sink sink;
    std::string what;
    try {
      run_blocks<CoinModel>(params, blocks, summaries, options, &sink);
    } catch (const std::invalid_argument& e) {
      what = e.what();
    }
    CHECK(sink.rows.empty());  // nothing ran
    CHECK(summaries == before);
    return what;
  };
  const std::string out_of_design = "run_blocks: block refers to a design point out of range";
  const std::string beyond = "run_blocks: replicate index beyond 2^32";
  // A third point where the design has two, in the last block only (made and lazy plans).
  const std::vector<Segment> three{{0, 0, 100}, {1, 0, 100}, {2, 0, 100}};
  CHECK(refused(make_blocks(three, 64)) == out_of_design);
  CHECK(refused(BlockRange(three, 64)) == out_of_design);
  CHECK(refused(BlockRange(three, 64).drop(3)) == out_of_design);
  // A slice that stops before the third point's blocks runs.
  {
    auto summaries = make_summaries<CoinModel>(params.size());
    const auto report =
        run_blocks<CoinModel>(params, BlockRange(three, 64).first(4), summaries, options);
    CHECK(report.runs_done == 200);
  }
  const std::vector<Segment> far{{0, 0, 10}, {1, MAX_REPLICATES - 10, MAX_REPLICATES + 1}};
  CHECK(refused(make_blocks(far, 64)) == beyond);
  CHECK(refused(BlockRange(far, 64)) == beyond);
  // 10^5 points x 2^32 replicates (2 * 10^11 blocks) is checked by its segments: cancelled
  // before it starts, the run returns at once (visiting every block took minutes, deaf to
  // cancellation, in `wedge run` of such a plan), and its last two blocks run.
  std::vector<CoinModel::Params> many(100'000, CoinModel::Params{0.5, 3});
  const BlockRange huge(full_plan(100'000, MAX_REPLICATES), 2048);
  REQUIRE(huge.size() == 100'000ull * (MAX_REPLICATES / 2048));
  auto summaries = make_summaries<CoinModel>(many.size());
  CancelToken token;
  token.request();
  RunOptions cancelled = options;
  cancelled.cancel = &token;
  const auto none = run_blocks<CoinModel>(many, huge, summaries, cancelled);
  CHECK(none.interrupted);
  CHECK(none.blocks_done == 0);
  const auto report = run_blocks<CoinModel>(many, huge.drop(huge.size() - 2), summaries, options);
  CHECK(report.runs_done == 4096);
  CHECK(summaries.back().runs() == 4096);
}

TEST_CASE("common random numbers give replicate r the same stream at every point", "[runner]") {
  const auto r = run_coins(2, 1, 0, true);
  // Same p and flips would give identical records; with different p the uniforms are shared,
  // so a run with higher p never has fewer heads in the first flip.
  for (std::uint64_t rep = 0; rep < 1000; ++rep) {
    const auto& low = r.rows[1000 + rep].record;   // p = 0.3
    const auto& high = r.rows[2000 + rep].record;  // p = 0.8
    REQUIRE(high.first >= low.first);
  }
  const auto independent = run_coins(2, 1, 0, false);
  CHECK(independent.rows[0].record == r.rows[0].record);  // point 0 is keyed the same either way
}

TEST_CASE("a run stopped by a cancellation request completes a prefix of blocks", "[runner]") {
  struct CancellingSink : Sink {
    CancelToken* token = nullptr;
    void consume(std::span<const Block> blocks, std::span<const CoinModel::Record> records,
                 std::span<const Summary> summaries) override {
      Sink::consume(blocks, records, summaries);
      token->request();  // as a signal would, after the first wave
    }
  };
  const std::vector<CoinModel::Params> params{{0.5, 10}};
  auto summaries = make_summaries<CoinModel>(1);
  CancelToken token;
  RunOptions options;
  options.seed = 1;
  options.wave_blocks = 4;
  options.cancel = &token;
  CancellingSink sink;
  sink.token = &token;
  const auto blocks = make_blocks(full_plan(1, 100'000), 100);
  const auto report = run_blocks<CoinModel>(params, blocks, summaries, options, &sink);
  CHECK(report.interrupted);
  CHECK(report.blocks_done >= 4);
  CHECK(report.blocks_done < blocks.size());
  CHECK(report.runs_done == report.blocks_done * 100);
  CHECK(summaries[0].runs() == report.runs_done);
  CHECK(sink.rows.size() == report.runs_done);
}

TEST_CASE("a cancellation token is per run: another run, or a run without one, is not stopped",
          "[runner]") {
  const std::vector<CoinModel::Params> params{{0.5, 10}};
  const auto blocks = make_blocks(full_plan(1, 1'000), 100);
  CancelToken requested;
  requested.request();
  CancelToken child(&requested);  // linked: counts as requested when its parent is
  CHECK(child.requested());
  CHECK(child.signal() == 0);
  CancelToken other;
  for (const CancelToken* token : std::vector<const CancelToken*>{nullptr, &other}) {
    auto summaries = make_summaries<CoinModel>(1);
    RunOptions options;
    options.cancel = token;
    const auto report = run_blocks<CoinModel>(params, blocks, summaries, options);
    CHECK_FALSE(report.interrupted);
    CHECK(report.runs_done == 1'000);
  }
  auto summaries = make_summaries<CoinModel>(1);
  RunOptions options;
  options.cancel = &child;
  const auto report = run_blocks<CoinModel>(params, blocks, summaries, options);
  CHECK(report.interrupted);
  CHECK(report.runs_done == 0);  // requested before the first wave
}

TEST_CASE("a sink that throws stops the run with its exception", "[runner]") {
  struct FailingSink : Sink {
    void consume(std::span<const Block>, std::span<const CoinModel::Record>,
                 std::span<const Summary>) override {
      throw std::runtime_error("disk full");
    }
  };
  const std::vector<CoinModel::Params> params{{0.5, 10}};
  auto summaries = make_summaries<CoinModel>(1);
  FailingSink sink;
  const auto blocks = make_blocks(full_plan(1, 10'000), 100);
  RunOptions options;
  options.wave_blocks = 2;
  CHECK_THROWS_WITH((run_blocks<CoinModel>(params, blocks, summaries, options, &sink)),
                    "disk full");
}

TEST_CASE("precision mode stops where the interval target is met, on any thread count",
          "[runner][precision]") {
  const std::vector<CoinModel::Params> params{{0.5, 10}, {0.05, 3}};
  PrecisionTarget target;
  target.half_width = 0.01;
  target.fields = {0, 1};
  target.first_batch = 1000;
  target.block_size = 256;
  std::vector<Summary> reference;
  for (std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
    auto summaries = make_summaries<CoinModel>(params.size());
    RunOptions options;
    options.seed = 99;
    const auto report = run_to_precision<CoinModel>(params, summaries, options, target);
    CHECK(report.met);
    CHECK(report.batches >= 2);
    for (const auto& s : summaries) {
      CHECK(s.max_half_width(target.fields) <= 0.01);
      CHECK(s.runs() % 256 == 0);
    }
    // p = 1/2 needs about 1.96^2 / 4 / 0.01^2 = 9604 runs; it stops at the first batch boundary
    // past that (at most doubling), not far beyond.
    CHECK(summaries[0].runs() >= 9604);
    CHECK(summaries[0].runs() <= 2 * 9604 + 256);
    if (reference.empty()) {
      reference = summaries;
    } else {
      for (std::size_t p = 0; p < params.size(); ++p) CHECK(summaries[p] == reference[p]);
    }
  }
}

TEST_CASE("precision mode gives up at the replicate cap", "[runner][precision]") {
  const std::vector<CoinModel::Params> params{{0.5, 10}};
  PrecisionTarget target;
  target.half_width = 0.001;
  target.fields = {0};
  target.first_batch = 512;
  target.max_replicates = 2048;
  target.block_size = 256;
  auto summaries = make_summaries<CoinModel>(1);
  const auto report = run_to_precision<CoinModel>(params, summaries, RunOptions{}, target);
  CHECK_FALSE(report.met);
  CHECK(summaries[0].runs() == 2048);
}

TEST_CASE("make_summaries makes one empty, independent summary per point, in parts or not",
          "[runner]") {
  // More than 256 points are made in parallel parts, then moved into place: every count a
  // point's, the layout shared, none missing or twice, on 1 and 2 threads.
  const auto layout = std::make_shared<const FieldLayout>(FieldLayout::from(CoinModel::fields()));
  const Summary empty(layout);
  for (const std::size_t threads : std::initializer_list<std::size_t>{1, 2}) {
    tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
    for (const std::size_t points : std::initializer_list<std::size_t>{0, 1, 256, 257, 513, 1000}) {
      auto summaries = make_summaries<CoinModel>(points);
      REQUIRE(summaries.size() == points);
      for (const auto& s : summaries) {
        CHECK(s == empty);
        CHECK(s.layout().categorical.size() == 2);
        CHECK(s.layout().continuous.size() == 1);
        CHECK(s.counts(0).size() == 2);
        CHECK(s.continuous(0).histogram().size() == 12);
      }
      // Each its own storage: a run added to point p shows at p only.
      std::uint16_t cats[2] = {1, 0};
      const double value = 0.25;
      for (std::size_t p = 0; p < points; p += 97) summaries[p].add(cats, &value);
      for (std::size_t p = 0; p < points; ++p) {
        CHECK(summaries[p].runs() == (p % 97 == 0 ? 1u : 0u));
        CHECK(summaries[p].counts(0)[1] == (p % 97 == 0 ? 1u : 0u));
        CHECK(summaries[p].continuous(0).histogram()[3] == (p % 97 == 0 ? 1u : 0u));
      }
    }
  }
}

TEST_CASE("many points' summaries (one arena for their counts) give what plain summaries give",
          "[runner][memory]") {
  // 1,000 points: make_summaries takes its arena path (more than 256 points). Each point has its
  // own p and flips, so a summary mixed up with another's, or counts sharing memory, would show.
  std::vector<CoinModel::Params> params;
  for (std::size_t p = 0; p < 1000; ++p) {
    params.push_back(
        {0.05 + 0.9 * static_cast<double>(p % 97) / 96.0, 1 + static_cast<int>(p % 13)});
  }
  const auto layout = std::make_shared<const FieldLayout>(FieldLayout::from(CoinModel::fields()));
  RunOptions options;
  options.seed = 77;
  const BlockRange blocks(full_plan(1000, 300), 128);
  std::vector<Summary> plain(params.size(), Summary(layout));
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    run_blocks<CoinModel>(params, blocks, plain, options);
  }
  for (const std::size_t threads : {std::size_t{1}, std::size_t{2}}) {
    tbb::global_control control(tbb::global_control::max_allowed_parallelism, threads);
    auto made = make_summaries<CoinModel>(params.size());
    REQUIRE(made.size() == params.size());
    CHECK(std::all_of(made.begin(), made.end(),
                      [&](const Summary& s) { return s == Summary(layout); }));
    run_blocks<CoinModel>(params, blocks, made, options);
    for (std::size_t p = 0; p < params.size(); ++p) REQUIRE(made[p] == plain[p]);
    // Copies outlive the arena's summaries; moved and reassigned ones keep their values.
    std::vector<Summary> copies(made.begin(), made.end());
    std::vector<Summary> moved(std::make_move_iterator(made.begin() + 500),
                               std::make_move_iterator(made.end()));
    std::swap(made[0], made[1]);
    made[2] = copies[3];
    copies[4] = std::move(made[5]);
    CHECK(made[0] == plain[1]);
    CHECK(made[1] == plain[0]);
    CHECK(made[2] == plain[3]);
    CHECK(copies[4] == plain[5]);
    made.clear();
    made.shrink_to_fit();
    for (std::size_t p = 0; p < 500; ++p) REQUIRE(copies[p] == plain[p == 4 ? 5 : p]);
    for (std::size_t p = 500; p < 1000; ++p) REQUIRE(moved[p - 500] == plain[p]);
  }
}

TEST_CASE("the progress line's runs/s counts this session's runs, not a resumed file's") {
  // 900,000 runs resumed from the partial file, 100,000 run in this session's 2 s: 50,000 runs/s
  // (it showed 500,000 at first: the resumed runs over this session's seconds).
  CHECK(Progress::runs_per_second(1'000'000, 900'000, 2.0) == Approx(50'000));
  CHECK(Progress::runs_per_second(1'000, 0, 2.0) == Approx(500));
  CHECK(Progress::runs_per_second(900'000, 900'000, 2.0) == 0.0);  // none yet this session
  CHECK(Progress::runs_per_second(5, 0, 0.0) == 0.0);
  // The line itself: 900 of 1,000 runs resumed, none run yet (printed after the first second).
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  Progress progress(1000, false, out);
  progress.set_resumed(900);
  while (progress.elapsed_seconds() < 1.05)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  progress.update(900);
  std::rewind(out);
  char line[256] = {};
  REQUIRE(std::fgets(line, sizeof line, out) != nullptr);
  std::fclose(out);
  CHECK_THAT(std::string(line), Catch::StartsWith("900/1000 runs (90.0%), 0 runs/s, ETA ?"));
}

TEST_CASE("the progress line's ETA waits for a sound basis, then extrapolates from it") {
  const auto eta = [](std::uint64_t total, std::uint64_t done, double elapsed,
                      std::uint64_t base_done, double base_elapsed) {
    return Progress::eta_seconds(total, done, elapsed, base_done, base_elapsed);
  };
  // 10^6 points of 100 runs: 2,048 runs done 1.5 s in, after seconds of set-up (the basis: the
  // first update that saw runs, 1,024 runs at 1.2 s). 0.001% done: no ETA (it was ~73,000 s).
  CHECK_FALSE(eta(100'000'000, 2048, 1.5, 1024, 1.2).has_value());
  // No runs since the basis, or none at all: nothing to extrapolate from.
  CHECK_FALSE(eta(100'000'000, 1024, 1.5, 1024, 1.2).has_value());
  CHECK_FALSE(eta(1000, 0, 3.0, 0, 0.0).has_value());
  // 1% of the runs done since the basis: remaining runs at the rate since the basis (the set-up
  // before it excluded: 1,000,000 runs in 2 s, 98,999,000 left -> 197.998 s).
  CHECK(eta(100'000'000, 1'001'000, 12.0, 1'000, 10.0) == Approx(197.998));
  CHECK_FALSE(eta(100'000'000, 999'999, 12.0, 1'000, 10.0).has_value());  // just under 1%
  // Or ETA_MIN_SECONDS since the basis with runs done, however few.
  CHECK_FALSE(
      eta(100'000'000, 2'000, 1.0 + Progress::ETA_MIN_SECONDS - 0.01, 1'000, 1.0).has_value());
  CHECK(eta(100'000'000, 2'000, 1.0 + Progress::ETA_MIN_SECONDS, 1'000, 1.0) ==
        Approx((100'000'000.0 - 2'000) * Progress::ETA_MIN_SECONDS / 1'000));
  // A resumed file's earlier runs (the basis starts above them) do not count as this session's.
  CHECK(eta(1'000'000, 600'000, 4.0, 500'000, 2.0) == Approx(400'000 * 2.0 / 100'000));
  // Done: 0; the total unknown (0): none.
  CHECK(eta(1000, 1000, 0.5, 0, 0.0) == std::optional<double>(0.0));
  CHECK_FALSE(eta(0, 1000, 9.0, 10, 1.0).has_value());
}
