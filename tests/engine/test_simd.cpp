// The SIMD maths (engine/simd/): accuracy against libm, and the distributions' moments.
#include "engine/rng.hpp"
#include "engine/simd/distributions.hpp"
#include "engine/simd/lanes.hpp"
#include "engine/simd/math.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace simd = wedge::engine::simd;
using L = simd::Lanes<1>;
using D = L::D;

TEST_CASE("pow2 is within 1.9e-9 relative of libm's exp2 from -1021 to 1023", "[lanes]") {
  double worst = 0.0;
  for (double t = -1021.0; t <= 1023.0; t += 0.0012345) {
    worst = std::max(worst, std::abs(simd::pow2<L>(D{t})[0] / std::exp2(t) - 1.0));
  }
  CHECK(worst < 1.9e-9);
  CHECK(worst > 1e-10);  // the bound is the polynomial's, not a loose one
  // The exponent goes in exactly: 2^(k + f) / 2^f = 2^k for integers k.
  for (int k = -1000; k <= 1000; k += 37)
    CHECK(simd::pow2<L>(D{k + 0.25})[0] / simd::pow2<L>(D{0.25})[0] == std::ldexp(1.0, k));
}

TEST_CASE("exp is within 2e-9 relative of libm from -707 to 709, and tiny below", "[lanes]") {
  double worst = 0.0;
  for (double x = -707.0; x <= 709.0; x += 0.0012345) {
    worst = std::max(worst, std::abs(simd::exp<L>(D{x})[0] / std::exp(x) - 1.0));
  }
  CHECK(worst < 2e-9);
  CHECK(simd::exp<L>(D{-2000.0})[0] > 0.0);
  CHECK(simd::exp<L>(D{-2000.0})[0] < 1e-306);
}

TEST_CASE("log is within 5e-12 relative of libm between 2^-33 and 1", "[lanes]") {
  double worst = 0.0;
  for (double x = 0x1p-33; x <= 1.0; x *= 1.0137) {
    if (x != 1.0) worst = std::max(worst, std::abs(simd::log<L>(D{x})[0] / std::log(x) - 1.0));
  }
  for (double x = 0.5; x < 1.0; x += 0.000731)
    worst = std::max(worst, std::abs(simd::log<L>(D{x})[0] / std::log(x) - 1.0));
  CHECK(worst < 5e-12);
  CHECK(worst > 1e-12);  // the bound is the polynomial's, not a loose one
  CHECK(simd::log<L>(D{1.0})[0] == 0.0);
}

TEST_CASE("log is within 5e-12 relative of libm over the whole normal range", "[lanes]") {
  // The exponent is read from the bits (the sign bit is 0) and unbiased in the same subtraction
  // that converts it: a wrong bias or a stray high bit shows far from 1, where log x ~ e log 2.
  double worst = 0.0;
  for (double x = 0x1p-1022; x < 0x1p1023; x *= 1.37) {
    if (x > 0.25 && x < 4.0) continue;  // near 1: the test above, relative to a small log
    worst = std::max(worst, std::abs(simd::log<L>(D{x})[0] / std::log(x) - 1.0));
  }
  for (const double x : {0x1p-1022, 0x1.fffffffffffffp1023, 0x1p-33, 0x1p32, 0.5, 2.0}) {
    worst = std::max(worst, std::abs(simd::log<L>(D{x})[0] / std::log(x) - 1.0));
  }
  CHECK(worst < 5e-12);
  // Powers of two: m = 1, so the result is e (log 2's two parts) alone.
  CHECK(simd::log<L>(D{0x1p-1022})[0] == Approx(-1022 * std::log(2.0)).epsilon(1e-15));
  CHECK(simd::log<L>(D{0x1p1023})[0] == Approx(1023 * std::log(2.0)).epsilon(1e-15));
}

TEST_CASE("log's folded scale and power of two give the bits of scaling apart", "[lanes]") {
  // SCALE log(x 2^EXP2) against SCALE * log(x * 2^EXP2): a constant scaled wrongly or a power of
  // two added with the wrong sign shows in the last bits, or far more.
  const auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
  std::mt19937_64 gen(7);
  for (int i = 0; i < 100000; ++i) {
    const double n = static_cast<double>(gen() >> 32) + 0.5;  // w + 1/2, a Box-Muller word's
    CHECK(bits(simd::log<L, -2, -32>(D{n})[0]) == bits(-2.0 * simd::log<L>(D{n * 0x1p-32})[0]));
    const double x = std::ldexp(0.5 + static_cast<double>(gen() >> 11) * 0x1p-54, i % 200 - 100);
    CHECK(bits(simd::log<L, 4, 7>(D{x})[0]) == bits(4.0 * simd::log<L>(D{x * 0x1p7})[0]));
  }
  // The words at the ends: u = 2^-33 (the longest radius) and 1 - 2^-33 (the shortest).
  for (const double n : {0.5, 1.5, 0x1p31 - 0.5, 0x1p31 + 0.5, 0x1p32 - 1.5, 0x1p32 - 0.5}) {
    CHECK(bits(simd::log<L, -2, -32>(D{n})[0]) == bits(-2.0 * simd::log<L>(D{n * 0x1p-32})[0]));
  }
}

TEST_CASE("Box-Muller's radius is sqrt(-2 log u) of the word's uniform, bit for bit", "[lanes]") {
  // box_muller folds -2 and 2^-32 into log: the same bits as the formula written out, at the
  // extreme words (u = 2^-33 and 1 - 2^-33) and at random ones.
  std::mt19937_64 gen(11);
  std::vector<std::uint64_t> words = {0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF};
  for (int i = 0; i < 20000; ++i) words.push_back(gen() >> 32);
  for (const std::uint64_t w : words) {
    D z0, z1, c, s;
    simd::box_muller<L>(L::U{w}, L::U{w ^ 0x5A5A5A5Au}, z0, z1);
    simd::cos_sin_2pi_word<L>(L::U{w ^ 0x5A5A5A5Au}, c, s);
    const double radius = simd::sqrt<L>(-2.0 * simd::log<L>(simd::uniform<L>(L::U{w})))[0];
    CHECK(std::bit_cast<std::uint64_t>(z0[0]) == std::bit_cast<std::uint64_t>(radius * c[0]));
    CHECK(std::bit_cast<std::uint64_t>(z1[0]) == std::bit_cast<std::uint64_t>(radius * s[0]));
  }
}

TEST_CASE("cos and sin of 2 pi u from a word, in single precision, are within 2e-7 of libm",
          "[lanes]") {
  // u = floor(w / 2^6) / 2^26: words across all four quadrants (k * 2^6 + r for every 17th k,
  // r the low bits, which do not count), and every word within 2^12 of a quadrant's edge.
  double worst = 0.0;
  const auto check = [&](std::uint32_t w) {
    D c, s;
    simd::cos_sin_2pi_word<L>(L::U{w}, c, s);
    const double angle = 2.0 * M_PI * static_cast<double>(w >> 6) * 0x1p-26;
    worst = std::max({worst, std::abs(c[0] - std::cos(angle)), std::abs(s[0] - std::sin(angle))});
  };
  for (std::uint32_t k = 0; k < (1u << 26); k += 17) check((k << 6) | (k & 63u));
  for (std::uint32_t edge = 0; edge < 8; ++edge) {
    for (std::uint32_t d = 0; d < (1u << 12); ++d) {
      check(edge * 0x20000000u + d);
      check(edge * 0x20000000u - d - 1);
    }
  }
  CHECK(worst < 2e-7);
  CHECK(worst > 2e-8);  // the bound is float's, not a loose one
  // The quadrant's edges and their neighbours, exactly.
  D c, s;
  simd::cos_sin_2pi_word<L>(L::U{0}, c, s);
  CHECK((c[0] == 1.0 && s[0] == 0.0));
  simd::cos_sin_2pi_word<L>(L::U{0x40000000u}, c, s);  // u = 1/4
  CHECK((c[0] == 0.0 && s[0] == 1.0));
  simd::cos_sin_2pi_word<L>(L::U{0x80000000u}, c, s);  // u = 1/2
  CHECK((c[0] == -1.0 && s[0] == 0.0));
  simd::cos_sin_2pi_word<L>(L::U{0xC0000000u}, c, s);  // u = 3/4
  CHECK((c[0] == 0.0 && s[0] == -1.0));
}

TEST_CASE("cos and sin from words give the same bits one lane at a time and 4 at once", "[lanes]") {
  // Lanes<4, BASELINE> is a Pair of two 2-word vectors, joined into one vector of 4 floats.
  using L4 = simd::Lanes<4, simd::BASELINE>;
  std::mt19937 gen(11);
  for (int trial = 0; trial < 20'000; ++trial) {
    L4::U w4;
    std::uint32_t w[4];
    for (int j = 0; j < 4; ++j)
      simd::set_lane(w4, j, std::uint64_t{w[j] = static_cast<std::uint32_t>(gen())});
    L4::D c4, s4;
    simd::cos_sin_2pi_word<L4>(w4, c4, s4);
    for (int j = 0; j < 4; ++j) {
      D c, s;
      simd::cos_sin_2pi_word<L>(L::U{w[j]}, c, s);
      CHECK(std::bit_cast<std::uint64_t>(c4[j]) == std::bit_cast<std::uint64_t>(c[0]));
      CHECK(std::bit_cast<std::uint64_t>(s4[j]) == std::bit_cast<std::uint64_t>(s[0]));
    }
  }
}

TEST_CASE("the normal CDF is within 1.2e-7 relative of erfc", "[lanes]") {
  double worst = 0.0;
  for (double x = -8.0; x <= 8.0; x += 0.001) {
    const double want = 0.5 * std::erfc(-x / std::sqrt(2.0));
    // Numerical Recipes' bound is on erfc, i.e. relative to Phi(x) for x < 0 and to 1 - Phi(x)
    // reflected through 2 - erfc for x > 0: check the absolute error against the bound times the
    // larger of the two tails.
    worst = std::max(worst, std::abs(simd::normal_cdf<L>(D{x})[0] - want) / std::max(want, 1e-300));
  }
  CHECK(worst < 1.2e-7 + 2e-9);  // erfcc's bound, plus exp's
  CHECK(simd::normal_cdf<L>(D{0.0})[0] == Approx(0.5).epsilon(1e-7));
}

TEST_CASE("the normal CDF is symmetric: Phi(-x) = 1 - Phi(x), the same at -0 and +0", "[lanes]") {
  // |z| is taken from the bits: a wrong mask (or a sign left in) breaks the symmetry at once.
  const auto phi = [](double x) { return simd::normal_cdf<L>(D{x})[0]; };
  CHECK(std::bit_cast<std::uint64_t>(phi(-0.0)) == std::bit_cast<std::uint64_t>(phi(0.0)));
  for (double x = 0.013; x <= 8.0; x += 0.013) {  // (at 0 both sides take erfc(0) ~ 1 + 3e-8)
    CHECK(phi(-x) + phi(x) == Approx(1.0).epsilon(0).margin(1e-15));
    CHECK(phi(-x) <= phi(x));
  }
  // Lanes of either sign side by side give each lane's own bits.
  using L4 = simd::Lanes<4, simd::BASELINE>;
  const L4::D xs{{-1.5, 0.25}, {-0.0, 3.0}};
  const auto four = simd::normal_cdf<L4>(xs);
  for (int i = 0; i < 4; ++i) {
    CHECK(std::bit_cast<std::uint64_t>(simd::lane(four, i)) ==
          std::bit_cast<std::uint64_t>(phi(simd::lane(xs, i))));
  }
}

TEST_CASE("pow2f is within 2.4e-7 relative of libm's exp2 from -125 to 127", "[lanes]") {
  using F = L::F;
  double worst = 0.0;
  for (double t = -125.0; t <= 127.0; t += 0.000123) {
    const float tf = static_cast<float>(t);
    worst = std::max(
        worst,
        std::abs(static_cast<double>(simd::pow2f<L>(F{tf})[0]) / std::exp2(double{tf}) - 1.0));
  }
  CHECK(worst < 2.4e-7);
  CHECK(worst > 1e-7);  // the bound is the polynomial's and float's, not a loose one
  // The exponent goes in exactly: 2^(k + f) / 2^f = 2^k for integers k.
  for (int k = -120; k <= 120; k += 7)
    CHECK(simd::pow2f<L>(F{static_cast<float>(k) + 0.25f})[0] / simd::pow2f<L>(F{0.25f})[0] ==
          std::ldexp(1.0f, k));
}

namespace {
/// sum of w_i / (1 + 2^t_i) in long double (libm's exp2l), t_i clamped to [-25, 25] or not.
long double logistic_sum_exact(const std::vector<double>& w, const std::vector<double>& t,
                               bool clamped) {
  long double sum = 0.0L;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const long double ti = clamped ? std::clamp(t[i], -25.0, 25.0) : t[i];
    sum += w[i] / (1.0L + std::exp2l(ti));
  }
  return sum;
}
/// The single-precision sum at one lane, the weights rounded to float as SupportTable does.
double logistic_sum_float(const std::vector<double>& w, const std::vector<double>& t) {
  simd::LogisticSumFloat<L> sum;
  for (std::size_t i = 0; i < w.size(); ++i) sum.add(static_cast<float>(w[i]), D{t[i]});
  return sum.value()[0];
}
}  // namespace

TEST_CASE("the float logistic sum is within 1e-6 of a long double sum, 1 to 16 terms", "[lanes]") {
  // Random weights (summing to 1) and arguments, a quarter of them beyond the clamp of 25.
  std::mt19937_64 gen(20261130);
  std::uniform_real_distribution<double> unit(0.0, 1.0), arg(-40.0, 40.0);
  double worst = 0.0, worst_clamp = 0.0;
  for (int n : {1, 2, 4, 5, 6, 11, 12, 16}) {
    for (int trial = 0; trial < 20000; ++trial) {
      std::vector<double> w(static_cast<std::size_t>(n)), t(w.size());
      double total = 0.0;
      for (auto& x : w) total += (x = unit(gen));
      for (auto& x : w) x /= total;
      for (auto& x : t) x = trial % 4 == 0 ? arg(gen) : arg(gen) * 0.25;
      const double got = logistic_sum_float(w, t);
      worst = std::max(worst, std::abs(got - static_cast<double>(logistic_sum_exact(w, t, true))));
      worst_clamp = std::max(worst_clamp,
                             std::abs(got - static_cast<double>(logistic_sum_exact(w, t, false))));
    }
  }
  CHECK(worst < 1e-6);
  CHECK(worst > 5e-8);  // float's, not double's: the bound is not a loose one
  // The clamp adds at most 2^-25 (3e-8) to the error against the unclamped sum.
  CHECK(worst_clamp < 1e-6 + 0x1p-25);
}

TEST_CASE("the float logistic sum at the clamped extremes: exact limits, no overflow", "[lanes]") {
  for (int n : {1, 5, 16}) {
    const std::vector<double> w(static_cast<std::size_t>(n), 1.0 / n);
    for (double t : {-25.0, -60.0, -1e300, 25.0, 60.0, 1e300, 0.0}) {
      const std::vector<double> ts(w.size(), t);
      const double got = logistic_sum_float(w, ts);
      CHECK(std::isfinite(got));
      CHECK(got ==
            Approx(static_cast<double>(logistic_sum_exact(w, ts, false))).epsilon(0).margin(1e-6));
    }
    // Alternating extremes: den grows by 2^25 on every other term and is renormalised.
    std::vector<double> ts(w.size());
    for (std::size_t i = 0; i < ts.size(); ++i) ts[i] = i % 2 == 0 ? -30.0 : 30.0;
    CHECK(logistic_sum_float(w, ts) ==
          Approx(static_cast<double>(logistic_sum_exact(w, ts, false))).epsilon(0).margin(1e-6));
  }
}

TEST_CASE("the float logistic sum gives the same bits one lane at a time and 4 at once",
          "[lanes]") {
  // Lanes<4, BASELINE> is a Pair of two 2-double vectors: its arguments are narrowed half by half
  // and joined into one vector of 4 floats, and the result widened back into two halves.
  using L4 = simd::Lanes<4, simd::BASELINE>;
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> unit(0.0, 1.0), arg(-30.0, 30.0);
  for (int n : {1, 5, 16}) {
    for (int trial = 0; trial < 500; ++trial) {
      std::vector<double> w(static_cast<std::size_t>(n));
      double total = 0.0;
      for (auto& x : w) total += (x = unit(gen));
      for (auto& x : w) x /= total;
      simd::LogisticSumFloat<L4> sum4;
      simd::LogisticSumFloat<L> sum1[4];
      for (std::size_t i = 0; i < w.size(); ++i) {
        L4::D t4;
        for (int j = 0; j < 4; ++j) {
          const double t = arg(gen);
          simd::set_lane(t4, j, t);
          sum1[j].add(static_cast<float>(w[i]), D{t});
        }
        sum4.add(static_cast<float>(w[i]), t4);
      }
      const L4::D got = sum4.value();
      for (int j = 0; j < 4; ++j)
        CHECK(std::bit_cast<std::uint64_t>(got[j]) ==
              std::bit_cast<std::uint64_t>(sum1[j].value()[0]));
    }
  }
}

TEST_CASE("a word is below p's threshold exactly where its uniform is below p", "[lanes]") {
  // uniform(w) = (w + 1/2) 2^-32 is increasing in w, so checking the words t - 1 and t decides
  // every word: uniform(w) < p for w < t, not for w >= t.
  constexpr std::uint64_t ALL = std::uint64_t{1} << 32;
  const auto check = [&](double p) {
    const std::uint64_t t = simd::uniform_threshold(p);
    INFO("p = " << p << " (" << std::hexfloat << p << std::defaultfloat << "), t = " << t);
    REQUIRE(t <= ALL);
    if (t > 0) CHECK(simd::uniform<L>(L::U{t - 1})[0] < p);
    if (t < ALL) CHECK_FALSE(simd::uniform<L>(L::U{t})[0] < p);
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (double p : {0.0, -0.0, -1.0, 1.0, 2.0, 1e300, inf, -inf, 0x1p-33, 0x1p-34, 0x1p-1074,
                   0x1.8p-33, 1.0 - 0x1p-33, 1.0 - 0x1p-34, 1.0 - 0x1p-53, 0.5, 0.35, 0.7, 0.05})
    check(p);
  CHECK(simd::uniform_threshold(std::numeric_limits<double>::quiet_NaN()) == 0);
  CHECK(simd::uniform_threshold(1.0) == ALL);
  CHECK(simd::uniform_threshold(0.0) == 0);
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int i = 0; i < 200000; ++i) check(unit(rng));
  // Probabilities at a word's uniform and one ulp either side (the boundaries themselves).
  for (int i = 0; i < 200000; ++i) {
    const double at = simd::uniform<L>(L::U{rng() >> 32})[0];
    check(at);
    check(std::nextafter(at, 0.0));
    check(std::nextafter(at, 1.0));
  }
  // And the words whose uniforms lie half way between two words' (p 2^32 an integer).
  for (int i = 0; i < 200000; ++i) {
    const double whole = static_cast<double>(rng() >> 32) * 0x1p-32;
    check(whole);
    check(std::nextafter(whole, 0.0));
    check(std::nextafter(whole, 1.0));
  }
}

TEST_CASE("below_threshold on 4 lanes agrees with comparing the uniforms", "[lanes]") {
  using L4 = simd::Lanes<4>;
  std::mt19937_64 rng(14);
  std::uniform_real_distribution<double> unit(-0.01, 1.01);
  for (int i = 0; i < 20000; ++i) {
    const double p = unit(rng);
    const std::uint64_t t = simd::uniform_threshold(p);
    const std::uint64_t last = (std::uint64_t{1} << 32) - 1;
    const L4::U w{t == 0 ? 0 : t - 1, std::min(t, last), rng() >> 32, i % 2 == 0 ? 0 : last};
    const L4::M by_word = simd::below_threshold<L4>(w, t);
    const L4::M by_word_lanes = simd::below_threshold<L4>(w, simd::splat_u<L4>(t));
    const L4::M by_uniform = simd::uniform<L4>(w) < p;
    for (int k = 0; k < 4; ++k) {
      INFO("p = " << p << ", word " << w[k]);
      CHECK(by_word[k] == by_uniform[k]);
      CHECK(by_word_lanes[k] == by_uniform[k]);
    }
  }
}

TEST_CASE("Box-Muller normals have mean 0 and variance 1", "[lanes][statistical]") {
  wedge::engine::Stream stream(wedge::engine::StreamKey{4, 0, 0});
  const int n = 200'000;
  double sum = 0.0, sum2 = 0.0;
  for (int i = 0; i < n / 2; ++i) {
    D z0, z1;
    simd::box_muller<L>(L::U{stream()}, L::U{stream()}, z0, z1);
    sum += z0[0] + z1[0];
    sum2 += z0[0] * z0[0] + z1[0] * z1[0];
  }
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  CHECK(std::abs(mean) < 4.0 / std::sqrt(n));
  CHECK(std::abs(var - 1.0) < 4.0 * std::sqrt(2.0 / n));
}

// The refill's lane fills (agents/kernel.hpp): the lanes of a mask, in increasing order, take
// consecutive values; the others keep theirs. Every mask of 4 and 8 lanes (a pair of baseline
// vectors, one portable vector), against a lane-by-lane reference. (The AVX2 and AVX-512 forms
// are checked through the kernels: test_agents' widths give the same records.)
template <class W>
void check_expand() {
  using U = typename W::U;
  std::uint64_t src[W::width];
  for (int i = 0; i < W::width; ++i) src[i] = 1000 + static_cast<std::uint64_t>(i);
  U old{};
  for (int i = 0; i < W::width; ++i) simd::set_lane(old, i, 7 + static_cast<std::uint64_t>(i));
  for (std::uint32_t b = 0; b < (1u << W::width); ++b) {
    const U loaded = simd::expand<W>(old, b, src);
    const U counted = simd::expand_count<W>(old, b, 500);
    for (int i = 0, k = 0; i < W::width; ++i) {
      const bool set = (b >> i & 1u) != 0;
      CHECK(simd::lane(loaded, i) == (set ? src[k] : 7 + static_cast<std::uint64_t>(i)));
      CHECK(simd::lane(counted, i) ==
            (set ? 500 + static_cast<std::uint64_t>(k) : 7 + static_cast<std::uint64_t>(i)));
      if (set) ++k;
    }
  }
}

TEST_CASE("expand fills a mask's lanes in order from consecutive values", "[lanes]") {
  check_expand<simd::Lanes<1>>();
  check_expand<simd::Lanes<4, simd::BASELINE>>();
  check_expand<simd::Lanes<8>>();
}
