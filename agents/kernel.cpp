// The portable kernels, compiled for the baseline instruction set of the target (no -m flag): 4
// lanes in two groups of 2 (simd::BASELINE: SSE2 on x86-64) for blocks on CPUs without AVX2, and
// one lane for the one-run paths (TugOfWar::run, the trace); the runtime dispatch to the SIMD
// kernels (kernel_avx2.cpp: 8 lanes, two groups of 4; kernel_avx512.cpp: 16 lanes, two groups of
// 8). Every width gives the same bits.
#include "agents/kernel.hpp"

#include "agents/tug_of_war.hpp"

namespace wedge::agents {

#if WEDGE_HAVE_SIMD_KERNELS
void run_block_avx512(const Scenario& s, const engine::StreamKey& first, std::uint32_t count,
                      RunRecord* out);
void run_block_avx2(const Scenario& s, const engine::StreamKey& first, std::uint32_t count,
                    RunRecord* out);
#endif

SupportTable::SupportTable(const Scenario& s) {
  const Factions& factions = s.japan.factions;
  count = factions.count;
  softens = factions.softens >= 0 ? static_cast<std::size_t>(factions.softens) : count;
  double total = 0.0;
  for (std::size_t f = 0; f < count; ++f) total += factions.list[f].weight;
  const double scale = s.japan.logit_sharpness * 1.4426950408889634;  // lambda log2(e)
  for (std::size_t f = 0; f < count; ++f) {
    const Faction& faction = factions.list[f];
    weight[f] = faction.weight / total;
    min_islands[f] = faction.min_islands;
    territory[f] = scale * faction.territory * 0.25;
    side[0][f] = scale * (faction.side * s.soviet.carrots);
    side[1][f] = scale * (faction.side * s.soviet.carrots * (1.0 + s.soviet.fisheries_boost));
    alliance[f] = scale * faction.alliance;
    okinawa[f] = scale * faction.okinawa;
  }
}

namespace {

using Portable = simd::Lanes<1>;
using Baseline = simd::Lanes<4, simd::BASELINE>;

bool cpu_has_avx512() {
#if WEDGE_HAVE_SIMD_KERNELS
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
  return yes;
#else
  return false;
#endif
}

bool cpu_has_avx2() {
#if WEDGE_HAVE_SIMD_KERNELS
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
#else
  return false;
#endif
}

struct Tracker {
  static constexpr bool enabled = true;
  Trace* trace;
  void start(double credibility) { trace->credibility = credibility; }
  void round(const RoundTrace& t) { trace->rounds.push_back(t); }
};

/// The streams of replicates [rep_begin, rep_begin + count): the engine keeps rep_begin + count
/// <= 2^32 (engine::MAX_REPLICATES), so a replicate index fits the key's 32 bits.
engine::StreamKey first_key(std::uint64_t seed, std::uint32_t stream_point,
                            std::uint64_t rep_begin) {
  return {seed, stream_point, static_cast<std::uint32_t>(rep_begin)};
}

// Both flattened (the round and its rules inlined into the loop, as the SIMD kernels' are): GCC
// passes the one-element vectors of a Lanes<1> on the stack to a call it does not inline (the
// -Wpsabi case), and GCC 12 at -O3 left those argument slots unpopped in run_lanes's loop, 16
// bytes a call, two calls a round: the stack grew with every round of a block until it overflowed
// (~146,000 runs in one block), besides the stores and reloads.
[[gnu::flatten]] void run_portable(const Scenario& s, const engine::StreamKey& first,
                                   std::uint32_t count, RunRecord* out) {
  NullTracer none;
  kernel::run_lanes<Portable>(s, first, count, out, none);
}

[[gnu::flatten]] void run_baseline(const Scenario& s, const engine::StreamKey& first,
                                   std::uint32_t count, RunRecord* out) {
  NullTracer none;
  kernel::run_lanes<Baseline>(s, first, count, out, none);
}

}  // namespace

bool run_block_width(int width, const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
                     std::uint64_t rep_begin, std::uint32_t count, RunRecord* out) {
  const auto first = first_key(seed, stream_point, rep_begin);
  switch (width) {
    case 1:
      run_portable(s, first, count, out);
      return true;
    case 4:
      run_baseline(s, first, count, out);
      return true;
#if WEDGE_HAVE_SIMD_KERNELS
    case 8:
      if (!cpu_has_avx2()) return false;
      run_block_avx2(s, first, count, out);
      return true;
    case 16:
      if (!cpu_has_avx512()) return false;
      run_block_avx512(s, first, count, out);
      return true;
#endif
    default:
      return false;
  }
}

void run_block(const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
               std::uint64_t rep_begin, std::uint32_t count, RunRecord* out) {
  const auto first = first_key(seed, stream_point, rep_begin);
#if WEDGE_HAVE_SIMD_KERNELS
  if (cpu_has_avx512()) {
    run_block_avx512(s, first, count, out);
    return;
  }
  if (cpu_has_avx2()) {
    run_block_avx2(s, first, count, out);
    return;
  }
#endif
  run_baseline(s, first, count, out);
}

const char* kernel_name() {
  return cpu_has_avx512() ? "avx512 (16 lanes: 2 groups of 8)"
         : cpu_has_avx2() ? "avx2 (8 lanes: 2 groups of 4)"
                          : "portable (4 lanes: 2 groups of 2)";
}

RunRecord TugOfWar::run(const Scenario& s, engine::Stream& stream) {
  RunRecord r;
  run_portable(s, stream.key(), 1, &r);
  return r;
}

Trace trace_run(const Scenario& s, const engine::StreamKey& key) {
  Trace trace;
  Tracker tracker{&trace};
  kernel::run_lanes<Portable>(s, key, 1, &trace.record, tracker);
  return trace;
}

}  // namespace wedge::agents
