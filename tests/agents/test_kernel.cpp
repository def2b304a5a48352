// The lane kernel (agents/kernel.hpp): identical records on every lane width and block split,
// and through the one-run interface.
#include "agents/kernel.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/rng.hpp"

#include <catch2/catch.hpp>

#include <pthread.h>

#include <bit>
#include <cstdint>
#include <vector>

using namespace wedge::agents;

namespace {

/// The baseline, a coercive Dulles (threats follow every reward) and sharp factions with a short
/// deadline: between them every branch of a round is taken.
std::vector<Scenario> kernel_scenarios() {
  Scenario coercive;
  coercive.dulles.threat_strength = 2.0;
  coercive.dulles.tact = 0.0;
  Scenario sharp;
  sharp.japan.logit_sharpness = 100.0;
  sharp.negotiation.rounds = 3;
  return {Scenario{}, coercive, sharp};
}

}  // namespace

TEST_CASE("every lane width and every block split gives the same records", "[lanes]") {
  const std::uint32_t n = 30'000;
  int widths_run = 0;
  for (const Scenario& s : kernel_scenarios()) {
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

// One untraced lane skips work its run does not use (play_round<L, true>: agents/rules.hpp and
// agents/round.hpp, "LAZY skip"). Here both paths play the same rounds from the same state and
// draws, round after round of many runs, and every bit of the state and of the events must agree,
// but the realized supports nothing reads where they were skipped (the treaty's with nothing on
// offer, the declaration's with none available). Each skip's condition must occur both ways, so
// that a skip which fires when its value is used cannot pass unseen.
TEST_CASE("one lane's skips (play_round's LAZY) keep every bit of the state and the events",
          "[lanes]") {
  using L = simd::Lanes<1>;
  using D = L::D;
  using M = L::M;
  const auto bits = [](D x) { return std::bit_cast<std::uint64_t>(x[0]); };
  const auto on = [](M m) { return m[0] != 0; };
  // How often each skip's condition held and did not hold: rewarded, coerced, declaration
  // available, something on offer, stalled.
  int held[5][2] = {};
  for (const Scenario& s : kernel_scenarios()) {
    const SupportTable japan(s);
    const Chances chance(s);
    for (std::uint32_t replicate = 0; replicate < 4000; ++replicate) {
      const wedge::engine::LaneStreams<L> streams(wedge::engine::StreamKey{9, 0, replicate});
      const D c = s.dulles.credibility_min + (s.dulles.credibility_max - s.dulles.credibility_min) *
                                                 RunDraws<L>::draw(streams).credibility;
      State<L> eager = State<L>::initial(s, c);
      State<L> lazy = eager;
      const M active = simd::splat_m<L>(true);
      for (int round = 1;; ++round) {
        const D r = simd::splat<L>(round);
        const auto e = play_round<L, false>(s, japan, chance, eager, active, r,
                                            RoundDraws<L>::draw(streams, r));
        const auto z =
            play_round<L, true>(s, japan, chance, lazy, active, r, RoundDraws<L>::draw(streams, r));
        INFO("replicate " << replicate << ", round " << round);
        // The state after the round.
        CHECK(bits(z.alignment_start) == bits(e.alignment_start));
        CHECK(bits(lazy.alignment) == bits(eager.alignment));
        CHECK(on(lazy.straits_clause) == on(eager.straits_clause));
        CHECK(on(lazy.alliance_clause) == on(eager.alliance_clause));
        CHECK(on(lazy.fisheries) == on(eager.fisheries));
        CHECK(bits(lazy.sg_min_islands) == bits(eager.sg_min_islands));
        CHECK(bits(lazy.threat) == bits(eager.threat));
        CHECK(on(lazy.threat_issued) == on(eager.threat_issued));
        // The events.
        CHECK(bits(z.offer.islands) == bits(e.offer.islands));
        CHECK(on(z.declaration_available) == on(e.declaration_available));
        CHECK(bits(z.dulles.estimate) == bits(e.dulles.estimate));
        CHECK(on(z.dulles.rewarded) == on(e.dulles.rewarded));
        CHECK(bits(z.dulles.reward) == bits(e.dulles.reward));
        CHECK(bits(z.dulles.estimate_after) == bits(e.dulles.estimate_after));
        CHECK(on(z.dulles.coerced) == on(e.dulles.coerced));
        CHECK(bits(z.dulles.support_after) == bits(e.dulles.support_after));
        CHECK(bits(z.alignment_after_dulles) == bits(e.alignment_after_dulles));
        const bool offered = e.offer.islands[0] > 0.0;
        const bool available = on(e.declaration_available);
        if (offered) CHECK(bits(z.vote.support_treaty) == bits(e.vote.support_treaty));
        if (available) CHECK(bits(z.vote.support_declaration) == bits(e.vote.support_declaration));
        CHECK(on(z.treaty) == on(e.treaty));
        CHECK(on(z.declaration) == on(e.declaration));
        CHECK(on(z.okinawa_claim) == on(e.okinawa_claim));
        CHECK(on(z.stall.fisheries) == on(e.stall.fisheries));
        CHECK(on(z.stall.shigemitsu_softened) == on(e.stall.shigemitsu_softened));
        CHECK(on(z.stall.cabinet_fell) == on(e.stall.cabinet_fell));
        CHECK(on(z.stall.deadline) == on(e.stall.deadline));
        REQUIRE(on(z.ended) == on(e.ended));
        ++held[0][on(e.dulles.rewarded)];
        ++held[1][on(e.dulles.coerced)];
        ++held[2][available];
        ++held[3][offered || available];
        ++held[4][!on(e.treaty) && !on(e.declaration)];
        if (on(e.ended)) break;
      }
    }
  }
  for (const auto& h : held) {
    CHECK(h[0] > 100);
    CHECK(h[1] > 100);
  }
}
