#include "agents/params.hpp"
#include "experiments/designs.hpp"
#include "experiments/experiment.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace wedge;
using namespace wedge::experiments;

TEST_CASE("Sobol points equal the reference sequence", "[designs]") {
  // The 2-D Sobol sequence without its all-zero first point (Joe-Kuo / Bratley-Fox directions).
  const auto u = sobol_points(7, 2);
  const std::vector<double> expected{0.5,   0.5,   0.75,  0.25,  0.25,  0.75,  0.375,
                                     0.375, 0.875, 0.875, 0.625, 0.125, 0.125, 0.625};
  CHECK(u == expected);
  // One dimension: the van der Corput sequence in base 2.
  CHECK(sobol_points(4, 1) == std::vector<double>{0.5, 0.75, 0.25, 0.375});
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
  CHECK(latin_hypercube(n, d, 11) == u);      // determined by the seed
  CHECK_FALSE(latin_hypercube(n, d, 12) == u);
}

TEST_CASE("the Saltelli layout is A, AB_1..AB_d, B for each base point", "[designs]") {
  const std::uint64_t n = 8;
  const std::size_t d = 3;
  const auto base = sobol_points(n, 2 * d);
  const auto u = saltelli_points(n, d);
  REQUIRE(u.size() == n * (d + 2) * d);
  for (std::uint64_t j = 0; j < n; ++j) {
    const double* a = &base[j * 2 * d];
    const double* b = a + d;
    const double* rows = &u[j * (d + 2) * d];
    for (std::size_t c = 0; c < d; ++c) {
      CHECK(rows[c] == a[c]);                   // A_j
      CHECK(rows[(d + 1) * d + c] == b[c]);     // B_j
      for (std::size_t k = 0; k < d; ++k) {     // AB_j^(k): A with column k from B
        CHECK(rows[(1 + k) * d + c] == (c == k ? b[c] : a[c]));
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
