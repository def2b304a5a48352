#include "engine/memory.hpp"
#include "engine/plan.hpp"
#include "engine/rng.hpp"
#include "engine/stats.hpp"
#include "engine/summary.hpp"
#include "toy_model.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

using namespace wedge::engine;

namespace {
/// An accumulator's histogram as a std::vector, to compare with expected bins.
std::vector<std::uint64_t> bins_of(const ContinuousStats& s) {
  return {s.histogram().begin(), s.histogram().end()};
}
}  // namespace

TEST_CASE("Wilson intervals match hand-computed values", "[stats]") {
  // k = 5, n = 10, z = 1.96: centre 0.5, half-width 1.96*sqrt(0.025+0.0096)/1.3842 = 0.26340.
  const auto mid = wilson(5, 10);
  CHECK(mid.low == Approx(0.236593).epsilon(1e-5));
  CHECK(mid.high == Approx(0.763407).epsilon(1e-5));
  // k = 0: the interval starts at 0 and ends at z^2 / (n + z^2).
  const auto zero = wilson(0, 10);
  CHECK(zero.low == 0.0);
  CHECK(zero.high == Approx(Z95 * Z95 / (10 + Z95 * Z95)).epsilon(1e-12));
  const auto all = wilson(10, 10);
  CHECK(all.high == 1.0);
  CHECK(all.low == Approx(1.0 - zero.high).epsilon(1e-12));
  CHECK(wilson(0, 0).low == 0.0);
  CHECK(wilson(0, 0).high == 1.0);
}

TEST_CASE("streaming statistics equal a direct two-pass computation", "[stats]") {
  Stream s(StreamKey{11, 0, 0});
  std::vector<double> xs;
  ContinuousStats st(0.0, 1.0, 10);
  for (int i = 0; i < 10'000; ++i) {
    const double x = s.uniform() * 1.2 - 0.1;  // some outside the histogram's range
    xs.push_back(x);
    st.add(x);
  }
  double sum = 0.0;
  for (double x : xs) sum += x;
  const double mean = sum / static_cast<double>(xs.size());
  double ss = 0.0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  const double var = ss / static_cast<double>(xs.size() - 1);
  CHECK(st.n() == xs.size());
  CHECK(st.mean() == Approx(mean).epsilon(1e-12));
  CHECK(st.variance() == Approx(var).epsilon(1e-10));
  CHECK(st.min() == *std::min_element(xs.begin(), xs.end()));
  CHECK(st.max() == *std::max_element(xs.begin(), xs.end()));
  std::vector<std::uint64_t> hist(12, 0);
  for (double x : xs) {
    if (x < 0.0)
      ++hist[0];
    else if (x > 1.0)
      ++hist[11];
    else
      ++hist[1 + std::min<std::size_t>(static_cast<std::size_t>(x * 10.0), 9)];
  }
  CHECK(bins_of(st) == hist);
}

TEST_CASE("merging statistics equals accumulating them in one pass", "[stats]") {
  Stream s(StreamKey{12, 0, 0});
  ContinuousStats whole(0.0, 1.0, 4);
  ContinuousStats a(0.0, 1.0, 4);
  ContinuousStats b(0.0, 1.0, 4);
  for (int i = 0; i < 1000; ++i) {
    const double x = s.uniform();
    whole.add(x);
    (i < 300 ? a : b).add(x);
  }
  a.merge(b);
  CHECK(a.n() == whole.n());
  CHECK(a.mean() == Approx(whole.mean()).epsilon(1e-12));
  CHECK(a.variance() == Approx(whole.variance()).epsilon(1e-12));
  CHECK(a.min() == whole.min());
  CHECK(a.max() == whole.max());
  CHECK(a.histogram() == whole.histogram());
  ContinuousStats empty(0.0, 1.0, 4);
  empty.merge(a);
  CHECK(empty.mean() == a.mean());
  ContinuousStats other_bins(0.0, 1.0, 5);
  CHECK_THROWS_AS(a.merge(other_bins), std::invalid_argument);
}

TEST_CASE("a summary counts categories and merges shards exactly", "[stats]") {
  const auto layout =
      std::make_shared<const FieldLayout>(FieldLayout::from(wedge::test::CoinModel::fields()));
  Summary whole(layout);
  Summary left(layout);
  Summary right(layout);
  wedge::test::CoinModel::Params params;
  for (std::uint32_t r = 0; r < 500; ++r) {
    Stream s(StreamKey{5, 0, r});
    const auto rec = wedge::test::CoinModel::run(params, s);
    std::uint16_t cats[2];
    double values[1];
    wedge::test::CoinModel::observe(rec, cats, values);
    whole.add(cats, values);
    (r < 200 ? left : right).add(cats, values);
  }
  CHECK(whole.runs() == 500);
  CHECK(whole.counts(0)[0] + whole.counts(0)[1] == 500);
  left.merge(right);
  CHECK(left.counts(0)[0] == whole.counts(0)[0]);
  CHECK(left.counts(1)[1] == whole.counts(1)[1]);
  CHECK(left.continuous(0).mean() == Approx(whole.continuous(0).mean()).epsilon(1e-12));
  CHECK(whole.categorical_index("first") == 1);
  CHECK(whole.continuous_index("fraction") == 0);
  CHECK(whole.categorical_index("nope") == -1);
}

namespace {

/// Summaries of `blocks` consecutive blocks of 100 coin-model runs each, two design points.
std::vector<Summary> coin_blocks(const std::shared_ptr<const FieldLayout>& layout,
                                 std::uint32_t blocks) {
  std::vector<Summary> out;
  const wedge::test::CoinModel::Params params{0.37, 9};
  for (std::uint32_t b = 0; b < blocks; ++b) {
    Summary s(layout);
    for (std::uint32_t r = 0; r < 100; ++r) {
      Stream stream(StreamKey{11, b % 2, b * 100 + r});
      std::uint16_t cats[2];
      double values[1];
      wedge::test::CoinModel::observe(wedge::test::CoinModel::run(params, stream), cats, values);
      s.add(cats, values);
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("a summary's state packs and unpacks exactly, and its parts replay merges bit for bit",
          "[stats]") {
  const auto layout =
      std::make_shared<const FieldLayout>(FieldLayout::from(wedge::test::CoinModel::fields()));
  const auto blocks = coin_blocks(layout, 7);
  // What the runner does: merge the blocks into their points (b % 2) in order.
  std::vector<Summary> points(2, Summary(layout));
  for (std::uint32_t b = 0; b < blocks.size(); ++b) points[b % 2].merge(blocks[b]);

  const auto state = SummaryState::pack(points);
  const SummaryState::Offsets at(*layout);
  CHECK(state.rows == 2);
  CHECK(at.width == 1 + 2 + 2 + 12);  // runs, parity, first, the fraction histogram (10 bins + 2)
  CHECK(state.integers.size() == 2 * at.width);
  CHECK(state.integers[at.runs] == points[0].runs());
  CHECK(state.integers[at.width + at.counts[1] + 1] == points[1].counts(1)[1]);
  const auto back = state.unpack(layout);
  REQUIRE(back.size() == 2);
  CHECK(back[0] == points[0]);
  CHECK(back[1] == points[1]);

  // Integers added in any order plus moments merged in plan order = the runner's merges (MPI,
  // merge).
  std::vector<Summary> replayed(2, Summary(layout));
  const auto block_state = SummaryState::pack(blocks);
  for (auto b = static_cast<std::uint32_t>(blocks.size()); b-- > 0;)
    block_state.add_integers(b, replayed[b % 2]);
  for (std::uint32_t b = 0; b < blocks.size(); ++b) block_state.merge_moments(b, replayed[b % 2]);
  CHECK(replayed[0] == points[0]);
  CHECK(replayed[1] == points[1]);

  // A checkpoint stores the moments normalised: later merges give the same bits.
  SummaryState normalised = state;
  for (auto& m : normalised.moments) m = m.normalised();
  CHECK(normalised.moments[0].sum == 0.0);
  auto restored = normalised.unpack(layout);
  auto original = points;
  const auto more = coin_blocks(layout, 3);
  for (std::uint32_t b = 0; b < more.size(); ++b) {
    restored[b % 2].merge(more[b]);
    original[b % 2].merge(more[b]);
  }
  CHECK(restored[0] == original[0]);
  CHECK(restored[1] == original[1]);

  // Another layout is refused, not misread.
  const auto other =
      std::make_shared<const FieldLayout>(FieldLayout::from({wedge::test::CoinModel::fields()[0]}));
  Summary foreign(other);
  CHECK_THROWS_AS(state.add_integers(0, foreign), std::invalid_argument);
}

TEST_CASE("blocks are aligned on multiples of the block size within each point", "[plan]") {
  const auto blocks = make_blocks({{0, 0, 10}, {1, 3, 9}, {0, 10, 12}}, 4);
  const std::vector<Block> expected{{0, 0, 4, 0}, {0, 4, 4, 1}, {0, 8, 2, 2}, {1, 3, 1, 3},
                                    {1, 4, 4, 4}, {1, 8, 1, 5}, {0, 10, 2, 6}};
  CHECK(blocks == expected);
  CHECK(make_blocks(full_plan(2, 5), 8) == std::vector<Block>{{0, 0, 5, 0}, {1, 0, 5, 1}});
  CHECK(make_blocks(full_plan(1, 5), 8, 40) == std::vector<Block>{{0, 0, 5, 40}});
  CHECK_THROWS_AS(make_blocks({{0, 0, 1}}, 0), std::invalid_argument);
}

static_assert(std::random_access_iterator<BlockRange::Iterator>);

TEST_CASE("a BlockRange computes make_blocks' blocks on demand, for whole plans and their slices",
          "[plan]") {
  struct Plan {
    const char* name;
    std::vector<Segment> segments;
    std::uint32_t block_size;
    std::uint64_t first_sequence;
  };
  const std::vector<Plan> plans{
      {"grid, uneven last block", full_plan(12, 5000), DEFAULT_BLOCK_SIZE, 0},
      {"replicates, one point", full_plan(1, 100'001), DEFAULT_BLOCK_SIZE, 0},
      {"exact multiple of the block size", full_plan(3, 4096), DEFAULT_BLOCK_SIZE, 0},
      {"one run per point", full_plan(5, 1), 8, 0},
      {"blocks larger than the points", full_plan(2, 5), 8, 0},
      {"uneven segments, empty ones, a first sequence",
       {{0, 0, 10}, {1, 3, 9}, {2, 5, 5}, {3, 7, 2}, {0, 10, 12}, {4, 8, 16}, {1, 9, 10}},
       4,
       40},
      {"no segments", {}, 4, 0}};
  for (const auto& plan : plans) {
    INFO(plan.name);
    const auto eager = make_blocks(plan.segments, plan.block_size, plan.first_sequence);
    const BlockRange lazy(plan.segments, plan.block_size, plan.first_sequence);
    REQUIRE(lazy.size() == eager.size());
    CHECK(lazy.empty() == eager.empty());
    for (std::size_t i = 0; i < eager.size(); ++i) REQUIRE(lazy[i] == eager[i]);
    CHECK(std::equal(lazy.begin(), lazy.end(), eager.begin(), eager.end()));
    CHECK(lazy.materialize() == eager);
    // Every shard of K (the session's slices), every resume point (drop), every stop (first).
    for (std::uint64_t k = 1; k <= 7; ++k) {
      for (std::uint64_t i = 0; i < k; ++i) {
        const std::uint64_t begin = eager.size() * i / k, end = eager.size() * (i + 1) / k;
        const auto shard = lazy.slice(begin, end);
        const std::vector<Block> expected(eager.begin() + static_cast<std::ptrdiff_t>(begin),
                                          eager.begin() + static_cast<std::ptrdiff_t>(end));
        REQUIRE(shard.materialize() == expected);
        std::uint64_t runs = 0;
        for (const auto& b : expected) runs += b.count;
        REQUIRE(shard.runs() == runs);
        if (!expected.empty()) {
          CHECK(shard.front() == expected.front());
          CHECK(shard.back() == expected.back());
        }
        for (std::uint64_t n = 0; n <= shard.size() && n < 5; ++n) {
          const auto rest = shard.drop(n);
          REQUIRE(rest.materialize() ==
                  std::vector<Block>(expected.begin() + static_cast<std::ptrdiff_t>(n),
                                     expected.end()));
          REQUIRE(shard.first(n).size() == n);
          REQUIRE(shard.first(n).runs() + rest.runs() == runs);
        }
      }
    }
    CHECK(lazy.drop(eager.size() + 3).empty());  // clamped, as a resume past the end
    CHECK(lazy.slice(2, 1).empty());
  }
  // Hand-computed: 2 points x 5000 replicates in blocks of 2048 (two full, then 904).
  const BlockRange two(full_plan(2, 5000));
  CHECK(two.materialize() == std::vector<Block>{{0, 0, 2048, 0},
                                                {0, 2048, 2048, 1},
                                                {0, 4096, 904, 2},
                                                {1, 0, 2048, 3},
                                                {1, 2048, 2048, 4},
                                                {1, 4096, 904, 5}});
  CHECK(two.slice(2, 4).runs() == 904 + 2048);
  CHECK_THROWS_AS(BlockRange({{0, 0, 1}}, 0), std::invalid_argument);
  CHECK(BlockRange().empty());
  CHECK(BlockRange().runs() == 0);
}

TEST_CASE("a BlockRange of the largest plan is computed, not made", "[plan]") {
  // 1,000 points x 2^32 replicates: 2^31 blocks (64 GB if made), each computed by arithmetic.
  const BlockRange huge(full_plan(1000, 1ull << 32));
  CHECK(huge.size() == 1000ull << 21);
  CHECK(huge.runs() == 1000ull << 32);
  CHECK(huge[(1000ull << 21) - 1] ==
        Block{999, (1ull << 32) - DEFAULT_BLOCK_SIZE, DEFAULT_BLOCK_SIZE, (1000ull << 21) - 1});
  CHECK(huge[5ull << 21] == Block{5, 0, DEFAULT_BLOCK_SIZE, 5ull << 21});
  const auto tail = huge.slice(huge.size() / 3, huge.size() / 3 * 2);
  CHECK(tail.front().sequence == huge.size() / 3);
  CHECK(tail.runs() == tail.size() * DEFAULT_BLOCK_SIZE);
  // A billion runs of one point (make bench --billion): 488,282 blocks, the last of 512 runs.
  const BlockRange billion(full_plan(1, 1'000'000'000));
  CHECK(billion.size() == 488'282);
  CHECK(billion.back() == Block{0, 488'281ull * 2048, 512, 488'281});
  CHECK(billion.runs() == 1'000'000'000);
}

TEST_CASE("adding runs a chunk at a time gives the summary of adding them one by one, bit for bit",
          "[stats]") {
  // Three categorical fields and two continuous ones, whose values straddle the histograms'
  // ranges (under- and overflow, the top edge) and vary in scale, added in uneven chunks (one
  // run first, then an empty chunk, then chunks added to what the summary holds).
  FieldLayout layout;
  for (const char* name : {"c0", "c1", "c2"}) {
    FieldSpec f;
    f.name = name;
    f.categories = {"a", "b", "c", "d", "e"};
    layout.categorical.push_back(f);
  }
  for (const char* name : {"v0", "v1"}) {
    FieldSpec f;
    f.name = name;
    f.kind = FieldKind::continuous;
    f.hist_min = -1.0;
    f.hist_max = 1.0;
    f.hist_bins = 7;
    layout.continuous.push_back(f);
  }
  const auto shared = std::make_shared<const FieldLayout>(layout);
  const std::size_t runs = 1000;
  std::vector<std::uint16_t> cats(runs * 3);
  std::vector<double> values(runs * 2);
  Stream stream(StreamKey{3, 1, 4});
  for (std::size_t k = 0; k < runs; ++k) {
    for (std::size_t i = 0; i < 3; ++i) cats[k * 3 + i] = static_cast<std::uint16_t>(stream() % 5);
    values[k * 2] = k % 97 == 0 ? 1.0 : 3.0 * stream.uniform() - 1.5;
    values[k * 2 + 1] = 1e6 * (stream.uniform() - 0.25) + static_cast<double>(k);
  }
  Summary one_by_one(shared), chunked(shared);
  for (std::size_t k = 0; k < runs; ++k) one_by_one.add(&cats[k * 3], &values[k * 2]);
  std::size_t k = 0;
  for (const std::size_t n : std::initializer_list<std::size_t>{1, 0, 255, 256, 7, 481}) {
    chunked.add_runs(&cats[k * 3], &values[k * 2], n);
    k += n;
  }
  REQUIRE(k == runs);
  CHECK(chunked == one_by_one);  // counts, histograms, and mean, m2, min, max bit for bit
  for (std::size_t j = 0; j < 2; ++j) {
    const auto a = chunked.continuous(j).raw(), b = one_by_one.continuous(j).raw();
    CHECK(std::memcmp(&a, &b, sizeof a) == 0);  // the accumulators themselves
  }
  CHECK(chunked.continuous(0).histogram()[0] > 0);  // underflow, overflow and the top edge seen
  CHECK(chunked.continuous(0).histogram()[8] > 0);
  CHECK(chunked.continuous(0).histogram()[7] > 0);
  CHECK(chunked.runs() == runs);
}

TEST_CASE("a reset summary (the runner's per-block one) is a new one, bit for bit", "[stats]") {
  // Summary::reset clears in place (ContinuousStats::clear keeps the histogram's memory): after
  // any runs it must equal a summary just made, and a block added after it the same block added
  // to a new summary, accumulators included.
  const auto layout =
      std::make_shared<const FieldLayout>(FieldLayout::from(wedge::test::CoinModel::fields()));
  const auto block = [](Summary& s, std::uint32_t first, double p) {
    const wedge::test::CoinModel::Params params{p, 9};
    for (std::uint32_t r = first; r < first + 300; ++r) {
      Stream stream(StreamKey{21, 0, r});
      std::uint16_t cats[2];
      double values[1];
      wedge::test::CoinModel::observe(wedge::test::CoinModel::run(params, stream), cats, values);
      s.add(cats, values);
    }
  };
  Summary reused(layout);
  block(reused, 0, 0.9);  // values near 1: min, max, shift and the top bins all away from 0
  REQUIRE(reused.continuous(0).histogram()[10] > 0);
  reused.reset();
  const Summary made(layout);
  CHECK(reused == made);
  CHECK(reused.runs() == 0);
  CHECK(reused.continuous(0).n() == 0);
  CHECK(reused.continuous(0).raw() == ContinuousStats::Raw{});
  CHECK(std::all_of(reused.continuous(0).histogram().begin(),
                    reused.continuous(0).histogram().end(),
                    [](std::uint64_t c) { return c == 0; }));
  CHECK(reused.continuous(0).hist_min() == 0.0);
  CHECK(reused.continuous(0).hist_max() == 1.0);
  Summary fresh(layout);
  block(reused, 300, 0.2);
  block(fresh, 300, 0.2);
  CHECK(reused == fresh);
  const auto a = reused.continuous(0).raw(), b = fresh.continuous(0).raw();
  CHECK(std::memcmp(&a, &b, sizeof a) == 0);
  // The histogram's bins are unchanged by clear(): the same value falls in the same bin.
  ContinuousStats st(0.0, 1.0, 4);
  st.add(0.6);
  st.add(0.1);
  st.clear();
  CHECK(st.n() == 0);
  CHECK(bins_of(st) == std::vector<std::uint64_t>(6, 0));
  st.add(0.3);
  CHECK(bins_of(st) == std::vector<std::uint64_t>{0, 0, 1, 0, 0, 0});
  CHECK(st.mean() == 0.3);
  CHECK(st.min() == 0.3);
  CHECK(st.max() == 0.3);
}

TEST_CASE("the histogram bins by floor((x - min) * bins / (max - min)), the top edge last",
          "[stats]") {
  // Values on and next to every bin edge and both ends, and random ones, against the rule
  // computed here one value at a time (perf3 replaced the size_t cast and min by a double min).
  for (const std::uint32_t bins : {1u, 2u, 7u, 40u, 1000u}) {
    const double lo = -1.5, hi = 2.25;
    ContinuousStats stats(lo, hi, bins);
    std::vector<std::uint64_t> expected(bins + 2, 0);
    const double scale = static_cast<double>(bins) / (hi - lo);
    const auto expect = [&](double v) {
      if (v < lo) {
        ++expected[0];
      } else if (v > hi) {
        ++expected[bins + 1];
      } else {
        const double b = std::floor((v - lo) * scale);
        ++expected[1 + std::min<std::size_t>(static_cast<std::size_t>(b), bins - 1)];
      }
    };
    std::vector<double> values;
    for (std::uint32_t e = 0; e <= bins; ++e) {
      const double edge = lo + (hi - lo) * static_cast<double>(e) / static_cast<double>(bins);
      for (const double v : {std::nextafter(edge, -1e300), edge, std::nextafter(edge, 1e300)})
        values.push_back(v);
    }
    Stream stream(StreamKey{9, bins, 1});
    for (int k = 0; k < 5000; ++k) values.push_back(lo - 1.0 + (hi - lo + 2.0) * stream.uniform());
    for (const double v : {-1e300, 1e300, lo, hi}) values.push_back(v);
    for (const double v : values) expect(v);
    stats.add_values(values.data(), 1, values.size());
    CHECK(bins_of(stats) == expected);
    CHECK(expected.front() > 0);
    CHECK(expected.back() > 0);
    CHECK(stats.n() == values.size());
  }
}

TEST_CASE("add_runs counts any number of categorical fields as add does", "[stats]") {
  // 1 to 20 fields: those below 17 take a loop unrolled for their number, the rest the general
  // one; fields of 1, 2, ... categories.
  for (std::size_t nc = 1; nc <= 20; ++nc) {
    FieldLayout layout;
    for (std::size_t i = 0; i < nc; ++i) {
      FieldSpec f;
      f.name = std::string("c").append(std::to_string(i));
      for (std::size_t c = 0; c <= i; ++c) f.categories.push_back(std::to_string(c));
      layout.categorical.push_back(f);
    }
    const auto shared = std::make_shared<const FieldLayout>(layout);
    const std::size_t runs = 300;
    std::vector<std::uint16_t> cats(runs * nc);
    Stream stream(StreamKey{5, static_cast<std::uint32_t>(nc), 2});
    for (std::size_t k = 0; k < runs; ++k)
      for (std::size_t i = 0; i < nc; ++i)
        cats[k * nc + i] = static_cast<std::uint16_t>(stream() % (i + 1));
    Summary one_by_one(shared), chunked(shared);
    for (std::size_t k = 0; k < runs; ++k) one_by_one.add(&cats[k * nc], nullptr);
    chunked.add_runs(cats.data(), nullptr, 100);
    chunked.add_runs(cats.data() + 100 * nc, nullptr, runs - 100);
    CHECK(chunked == one_by_one);
    std::uint64_t total = 0;
    for (const auto c : chunked.counts(nc - 1)) total += c;
    CHECK(total == runs);
    CHECK(chunked.counts(nc - 1).back() > 0);
  }
}

TEST_CASE("add_runs counts fields of few categories in registers without losing a run", "[stats]") {
  // Summary::add_runs counts the leading fields of at most 4 categories in registers: eight of
  // them in 16-bit lanes flushed every 65,535 runs, fewer in 8-bit lanes flushed every 255. One
  // call of 200,000 runs whose fields keep one category, at the bottom and at the top of their
  // range, would carry into the next category or out of the register if a flush were missing or
  // late. Fields of 1 to 4 categories, more small fields than registers, a small field after a
  // large one (counted in memory), and calls ending exactly at and past a flush.
  for (const std::vector<std::size_t>& sizes :
       {std::vector<std::size_t>{4, 4, 1, 2, 3, 4, 2, 3, 4, 2, 101, 3, 4},
        std::vector<std::size_t>{4, 4, 3, 101, 2, 4}}) {
    FieldLayout layout;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      FieldSpec f;
      f.name = std::string("c").append(std::to_string(i));
      for (std::size_t c = 0; c < sizes[i]; ++c) f.categories.push_back(std::to_string(c));
      layout.categorical.push_back(f);
    }
    const auto shared = std::make_shared<const FieldLayout>(layout);
    const std::size_t nc = sizes.size();
    const std::size_t runs = 200'000;
    // Fields whose every run has the last category.
    const auto last = [&](std::size_t i) { return i == 1 || i == 4 || i == 10; };
    std::vector<std::uint16_t> cats(runs * nc);
    Stream stream(StreamKey{7, 13, 1});
    for (std::size_t k = 0; k < runs; ++k) {
      for (std::size_t i = 0; i < nc; ++i) {
        // Field 0 always 0 (the bottom lane: an overflow would carry into category 1); field 1
        // always 3 (the top lane: an overflow would leave the register or the field's lanes).
        const std::size_t c = i == 0 ? 0 : last(i) ? sizes[i] - 1 : stream() % sizes[i];
        cats[k * nc + i] = static_cast<std::uint16_t>(c);
      }
    }
    Summary one_by_one(shared);
    for (std::size_t k = 0; k < runs; ++k) one_by_one.add(&cats[k * nc], nullptr);
    for (const std::size_t first :
         std::initializer_list<std::size_t>{0, 1, 255, 256, 65'535, 65'536}) {
      Summary chunked(shared);
      chunked.add_runs(cats.data(), nullptr, first);
      chunked.add_runs(cats.data() + first * nc, nullptr, runs - first);
      CHECK(chunked == one_by_one);
      CHECK(chunked.counts(0)[0] == runs);
      CHECK(chunked.counts(0)[1] == 0);
      for (std::size_t i = 0; i < nc; ++i) {
        if (last(i)) CHECK(chunked.counts(i)[sizes[i] - 1] == runs);
        std::uint64_t total = 0;
        for (const auto c : chunked.counts(i)) total += c;
        CHECK(total == runs);
      }
    }
    // Every category of every field counted: against counts made here.
    std::vector<std::vector<std::uint64_t>> expected(nc);
    for (std::size_t i = 0; i < nc; ++i) expected[i].assign(sizes[i], 0);
    for (std::size_t k = 0; k < runs; ++k)
      for (std::size_t i = 0; i < nc; ++i) ++expected[i][cats[k * nc + i]];
    Summary whole(shared);
    whole.add_runs(cats.data(), nullptr, runs);
    for (std::size_t i = 0; i < nc; ++i) {
      CHECK(std::vector<std::uint64_t>(whole.counts(i).begin(), whole.counts(i).end()) ==
            expected[i]);
    }
  }
}

TEST_CASE("add_runs adds continuous fields two at a time as add does, bit for bit", "[stats]") {
  // ContinuousStats::add_columns pairs the fields with bins: an odd number of them, one without
  // bins between, a first value far from the rest (the shift), under- and overflow.
  FieldLayout layout;
  const std::vector<std::uint32_t> bins{7, 0, 50, 3, 80};
  for (std::size_t j = 0; j < bins.size(); ++j) {
    FieldSpec f;
    f.name = std::string("v").append(std::to_string(j));
    f.kind = FieldKind::continuous;
    f.hist_min = -1.0 - static_cast<double>(j);
    f.hist_max = 2.0 + static_cast<double>(j);
    f.hist_bins = bins[j];
    layout.continuous.push_back(f);
  }
  const auto shared = std::make_shared<const FieldLayout>(layout);
  const std::size_t nv = bins.size(), runs = 777;
  std::vector<double> values(runs * nv);
  Stream stream(StreamKey{11, 5, 3});
  for (std::size_t k = 0; k < runs; ++k)
    for (std::size_t j = 0; j < nv; ++j)
      values[k * nv + j] = k == 0 ? 1e3 * static_cast<double>(j + 1)
                                  : 20.0 * stream.uniform() - 10.0 + static_cast<double>(j);
  Summary one_by_one(shared), chunked(shared);
  for (std::size_t k = 0; k < runs; ++k) one_by_one.add(nullptr, &values[k * nv]);
  std::size_t k = 0;
  for (const std::size_t n : std::initializer_list<std::size_t>{1, 0, 256, 520}) {
    chunked.add_runs(nullptr, &values[k * nv], n);
    k += n;
  }
  REQUIRE(k == runs);
  CHECK(chunked == one_by_one);
  for (std::size_t j = 0; j < nv; ++j) {
    const auto a = chunked.continuous(j).raw(), b = one_by_one.continuous(j).raw();
    CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    CHECK(chunked.continuous(j).n() == runs);
    CHECK(chunked.continuous(j).histogram().front() > 0);
    CHECK(chunked.continuous(j).histogram().back() > 0);
    CHECK(chunked.continuous(j).max() == 1e3 * static_cast<double>(j + 1));
  }
}

TEST_CASE("add_values bins each value as documented, with bins and without", "[stats]") {
  // Known answers for the one loop of add_values and add_values_unbinned (engine/stats.cpp):
  // below the range to bin 0, above it to the last; the top edge and NaN to the last real bin.
  const double nan = std::nan("");
  ContinuousStats binned(0.0, 1.0, 4);
  const std::vector<double> x{-0.1, 0.0, 0.25, 0.999, 1.0, 1.5, nan};
  binned.add_values(x.data(), 1, x.size());
  CHECK(bins_of(binned) == std::vector<std::uint64_t>{1, 1, 1, 0, 3, 1});
  CHECK(binned.n() == 7);
  // Without bins (hist_bins = 0): under- and overflow only; a value in range counts as overflow.
  ContinuousStats unbinned(0.0, 1.0, 0);
  const std::vector<double> y{-1.0, 0.5, 2.0, 1.0};
  unbinned.add_values(y.data(), 1, y.size());
  CHECK(bins_of(unbinned) == std::vector<std::uint64_t>{1, 3});
  CHECK(unbinned.n() == 4);
  CHECK(unbinned.min() == -1.0);
  CHECK(unbinned.max() == 2.0);
  CHECK(unbinned.mean() == Approx(0.625));
}

TEST_CASE("a bump arena hands out disjoint 64-byte-aligned pieces, then falls back upstream",
          "[stats][memory]") {
  BumpArena arena(1000);  // 960 bytes usable: whole 64-byte pieces
  CHECK(arena.capacity() == 960);
  void* a = arena.allocate(10, 8);
  void* b = arena.allocate(64, 8);
  void* c = arena.allocate(65, 16);
  CHECK(arena.owns(a));
  CHECK(arena.owns(b));
  CHECK(arena.owns(c));
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  CHECK(static_cast<std::byte*>(b) == static_cast<std::byte*>(a) + 64);
  CHECK(static_cast<std::byte*>(c) == static_cast<std::byte*>(b) + 64);
  CHECK(arena.used() == 256);          // 64 + 64 + 128
  void* big = arena.allocate(800, 8);  // more than is left: from upstream, not the buffer
  CHECK_FALSE(arena.owns(big));
  void* over_aligned = arena.allocate(8, 4096);
  CHECK_FALSE(arena.owns(over_aligned));
  CHECK(reinterpret_cast<std::uintptr_t>(over_aligned) % 4096 == 0);
  std::memset(big, 1, 800);
  arena.deallocate(big, 800, 8);
  arena.deallocate(over_aligned, 8, 4096);
  arena.deallocate(a, 10, 8);      // a piece of the buffer: nothing to do
  void* d = arena.allocate(8, 8);  // once full, always full: later pieces come from upstream
  CHECK_FALSE(arena.owns(d));
  CHECK(arena.used() == 960);
  arena.deallocate(d, 8, 8);
  // Two threads claiming pieces at once get disjoint ones.
  BumpArena shared(64 * 2000);
  std::vector<void*> first(1000), second(1000);
  std::thread other([&] {
    for (auto& p : second) p = shared.allocate(40, 8);
  });
  for (auto& p : first) p = shared.allocate(40, 8);
  other.join();
  std::vector<void*> all(first);
  all.insert(all.end(), second.begin(), second.end());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(std::all_of(all.begin(), all.end(), [&](void* p) { return shared.owns(p); }));
  CHECK(shared.used() == 64 * 2000);
  // From 2 MiB on the buffer starts on a 2 MiB page (so all of it may be on huge pages).
  BumpArena large(3 << 20);
  const void* first_piece = large.allocate(8, 8);
  CHECK(reinterpret_cast<std::uintptr_t>(first_piece) % (2 << 20) == 0);
  CHECK(large.capacity() == 3 << 20);
}

TEST_CASE("a huge-page array from 1 MiB on is whole 2 MiB pages, below it plain memory",
          "[stats][memory]") {
  // From 1 MiB on the array starts on a 2 MiB page and is whole ones (so none of it is left to
  // 4 KiB pages); huge_array_capacity says how much of it is the caller's.
  CHECK(huge_array_capacity((std::size_t{1} << 20) - 1) == (std::size_t{1} << 20) - 1);
  CHECK(huge_array_capacity(std::size_t{1} << 20) == std::size_t{2} << 20);
  CHECK(huge_array_capacity((std::size_t{4} << 20) + 1) == std::size_t{6} << 20);
  for (const std::size_t bytes :
       {std::size_t{1} << 20, std::size_t{2} << 20, (std::size_t{5} << 20) + 24}) {
    auto* p = static_cast<unsigned char*>(allocate_huge_array(bytes));
    CHECK(reinterpret_cast<std::uintptr_t>(p) % (2 << 20) == 0);
    std::memset(p, 0xab, bytes);  // every byte is the caller's
    CHECK((p[0] == 0xab && p[bytes - 1] == 0xab));
    release_huge_array(p, bytes);
  }
  void* small = allocate_huge_array(100);
  CHECK(small != nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(small) % 64 == 0);  // a cache line of its own
  std::memset(small, 1, 100);
  release_huge_array(small, 100);
  release_huge_array(nullptr, 0);
  // A vector on the allocator grows across the 2 MiB boundary (both kinds of memory, copied
  // from one to the other) and keeps its elements; allocators all compare equal.
  std::vector<std::array<double, 300>, HugePageAllocator<std::array<double, 300>>> v;
  for (std::size_t i = 0; i < 2000; ++i) {  // 2,400 bytes each: 4.8 MB at the end
    v.push_back({});
    v.back().fill(static_cast<double>(i));
  }
  CHECK(reinterpret_cast<std::uintptr_t>(v.data()) % (2 << 20) == 0);
  bool kept = true;
  for (std::size_t i = 0; i < v.size(); ++i)
    kept = kept && v[i].front() == double(i) && v[i].back() == double(i);
  CHECK(kept);
  const auto copy = v;
  CHECK(copy == v);
  CHECK(HugePageAllocator<int>() == HugePageAllocator<double>());
}

TEST_CASE("a summary whose counts are in an arena is the same summary, copied, moved or assigned",
          "[stats][memory]") {
  using wedge::test::CoinModel;
  const auto layout = std::make_shared<const FieldLayout>(FieldLayout::from(CoinModel::fields()));
  const auto add = [](Summary& s, std::uint32_t first, double p) {
    for (std::uint32_t r = first; r < first + 200; ++r) {
      Stream stream(StreamKey{5, 0, r});
      std::uint16_t cats[2];
      double values[1];
      CoinModel::observe(CoinModel::run(CoinModel::Params{p, 7}, stream), cats, values);
      s.add(cats, values);
    }
  };
  Summary plain(layout);
  add(plain, 0, 0.7);
  auto arena = std::make_shared<BumpArena>(4096);
  Summary in_arena(plain, arena);
  // All of it in the arena: offsets, counts (2 + 2), the accumulator and its histogram.
  CHECK(arena->used() == Summary::arena_bytes(*layout));
  CHECK(arena->used() == 64 + 64 + BumpArena::piece_bytes(sizeof(ContinuousStats)) +
                             BumpArena::piece_bytes((layout->continuous[0].hist_bins + 2) * 8));
  CHECK(arena->owns(in_arena.counts(0).data()));
  CHECK(arena->owns(in_arena.continuous(0).histogram().data()));
  CHECK(arena->owns(&in_arena.continuous(0)));
  CHECK(in_arena == plain);
  // Runs added to both, merged and reset, as the runner does.
  add(plain, 200, 0.2);
  add(in_arena, 200, 0.2);
  CHECK(in_arena == plain);
  Summary other(layout);
  add(other, 400, 0.5);
  plain.merge(other);
  in_arena.merge(other);
  CHECK(in_arena == plain);
  // A copy is on the default allocator; assignment keeps the target's own memory.
  const Summary copy(in_arena);
  CHECK_FALSE(arena->owns(copy.counts(0).data()));
  CHECK_FALSE(arena->owns(copy.continuous(0).histogram().data()));
  CHECK(copy == plain);
  Summary target(Summary(layout), arena);
  target = other;
  CHECK(arena->owns(target.counts(0).data()));
  CHECK(arena->owns(target.continuous(0).histogram().data()));
  CHECK(target == other);
  Summary on_heap(layout);
  on_heap = std::move(target);
  CHECK_FALSE(arena->owns(on_heap.counts(0).data()));
  CHECK(on_heap == other);
  // A move takes the memory (and shares the arena, which then outlives the first holder).
  const std::uint64_t* where = in_arena.counts(0).data();
  Summary moved(std::move(in_arena));
  CHECK(moved.counts(0).data() == where);
  arena.reset();  // the summaries keep it alive
  CHECK(moved == plain);
  in_arena = copy;  // the moved-from one is still usable
  CHECK(in_arena == plain);
  in_arena.reset();
  CHECK(in_arena == Summary(layout));
}
