// The lane arithmetic (agents/lanes.hpp): accuracy against libm, the vector Philox against
// Random123, and identical records on every lane width.
#include "agents/kernel.hpp"
#include "agents/lanes.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/rng.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace wedge::agents;
using L = simd::Lanes<1>;
using D = L::D;

namespace {
double ulp_error(double got, double want) {
  return std::abs(got - want) / (std::nextafter(std::abs(want), INFINITY) - std::abs(want));
}
}  // namespace

TEST_CASE("exp is within 2 ulp of libm from -708 to 708", "[lanes]") {
  double worst = 0.0;
  for (double x = -708.0; x <= 708.0; x += 0.01234567) {
    worst = std::max(worst, ulp_error(simd::exp<L>(D{x})[0], std::exp(x)));
  }
  CHECK(worst <= 2.0);
  CHECK(simd::exp<L>(D{0.0})[0] == 1.0);
  CHECK(simd::exp<L>(D{1000.0})[0] == simd::exp<L>(D{708.0})[0]);  // clamped
}

TEST_CASE("log is within 2 ulp of libm between 2^-33 and 1", "[lanes]") {
  double worst = 0.0;
  for (double x = 0x1p-33; x <= 1.0; x *= 1.0137) worst = std::max(worst, ulp_error(simd::log<L>(D{x})[0], std::log(x)));
  for (double x = 0.5; x < 1.0; x += 0.000731) {
    const double want = std::log(x);
    worst = std::max(worst, std::abs(simd::log<L>(D{x})[0] - want) / 0x1p-53);  // near 1: absolute
  }
  CHECK(worst <= 2.0);
  CHECK(simd::log<L>(D{1.0})[0] == 0.0);
}

TEST_CASE("cos and sin of 2 pi u are within 1e-15 of libm", "[lanes]") {
  double worst = 0.0;
  for (double u = 0.0; u < 1.0; u += 0.000123456) {
    D c, s;
    simd::cos_sin_2pi<L>(D{u}, c, s);
    worst = std::max({worst, std::abs(c[0] - std::cos(2 * M_PI * u)), std::abs(s[0] - std::sin(2 * M_PI * u))});
  }
  CHECK(worst < 1e-15);
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
  CHECK(worst < 1.2e-7);
  CHECK(simd::normal_cdf<L>(D{0.0})[0] == Approx(0.5).epsilon(1e-7));
}

TEST_CASE("the weighted logistic sum equals the direct sum", "[lanes]") {
  const double w[5] = {0.35, 0.25, 0.15, 0.15, 0.10};
  for (double shift : {-80.0, -3.0, -0.5, 0.0, 0.7, 2.5, 80.0}) {
    D x[5];
    double want = 0.0;
    for (int i = 0; i < 5; ++i) {
      const double xi = shift + 0.37 * i - 0.6;
      x[i] = D{xi};
      want += w[i] / (1.0 + std::exp(-xi));
    }
    CHECK(simd::weighted_logistic_sum<L>(x, w)[0] == Approx(want).epsilon(1e-14).margin(1e-25));
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

TEST_CASE("the vector Philox matches Random123 and the engine's stream", "[lanes][rng]") {
  simd::Philox<L> philox;
  philox.c0 = L::U{0x243f6a88};
  philox.c1 = L::U{0x85a308d3};
  philox.c2 = L::U{0x13198a2e};
  philox.c3 = L::U{0x03707344};
  L::U o0, o1, o2, o3;
  philox.generate(0xa4093822, 0x299f31d0, o0, o1, o2, o3);
  CHECK(o0[0] == 0xd16cfe09);
  CHECK(o1[0] == 0x94fdcceb);
  CHECK(o2[0] == 0x5001e420);
  CHECK(o3[0] == 0x24126ea1);
  // Block 1 of substream 5 of run (seed 2^40 + 7, point 3, replicate 11) = engine::Stream's words 4-7.
  wedge::engine::Stream stream(wedge::engine::StreamKey{(1ull << 40) + 7, 3, 11}, 5);
  for (int i = 0; i < 4; ++i) stream();
  philox.c0 = L::U{1};
  philox.c1 = L::U{5};
  philox.c2 = L::U{11};
  philox.c3 = L::U{3};
  philox.generate(7, 1u << 8, o0, o1, o2, o3);
  CHECK(o0[0] == stream());
  CHECK(o1[0] == stream());
  CHECK(o2[0] == stream());
  CHECK(o3[0] == stream());
}

TEST_CASE("every lane width and every block split gives the same records", "[lanes]") {
  Scenario coercive;
  coercive.dulles.threat_strength = 2.0;
  coercive.dulles.tact = 0.0;
  Scenario sharp;
  sharp.japan.logit_sharpness = 100.0;
  sharp.negotiation.rounds = 3;
  const std::uint32_t n = 30'000;
  int widths_run = 0;
  for (const Scenario& s : {Scenario{}, coercive, sharp}) {
    std::vector<RunRecord> one(n);
    REQUIRE(run_block_width(1, s, 77, 2, 5000, n, one.data()));
    for (int width : {4, 8}) {
      std::vector<RunRecord> wide(n);
      if (!run_block_width(width, s, 77, 2, 5000, n, wide.data())) continue;  // CPU lacks it
      ++widths_run;
      for (std::uint32_t i = 0; i < n; ++i) REQUIRE(wide[i] == one[i]);
    }
    std::vector<RunRecord> split(n);
    for (std::uint32_t k = 0; k < n; k += 999) run_block(s, 77, 2, 5000 + k, std::min(999u, n - k), split.data() + k);
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(split[i] == one[i]);
    // And the per-run interface gives the same record.
    wedge::engine::Stream stream(wedge::engine::StreamKey{77, 2, 5000 + 1234});
    CHECK(TugOfWar::run(s, stream) == one[1234]);
  }
  WARN("lane widths compared with width 1 on this CPU: " << widths_run / 3 << " (kernel: " << kernel_name() << ")");
}
