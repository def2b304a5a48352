// The 4-lane kernel compiled for AVX2 (this file only; see CMakeLists.txt), reached by runtime
// dispatch on CPUs with AVX2 but without AVX-512.
#include "agents/kernel.hpp"

namespace wedge::agents {

[[gnu::flatten]] void run_block_avx2(const Scenario& s, const engine::StreamKey& first,
                                     std::uint32_t count, RunRecord* out) {
  NullTracer none;
  kernel::run_lanes<simd::Lanes<8, simd::AVX2>>(s, first, count, out, none);
}

}  // namespace wedge::agents
