#pragma once
/// Telling one run's story (`wedge trace`): readable text or JSON.
#include "agents/tug_of_war.hpp"

#include <cstdio>
#include <string>

namespace wedge::experiments {

/// `threshold` = japan.ratify_threshold, shown beside the realized support.
void print_trace(std::FILE* out, const agents::Trace& trace, double threshold);
std::string trace_json(const agents::Trace& trace, std::uint64_t seed, std::uint32_t point,
                       std::uint64_t replicate);

}  // namespace wedge::experiments
