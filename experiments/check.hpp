#pragma once
/// `wedge check`: prints the validation targets of MODEL.md §7 as agents::run_check estimates them
/// (agents/validation.hpp: the target definitions and statistics, shared with
/// tests/agents/test_validation.cpp), as a table or JSON.
#include "agents/validation.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace wedge::experiments {

using agents::CheckOptions;
using agents::CheckTarget;

/// Exit code of `wedge check` when an applicable target fails (0 when every applicable one passes,
/// also when none applies).
inline constexpr int EXIT_CHECK_FAILED = 4;

/// The targets as a table: per target its verdict, then each condition's estimate, 99% interval
/// and requirement; a last line counts the verdicts.
void print_check(std::FILE* out, const std::vector<CheckTarget>& targets,
                 const CheckOptions& options);

/// The targets as JSON: {"runs", "paired_runs", "seed", "as_baseline", "all_pass", "targets":
/// [{"id", "description", "changes", "verdict", "why_not", "conditions": [{"quantity", "estimate",
/// "low", "high", "requirement", "pass"}]}]}.
std::string check_json(const std::vector<CheckTarget>& targets, const CheckOptions& options);

}  // namespace wedge::experiments
