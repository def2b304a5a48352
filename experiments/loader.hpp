#pragma once
/// Experiment files (TOML, read with toml++): loading with `extends`, overrides, and writing the
/// resolved experiment back as TOML.
#include "experiments/experiment.hpp"

#include <string>
#include <vector>

namespace wedge::experiments {

/// Loads an experiment file, following its `extends` chain (each path relative to the file that
/// names it). Every error is a ConfigError starting "FILE:LINE:COLUMN: " (or "FILE: " when no
/// position applies) and naming the key, the bad value and what is allowed. Does not resolve the
/// design (see resolve_design).
Experiment load_experiment(const std::string& path);

/// Parses experiment text without `extends` (e.g. the resolved experiment stored in a results
/// file); `name` is used in error messages.
Experiment parse_experiment(const std::string& text, const std::string& name);

/// Applies "key=value" overrides to the base scenario. Overriding a swept key is an error.
void apply_overrides(Experiment& e, const std::vector<std::string>& assignments);

/// The experiment as TOML: description, [run], every scenario key of the base (after extends and
/// overrides), and [sweep]. Loading the text again gives the same experiment.
std::string to_toml(const Experiment& e);

}  // namespace wedge::experiments
