// The engine's generator (engine/simd/philox.hpp) and its two readers, LaneStreams and Stream,
// against Random123's Philox4x32-10 (the reference implementation) and its known answers.
#include "engine/rng.hpp"

#include <Random123/philox.h>
#include <boost/random/normal_distribution.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <cstring>
#include <set>

using wedge::engine::LaneStreams;
using wedge::engine::Stream;
using wedge::engine::StreamKey;
namespace simd = wedge::engine::simd;

namespace {
using Philox = r123::Philox4x32_R<10>;
std::array<std::uint32_t, 4> philox(std::array<std::uint32_t, 4> ctr,
                                    std::array<std::uint32_t, 2> key) {
  Philox::ctr_type c{{ctr[0], ctr[1], ctr[2], ctr[3]}};
  Philox::key_type k{{key[0], key[1]}};
  const auto out = Philox()(c, k);
  return {out.v[0], out.v[1], out.v[2], out.v[3]};
}
}  // namespace

TEST_CASE("Philox4x32-10 matches Random123's known-answer vectors", "[rng]") {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines: CTR, KEY, expected output.
  CHECK(philox({0, 0, 0, 0}, {0, 0}) ==
        std::array<std::uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        std::array<std::uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        std::array<std::uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("the lane generator equals Random123 at every width", "[rng]") {
  // Pseudo-random counters and keys (a 64-bit LCG), lane by lane, against Random123 itself.
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&x] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(x >> 32);
  };
  auto check_width = [&](auto lanes) {
    using L = decltype(lanes);
    for (int trial = 0; trial < 1000; ++trial) {
      std::array<std::array<std::uint32_t, 4>, L::width> counters{};
      std::array<std::array<std::uint64_t, L::width>, 4> words{};  // word k of lane i: words[k][i]
      for (std::size_t i = 0; i < L::width; ++i) {
        for (std::size_t k = 0; k < 4; ++k) words[k][i] = counters[i][k] = next();
      }
      typename L::U c[4];
      std::memcpy(c, words.data(), sizeof c);
      const simd::Philox<L> gen{c[0], c[1], c[2], c[3]};
      const std::uint32_t k0 = next(), k1 = next();
      typename L::U o0, o1, o2, o3;
      gen.generate(k0, k1, o0, o1, o2, o3);
      for (int i = 0; i < L::width; ++i) {
        const auto want = philox(counters[static_cast<std::size_t>(i)], {k0, k1});
        REQUIRE(std::array<std::uint32_t, 4>{
                    static_cast<std::uint32_t>(o0[i]), static_cast<std::uint32_t>(o1[i]),
                    static_cast<std::uint32_t>(o2[i]), static_cast<std::uint32_t>(o3[i])} == want);
      }
    }
  };
  check_width(simd::Lanes<1>{});
  check_width(simd::Lanes<4>{});
  check_width(simd::Lanes<8>{});
}

TEST_CASE("lane streams lay out key and counter as documented", "[rng]") {
  // Lane i, block b of substream s = Philox(counter (b, s, replicate_i, point), key = seed).
  using L = simd::Lanes<4>;
  const std::uint64_t seed = (1ull << 40) + 7;
  LaneStreams<L> streams(StreamKey{seed, 3, 11});
  streams.assign(2, 0xFFFFFFFFu);
  streams.assign(3, 12);
  const L::U substream{5, 0, 9, 0x85a308d3};
  L::U words[8];
  streams.words(substream, words);
  const std::array<std::uint32_t, 4> replicate{11, 11, 0xFFFFFFFFu, 12};
  for (std::size_t i = 0; i < 4; ++i) {
    const auto s = static_cast<std::uint32_t>(substream[i]);
    for (std::uint32_t b = 0; b < 2; ++b) {
      const auto want = philox({b, s, replicate[i], 3}, {7, 1u << 8});
      for (std::size_t k = 0; k < 4; ++k) REQUIRE(words[4 * b + k][i] == want[k]);
    }
    // The scalar stream of the same run reads the same words in order.
    Stream one(StreamKey{seed, 3, replicate[i]}, s);
    for (std::size_t k = 0; k < 8; ++k) REQUIRE(one() == words[k][i]);
  }
}

TEST_CASE("the stream adapter lays out key and counter as documented", "[rng]") {
  // seed -> key words (lo, hi); counter = (block, substream, replicate, point).
  Stream zero(StreamKey{0, 0, 0});
  CHECK(zero() == 0x6627e8d5);
  CHECK(zero() == 0xe169c58d);
  CHECK(zero() == 0xbc57ac4c);
  CHECK(zero() == 0x9b00dbd8);
  CHECK(zero.words_drawn() == 4);

  Stream pi(StreamKey{0x299f31d0a4093822ull, 0x03707344, 0x13198a2e}, 0x85a308d3);
  // Block counter starts at 0, so this is CTR (0, 0x85a308d3, 0x13198a2e, 0x03707344).
  const auto expected = philox({0, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0});
  for (auto word : expected) CHECK(pi() == word);
  // The fifth word comes from the next block.
  const auto next = philox({1, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0});
  CHECK(pi() == next[0]);
}

TEST_CASE("same key gives the same numbers, and seeking restarts a substream", "[rng]") {
  Stream a(StreamKey{42, 3, 17});
  Stream b(StreamKey{42, 3, 17});
  std::vector<std::uint32_t> first;
  for (int i = 0; i < 100; ++i) {
    first.push_back(a());
    REQUIRE(first.back() == b());
  }
  a.seek_substream(0);
  for (int i = 0; i < 100; ++i) REQUIRE(a() == first[static_cast<std::size_t>(i)]);
}

TEST_CASE("different seeds, points, replicates and substreams give different numbers", "[rng]") {
  auto head = [](Stream s) {
    std::array<std::uint32_t, 8> out{};
    for (auto& w : out) w = s();
    return out;
  };
  std::set<std::array<std::uint32_t, 8>> seen;
  seen.insert(head(Stream(StreamKey{1, 0, 0})));
  seen.insert(head(Stream(StreamKey{2, 0, 0})));
  seen.insert(head(Stream(StreamKey{1ull << 32 | 1, 0, 0})));  // high seed bits count too
  seen.insert(head(Stream(StreamKey{1, 1, 0})));
  seen.insert(head(Stream(StreamKey{1, 0, 1})));
  seen.insert(head(Stream(StreamKey{1, 0, 0}, 1)));
  CHECK(seen.size() == 6);
}

TEST_CASE("uniform() lies in the unit interval with mean 1/2 and variance 1/12",
          "[rng][statistical]") {
  Stream s(StreamKey{7, 0, 0});
  const int n = 200'000;
  double sum = 0.0;
  double sum2 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = s.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    sum2 += u * u;
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  // Within 4 standard errors: sd(U) = 1/sqrt(12); sd(U^2 - ...) approximated by sqrt(1/180).
  CHECK(std::abs(mean - 0.5) < 4.0 * std::sqrt(1.0 / 12.0 / n));
  CHECK(std::abs(var - 1.0 / 12.0) < 4.0 * std::sqrt(1.0 / 180.0 / n));
}

TEST_CASE("Boost's normal distribution over the stream is reproducible and standard",
          "[rng][statistical]") {
  Stream a(StreamKey{9, 1, 2});
  Stream b(StreamKey{9, 1, 2});
  boost::random::normal_distribution<double> normal;
  const int n = 200'000;
  double sum = 0.0;
  double sum2 = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = normal(a);
    REQUIRE(x == normal(b));
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  CHECK(std::abs(mean) < 4.0 / std::sqrt(n));
  CHECK(std::abs(var - 1.0) < 4.0 * std::sqrt(2.0 / n));
}

TEST_CASE("bernoulli(p) saturates at 0 and 1", "[rng]") {
  Stream s(StreamKey{3, 0, 0});
  for (int i = 0; i < 10'000; ++i) {
    REQUIRE_FALSE(s.bernoulli(0.0));
    REQUIRE(s.bernoulli(1.0));
  }
}
