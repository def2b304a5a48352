#pragma once
/// Finding a run by its outcome: the first replicate of a design point whose record satisfies
/// conditions such as format = treaty (`wedge explore`'s "why" panel, which then traces it).
#include "engine/cancel.hpp"
#include "experiments/experiment.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wedge::experiments {

/// One condition on a run's record: categorical field `field` took category `category`.
struct RunCondition {
  std::size_t field = 0;  ///< index among the model's categorical fields
  std::uint16_t category = 0;
};

/// Parses "FIELD=CATEGORY" (e.g. "format=treaty", "islands_promised=2"); ConfigError naming the
/// valid fields or categories otherwise.
RunCondition parse_condition(const std::string& text);

/// The first replicate r in [0, e.run.runs) of design point `point` whose record satisfies every
/// condition, or nothing. Runs the experiment through a Session in plan order and stops at the
/// wave after the first match, so the answer is the same on any thread count. `cancel` (may be
/// null) stops the search early (then the result is nothing and `cancelled` is set, if given).
/// Throws ConfigError if `point` is outside the design or the experiment is in precision mode.
std::optional<std::uint64_t> find_run(const Experiment& e, std::uint32_t point,
                                      const std::vector<RunCondition>& conditions,
                                      unsigned threads = 0,
                                      const engine::CancelToken* cancel = nullptr,
                                      bool* cancelled = nullptr);

}  // namespace wedge::experiments
