#include "experiments/check.hpp"

#include "experiments/experiment.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace wedge::experiments {

using agents::Verdict;
using agents::verdict_name;

void print_check(std::FILE* out, const std::vector<CheckTarget>& targets,
                 const CheckOptions& options) {
  const std::uint64_t paired_runs = options.paired_runs == 0 ? options.runs : options.paired_runs;
  fmt::print(
      out, "MODEL.md §7 targets: {}{}, seed {}, common random numbers; 99% intervals{}\n",
      counted(options.runs, "run"),
      paired_runs != options.runs ? fmt::format(" ({} per counterfactual pair)", paired_runs) : "",
      options.seed, options.as_baseline ? "; the scenario judged as the baseline" : "");
  std::size_t applicable = 0, passed = 0;
  for (const auto& t : targets) {
    applicable += t.verdict != Verdict::not_applicable;
    passed += t.verdict == Verdict::pass;
    fmt::print(out, "\n{:<3} {:<15} {}{}\n", t.id, verdict_name(t.verdict), t.description,
               t.changes.empty() ? "" : fmt::format(" [{}]", t.changes));
    if (!t.why_not.empty()) fmt::print(out, "    ({})\n", t.why_not);
    for (const auto& c : t.conditions) {
      fmt::print(out, "    {:<32} {:>8.4f}  [{:.4f}, {:.4f}]  {:<40} {}\n", c.quantity, c.estimate,
                 c.low, c.high, c.requirement,
                 t.verdict == Verdict::not_applicable ? ""
                 : c.pass                             ? "met"
                                                      : "NOT MET");
    }
  }
  fmt::print(out, "\n{} of {} targets apply: {} pass, {} fail\n", applicable, targets.size(),
             passed, applicable - passed);
}

std::string check_json(const std::vector<CheckTarget>& targets, const CheckOptions& options) {
  nlohmann::ordered_json doc;
  doc["runs"] = options.runs;
  doc["paired_runs"] = options.paired_runs == 0 ? options.runs : options.paired_runs;
  doc["seed"] = options.seed;
  doc["as_baseline"] = options.as_baseline;
  doc["all_pass"] = agents::all_pass(targets);
  auto& list = doc["targets"] = nlohmann::ordered_json::array();
  for (const auto& t : targets) {
    nlohmann::ordered_json j;
    j["id"] = t.id;
    j["description"] = t.description;
    j["changes"] = t.changes;
    j["verdict"] = verdict_name(t.verdict);
    j["why_not"] = t.why_not;
    auto& conditions = j["conditions"] = nlohmann::ordered_json::array();
    for (const auto& c : t.conditions) {
      conditions.push_back({{"quantity", c.quantity},
                            {"estimate", c.estimate},
                            {"low", c.low},
                            {"high", c.high},
                            {"requirement", c.requirement},
                            {"pass", c.pass}});
    }
    list.push_back(std::move(j));
  }
  return doc.dump(1) + "\n";
}

}  // namespace wedge::experiments
