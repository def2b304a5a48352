// The lane kernel (agents/kernel.hpp): identical records on every lane width and block split,
// and through the one-run interface.
#include "agents/kernel.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/rng.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace wedge::agents;

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
    for (int width : KERNEL_WIDTHS) {
      if (width == 1) continue;
      std::vector<RunRecord> wide(n);
      if (!run_block_width(width, s, 77, 2, 5000, n, wide.data())) continue;  // CPU lacks it
      ++widths_run;
      for (std::uint32_t i = 0; i < n; ++i) REQUIRE(wide[i] == one[i]);
    }
    std::vector<RunRecord> split(n);
    for (std::uint32_t k = 0; k < n; k += 999)
      run_block(s, 77, 2, 5000 + k, std::min(999u, n - k), split.data() + k);
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(split[i] == one[i]);
    // And the per-run interface gives the same record.
    wedge::engine::Stream stream(wedge::engine::StreamKey{77, 2, 5000 + 1234});
    CHECK(TugOfWar::run(s, stream) == one[1234]);
  }
  WARN("lane widths compared with width 1 on this CPU: " << widths_run / 3
                                                         << " (kernel: " << kernel_name() << ")");
}
