// The portable kernels (1 and 4 lanes, baseline x86-64 or any target) and the dispatch.
#include "agents/kernel.hpp"

#include "agents/tug_of_war.hpp"

namespace wedge::agents {

#if WEDGE_HAVE_SIMD_KERNELS
void run_block_avx512(const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
                      std::uint64_t rep_begin, std::uint32_t count, RunRecord* out);
void run_block_avx2(const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
                    std::uint64_t rep_begin, std::uint32_t count, RunRecord* out);
#endif

namespace {

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

}  // namespace

bool run_block_width(int width, const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
                     std::uint64_t rep_begin, std::uint32_t count, RunRecord* out) {
  NullTracer none;
  switch (width) {
    case 1:
      kernel::run_lanes<simd::Lanes<1>>(s, seed, stream_point, rep_begin, count, out, none);
      return true;
#if WEDGE_HAVE_SIMD_KERNELS
    case 4:
      if (!cpu_has_avx2()) return false;
      run_block_avx2(s, seed, stream_point, rep_begin, count, out);
      return true;
    case 8:
      if (!cpu_has_avx512()) return false;
      run_block_avx512(s, seed, stream_point, rep_begin, count, out);
      return true;
#endif
    default:
      return false;
  }
}

void run_block(const Scenario& s, std::uint64_t seed, std::uint32_t stream_point, std::uint64_t rep_begin,
               std::uint32_t count, RunRecord* out) {
#if WEDGE_HAVE_SIMD_KERNELS
  if (cpu_has_avx512()) {
    run_block_avx512(s, seed, stream_point, rep_begin, count, out);
    return;
  }
  if (cpu_has_avx2()) {
    run_block_avx2(s, seed, stream_point, rep_begin, count, out);
    return;
  }
#endif
  NullTracer none;
  kernel::run_lanes<simd::Lanes<1>>(s, seed, stream_point, rep_begin, count, out, none);
}

const char* kernel_name() {
  return cpu_has_avx512() ? "avx512 (8 lanes)" : cpu_has_avx2() ? "avx2 (4 lanes)" : "portable (1 lane)";
}

RunRecord TugOfWar::run(const Scenario& s, engine::Stream& stream) {
  const auto key = stream.key();
  RunRecord r;
  NullTracer none;
  kernel::run_lanes<simd::Lanes<1>>(s, key.seed, key.point, key.replicate, 1, &r, none);
  return r;
}

Trace trace_run(const Scenario& s, const engine::StreamKey& key) {
  Trace trace;
  Tracker tracker{&trace};
  kernel::run_lanes<simd::Lanes<1>>(s, key.seed, key.point, key.replicate, 1, &trace.record, tracker);
  return trace;
}

}  // namespace wedge::agents
