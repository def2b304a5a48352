// The portable kernels, compiled for the baseline instruction set of the target (no -m flag): 4
// lanes in two groups of 2 (simd::BASELINE: SSE2 on x86-64) for blocks on CPUs without AVX2, and
// one lane for the one-run paths (TugOfWar::run, the trace); the runtime dispatch to the SIMD
// kernels (kernel_avx2.cpp: 8 lanes, two groups of 4; kernel_avx512.cpp: 16 lanes, two groups of
// 8). Every width gives the same bits.
#include "agents/kernel.hpp"

#include "agents/tug_of_war.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace wedge::agents {

#if WEDGE_HAVE_SIMD_KERNELS
void run_block_avx512(const Scenario& s, const engine::StreamKey& first, std::uint32_t count,
                      RunRecord* out);
void run_block_avx2(const Scenario& s, const engine::StreamKey& first, std::uint32_t count,
                    RunRecord* out);
#endif

namespace {

/// A coefficient of t_f as computed, or, when the product of in-range values overflowed (a
/// salience near the largest double, MODEL.md §4 allows any finite value >= 0): 0 if a factor is
/// 0 (lambda = 0 or a salience of 0: the term is 0, where inf * 0 gave NaN), else
/// MAX_COEFFICIENT. With each coefficient at most 2^1000 and the state's factors bounded
/// (|m_f - T| <= 4, q <= 1, A <= 1), no term of t_f but the exposure's is infinite, and that one
/// only positive: t_f is never inf - inf, so a support is never NaN; a term this large decides its
/// faction's logistic (0 or 1) as the exact value would. Products up to 2^1000 (every scenario
/// short of such extremes) are kept bit for bit.
constexpr double MAX_COEFFICIENT = 0x1p1000;
double coefficient(double product, std::initializer_list<double> factors) {
  if (std::isfinite(product)) return std::min(product, MAX_COEFFICIENT);
  for (double x : factors)
    if (x == 0.0) return 0.0;
  return MAX_COEFFICIENT;
}

}  // namespace

SupportTable::SupportTable(const Scenario& s) {
  const Factions& factions = s.japan.factions;
  count = factions.count;
  softens = factions.softens >= 0 ? static_cast<std::size_t>(factions.softens) : count;
  double total = 0.0;
  for (std::size_t f = 0; f < count; ++f) total += factions.list[f].weight;
  // Weights whose sum overflows (each finite, MODEL.md §4): normalised at 2^-64 of their size,
  // exactly (a power of two), instead of dividing by inf (every weight 0, support 0).
  double shrink = 1.0;
  if (!std::isfinite(total)) {
    shrink = 0x1p-64;
    total = 0.0;
    for (std::size_t f = 0; f < count; ++f) total += factions.list[f].weight * shrink;
  }
  const double lambda = s.japan.logit_sharpness;
  const double scale = lambda * 1.4426950408889634;  // lambda log2(e)
  const double carrots = s.soviet.carrots;
  const double boost = 1.0 + s.soviet.fisheries_boost;
  for (std::size_t f = 0; f < count; ++f) {
    const Faction& faction = factions.list[f];
    weight_float[f] = static_cast<float>(faction.weight * shrink / total);
    min_islands[f] = faction.min_islands;
    territory[f] = coefficient(scale * faction.territory * 0.25, {lambda, faction.territory});
    side[0][f] = coefficient(scale * (faction.side * carrots), {lambda, faction.side, carrots});
    side[1][f] =
        coefficient(scale * (faction.side * carrots * boost), {lambda, faction.side, carrots});
    alliance[f] = coefficient(scale * faction.alliance, {lambda, faction.alliance});
    okinawa[f] = coefficient(scale * faction.okinawa, {lambda, faction.okinawa});
  }
}

Chances::Chances(const Scenario& s)
    : straits_drop(simd::uniform_threshold(s.soviet.straits_drop_hazard)),
      alliance_drop(simd::uniform_threshold(s.soviet.alliance_drop_hazard)),
      soft_line(simd::uniform_threshold(s.soviet.soft_line_prob)),
      four_islands(simd::uniform_threshold(s.soviet.four_island_prob)),
      accept_early(simd::uniform_threshold(s.soviet.declaration_accept_early)),
      accept_late(simd::uniform_threshold(s.soviet.declaration_accept_late)),
      formula(simd::uniform_threshold(s.matsumoto.formula_prob)),
      fisheries(simd::uniform_threshold(s.soviet.fisheries_pressure_prob)),
      soften(simd::uniform_threshold(s.shigemitsu.soften_hazard)),
      fall_early(simd::uniform_threshold(s.hatoyama.fall_hazard_early)),
      fall_late(simd::uniform_threshold(s.hatoyama.fall_hazard_late)) {}

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
