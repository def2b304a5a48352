// The lane kernel (agents/kernel.hpp): identical records on every lane width and block split,
// and through the one-run interface.
#include "agents/kernel.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/rng.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>

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

// Each width's stack use must not grow with the runs of a block: GCC 12 once left two argument
// slots unpopped per round in the one-lane kernel's loop (agents/kernel.cpp, run_portable), and a
// block of ~146,000 runs overflowed an 8 MB stack. Here every width runs a block of 20,000 runs
// (the old one-lane kernel needed ~1.1 MB of stack for it) on a thread with a 512 KB stack.
TEST_CASE("a block's stack use does not grow with its runs", "[lanes]") {
  struct Job {
    int width;
    std::vector<RunRecord> out;
    bool ran = false;
  };
  for (int width : KERNEL_WIDTHS) {
    Job job{width, std::vector<RunRecord>(20'000)};
    pthread_attr_t attr;
    REQUIRE(pthread_attr_init(&attr) == 0);
    REQUIRE(pthread_attr_setstacksize(&attr, 512 * 1024) == 0);
    pthread_t thread;
    const auto body = [](void* arg) -> void* {
      auto* j = static_cast<Job*>(arg);
      j->ran = run_block_width(j->width, Scenario{}, 5, 0, 0,
                               static_cast<std::uint32_t>(j->out.size()), j->out.data());
      return nullptr;
    };
    REQUIRE(pthread_create(&thread, &attr, body, &job) == 0);
    REQUIRE(pthread_join(thread, nullptr) == 0);
    pthread_attr_destroy(&attr);
    if (!job.ran) continue;  // this CPU lacks the width
    std::uint32_t rounds = 0;
    for (const RunRecord& r : job.out) rounds += r.rounds;
    CHECK(rounds > job.out.size());  // the records were written (runs last >= 1 round, most more)
  }
}
