#include "agents/params.hpp"
#include "experiments/designs.hpp"
#include "experiments/experiment.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <set>

using namespace wedge;
using namespace wedge::experiments;

TEST_CASE("the unscrambled Sobol sequence equals the reference, from its all-zero first point",
          "[designs]") {
  // Joe-Kuo / Bratley-Fox directions; Boost's engine starts at index 1, index 0 is the origin.
  const auto x = sobol_sequence(8, 2);
  const std::vector<double> expected{0,     0,     0.5,   0.5,   0.75,  0.25,  0.25,  0.75,
                                     0.375, 0.375, 0.875, 0.875, 0.625, 0.125, 0.125, 0.625};
  REQUIRE(x.size() == expected.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    CHECK(static_cast<double>(x[i]) * 0x1.0p-32 == expected[i]);
}

namespace {
/// Number of distinct rows of a row-major table with d columns.
std::size_t distinct_rows(const std::vector<double>& u, std::size_t d) {
  std::set<std::vector<double>> rows;
  for (std::size_t i = 0; i < u.size(); i += d)
    rows.emplace(u.begin() + static_cast<std::ptrdiff_t>(i),
                 u.begin() + static_cast<std::ptrdiff_t>(i + d));
  return rows.size();
}
}  // namespace

TEST_CASE("scrambled Sobol points keep the sequence's balance and depend on the seed alone",
          "[designs]") {
  const std::uint64_t n = 64;
  const std::size_t d = 5;
  const auto u = sobol_points(n, d, 13);
  REQUIRE(u.size() == n * d);
  // 2^m scrambled Sobol points are still a net: in each dimension, one point in each of the n
  // strata [i/n, (i+1)/n), and in each pair of the first two dimensions one in each of the 8 x 8
  // boxes (Sobol's first two coordinates form a (0, m, 2)-net).
  for (std::size_t k = 0; k < d; ++k) {
    std::set<std::uint64_t> strata;
    for (std::uint64_t i = 0; i < n; ++i) {
      REQUIRE(u[i * d + k] >= 0.0);
      REQUIRE(u[i * d + k] < 1.0);
      strata.insert(static_cast<std::uint64_t>(u[i * d + k] * static_cast<double>(n)));
    }
    CHECK(strata.size() == n);
  }
  std::set<std::pair<int, int>> boxes;
  for (std::uint64_t i = 0; i < n; ++i)
    boxes.emplace(static_cast<int>(u[i * d] * 8), static_cast<int>(u[i * d + 1] * 8));
  CHECK(boxes.size() == 64);
  // Nothing of the unscrambled sequence's leading points is left: no origin, no (1/2, ..., 1/2).
  for (std::uint64_t i = 0; i < n; ++i) {
    bool all_zero = true, all_half = true;
    for (std::size_t k = 0; k < d; ++k) {
      all_zero = all_zero && u[i * d + k] == 0.0;
      all_half = all_half && u[i * d + k] == 0.5;
    }
    CHECK_FALSE(all_zero);
    CHECK_FALSE(all_half);
  }
  CHECK(sobol_points(n, d, 13) == u);
  CHECK_FALSE(sobol_points(n, d, 14) == u);
  CHECK(distinct_rows(u, d) == n);
}

TEST_CASE("a Latin hypercube puts one point in every stratum of every dimension", "[designs]") {
  const std::uint64_t n = 64;
  const std::size_t d = 4;
  const auto u = latin_hypercube(n, d, 11);
  REQUIRE(u.size() == n * d);
  for (std::size_t k = 0; k < d; ++k) {
    std::set<std::uint64_t> strata;
    for (std::uint64_t i = 0; i < n; ++i) {
      const double x = u[i * d + k];
      REQUIRE(x >= 0.0);
      REQUIRE(x < 1.0);
      strata.insert(static_cast<std::uint64_t>(x * static_cast<double>(n)));
    }
    CHECK(strata.size() == n);
  }
  CHECK(latin_hypercube(n, d, 11) == u);  // determined by the seed
  CHECK_FALSE(latin_hypercube(n, d, 12) == u);
}

TEST_CASE("the Saltelli layout is A, AB_1..AB_d, B for each base point", "[designs]") {
  const std::uint64_t n = 8;
  const std::size_t d = 3;
  const auto base = sobol_points(n, 2 * d, 5);
  const auto u = saltelli_points(n, d, 5);
  REQUIRE(u.size() == n * (d + 2) * d);
  for (std::uint64_t j = 0; j < n; ++j) {
    const double* a = &base[j * 2 * d];
    const double* b = a + d;
    const double* rows = &u[j * (d + 2) * d];
    for (std::size_t c = 0; c < d; ++c) {
      CHECK(rows[c] == a[c]);                // A_j
      CHECK(rows[(d + 1) * d + c] == b[c]);  // B_j
      for (std::size_t k = 0; k < d; ++k) {  // AB_j^(k): A with column k from B
        CHECK(rows[(1 + k) * d + c] == (c == k ? b[c] : a[c]));
      }
    }
  }
}

TEST_CASE("no two rows of a Saltelli design are equal", "[designs]") {
  // The unscrambled sequence gave the shipped binding_saltelli.toml (32 base points, 3 keys) 142
  // distinct rows of 160: its first base point has A = B = (1/2, 1/2, 1/2), and A_j and B_j share
  // a coordinate at 12 more base points (AB_j^(k) = A_j). Skipping leading points does not cure
  // the coincidences (skipping 32 still leaves 4 duplicates); scrambling does.
  const auto raw = sobol_sequence(33, 6);  // the old design took indices 1..32
  std::vector<double> unscrambled;
  for (std::uint64_t j = 1; j <= 32; ++j) {
    const std::uint32_t* a = &raw[j * 6];
    for (std::size_t row = 0; row < 5; ++row) {
      for (std::size_t c = 0; c < 3; ++c) {
        const bool from_b = row == 4 || (row >= 1 && row <= 3 && c == row - 1);
        unscrambled.push_back(static_cast<double>(from_b ? a[3 + c] : a[c]));
      }
    }
  }
  CHECK(distinct_rows(unscrambled, 3) == 142);
  CHECK(distinct_rows(saltelli_points(32, 3, 17), 3) == 160);
  for (std::size_t d : {2u, 3u, 5u, 8u}) {
    for (std::uint64_t n : {1u, 7u, 64u, 1000u}) {
      for (std::uint64_t seed : {0u, 1u, 17u}) {
        INFO("d = " << d << ", n = " << n << ", seed = " << seed);
        CHECK(distinct_rows(saltelli_points(n, d, seed), d) == n * (d + 2));
      }
    }
  }
}

TEST_CASE("unit coordinates map to real, integer and boolean keys", "[designs]") {
  const auto& real = agents::require_parameter("dulles.tact");
  CHECK(map_unit(real, 0.2, 0.6, 0.5) == Approx(0.4));
  const auto& rounds = agents::require_parameter("negotiation.rounds");
  std::set<double> seen;
  for (int i = 0; i < 100; ++i) seen.insert(map_unit(rounds, 2, 5, (i + 0.5) / 100.0));
  CHECK(seen == std::set<double>{2, 3, 4, 5});  // every integer, equally often by construction
  const auto& islands = agents::require_parameter("japan.factions.SG.min_islands");
  seen.clear();
  for (int i = 0; i < 99; ++i) seen.insert(map_unit(islands, 0, 4, (i + 0.5) / 99.0));
  CHECK(seen == std::set<double>{0, 2, 4});  // only the valid values
  const auto& flag = agents::require_parameter("soviet.straits_clause");
  CHECK(map_unit(flag, 0, 1, 0.49) == 0.0);
  CHECK(map_unit(flag, 0, 1, 0.5) == 1.0);
}

TEST_CASE("a grid is the full factorial, the last key varying fastest", "[designs]") {
  Experiment e;
  e.sweep.design = Design::grid;
  e.sweep.keys = {SweepKey{"dulles.threat_strength", {0.0, 1.0, 2.0}, 0, 0, 0, false},
                  SweepKey{"soviet.straits_clause", {0.0, 1.0}, 0, 0, 0, false}};
  resolve_design(e);
  REQUIRE(e.points.size() == 6);
  CHECK(e.values[0] == std::vector<double>{0.0, 0.0});
  CHECK(e.values[1] == std::vector<double>{0.0, 1.0});
  CHECK(e.values[5] == std::vector<double>{2.0, 1.0});
  CHECK(e.points[3].dulles.threat_strength == 1.0);
  CHECK(e.points[3].soviet.straits_clause == true);
  CHECK(e.points[2].soviet.straits_clause == false);
}

TEST_CASE("Sobol and Saltelli points that are not a power of two give a warning", "[designs]") {
  for (Design design : {Design::sobol, Design::saltelli, Design::lhs}) {
    for (std::uint64_t points : {64u, 100u, 1u}) {
      Experiment e;
      e.sweep.design = design;
      e.sweep.points = points;
      e.sweep.keys = {SweepKey{"dulles.tact", {}, 0.0, 1.0, 0, true},
                      SweepKey{"dulles.backlash", {}, 0.0, 0.3, 0, true}};
      resolve_design(e);
      INFO(design_name(design) << " " << points);
      if (design == Design::lhs || points != 100) {
        CHECK(e.warnings.empty());
      } else {
        REQUIRE(e.warnings.size() == 1);
        CHECK(
            e.warnings[0] ==
            fmt::format("{} design: points = 100 is not a power of two; Sobol points are balanced "
                        "only in powers of two, so 64 or 128 would be better{}",
                        design_name(design), design == Design::saltelli ? " (base points)" : ""));
      }
    }
  }
}

TEST_CASE("LHS and Sobol designs respect integer and boolean keys at every point", "[designs]") {
  for (Design design : {Design::lhs, Design::sobol, Design::saltelli}) {
    Experiment e;
    e.sweep.design = design;
    e.sweep.points = 16;
    e.sweep.keys = {SweepKey{"negotiation.rounds", {}, 3, 9, 0, true},
                    SweepKey{"soviet.alliance_clause", {}, 0, 1, 0, true},
                    SweepKey{"dulles.tact", {}, 0.25, 0.75, 0, true}};
    resolve_design(e);
    std::set<bool> flags;
    for (std::size_t p = 0; p < e.points.size(); ++p) {
      const auto& s = e.points[p];
      CHECK(s.negotiation.rounds >= 3);
      CHECK(s.negotiation.rounds <= 9);
      CHECK(static_cast<double>(s.negotiation.rounds) == e.values[p][0]);
      CHECK(s.dulles.tact >= 0.25);
      CHECK(s.dulles.tact <= 0.75);
      flags.insert(s.soviet.alliance_clause);
    }
    CHECK(flags.size() == 2);
  }
}
