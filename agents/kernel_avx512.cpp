// The 8-lane kernel, compiled for AVX-512 (this file only; see CMakeLists.txt). Reached only
// through run_block's runtime dispatch on CPUs that support AVX-512F/DQ/VL/BW.
#include "agents/kernel.hpp"

namespace wedge::agents {

[[gnu::flatten]] void run_block_avx512(const Scenario& s, const engine::StreamKey& first,
                                       std::uint32_t count, RunRecord* out) {
  NullTracer none;
  kernel::run_lanes<simd::Lanes<16, simd::AVX512>>(s, first, count, out, none);
}

}  // namespace wedge::agents
