// The SIMD maths (engine/simd/): accuracy against libm, and the distributions' moments.
#include "engine/rng.hpp"
#include "engine/simd/distributions.hpp"
#include "engine/simd/lanes.hpp"
#include "engine/simd/math.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

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

TEST_CASE("log is within 4e-14 relative of libm between 2^-33 and 1", "[lanes]") {
  double worst = 0.0;
  for (double x = 0x1p-33; x <= 1.0; x *= 1.0137) {
    if (x != 1.0) worst = std::max(worst, std::abs(simd::log<L>(D{x})[0] / std::log(x) - 1.0));
  }
  for (double x = 0.5; x < 1.0; x += 0.000731)
    worst = std::max(worst, std::abs(simd::log<L>(D{x})[0] / std::log(x) - 1.0));
  CHECK(worst < 4e-14);
  CHECK(simd::log<L>(D{1.0})[0] == 0.0);
}

TEST_CASE("cos and sin of 2 pi u are within 1e-11 of libm", "[lanes]") {
  double worst = 0.0;
  for (double u = 0.0; u < 1.0; u += 0.000123456) {
    D c, s;
    simd::cos_sin_2pi<L>(D{u}, c, s);
    worst = std::max(
        {worst, std::abs(c[0] - std::cos(2 * M_PI * u)), std::abs(s[0] - std::sin(2 * M_PI * u))});
  }
  CHECK(worst < 1e-11);
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

TEST_CASE("the logistic sum equals the direct sum for 1 to 16 terms", "[lanes]") {
  for (int n : {1, 2, 5, 12, 16}) {
    for (double shift : {-80.0, -3.0, -0.5, 0.0, 0.7, 2.5, 80.0}) {
      simd::LogisticSum<L> sum;
      double want = 0.0;
      for (int i = 0; i < n; ++i) {
        const double w = 1.0 / n;
        const double t = shift + 0.37 * i - 0.6;  // 1 / (1 + 2^t)
        sum.add(w, D{t});
        want += w / (1.0 + std::exp2(std::clamp(t, -60.0, 60.0)));
      }
      // Each term within 1.9e-9 / 4 (pow2's error), and no overflow at 16 terms of 2^60.
      CHECK(sum.value()[0] == Approx(want).epsilon(0).margin(5e-10));
      CHECK(std::isfinite(sum.value()[0]));
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
