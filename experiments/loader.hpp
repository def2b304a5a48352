#pragma once
/// Experiment files (TOML, read with toml++): loading with `extends`, overrides, and writing the
/// resolved experiment back as TOML.
#include "agents/params.hpp"
#include "experiments/experiment.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wedge::experiments {

/// Largest experiment file read (a TOML file; large lists of points belong in a CSV file).
inline constexpr std::uint64_t MAX_EXPERIMENT_FILE_BYTES = 64ull << 20;
/// Most files in an `extends` chain (the file named included).
inline constexpr std::size_t MAX_EXTENDS_DEPTH = 64;
/// Largest CSV file of design points read.
inline constexpr std::uint64_t MAX_CSV_FILE_BYTES = 256ull << 20;

/// Loads an experiment file, following its `extends` chain (each path relative to the file that
/// names it; parents first, a child's keys override its parent's and its [sweep] merges into its
/// parent's). Only regular files are read, each at most MAX_EXPERIMENT_FILE_BYTES, in chains of
/// at most MAX_EXTENDS_DEPTH files. Every error is a ConfigError starting "FILE:LINE:COLUMN: "
/// (or "FILE: " when no position applies) and naming the key, the bad value and what is allowed.
/// Does not resolve the design (see resolve_design).
Experiment load_experiment(const std::string& path);

/// Every problem of an experiment file (and its extends chain, and the overrides), in reading
/// order: file by file from the root of the chain, line by line within a file; then those of the
/// overrides and of the resolved design. Empty if the experiment is valid. Each entry is one line,
/// as load_experiment's error would be; at most 200 entries (the last then says how many more).
std::vector<std::string> experiment_problems(const std::string& path,
                                             const std::vector<std::string>& assignments = {});

/// Loads an experiment given as text (wedge.simulate's dict) as load_experiment loads a file: its
/// `extends` names a file relative to `base_dir` (wedge.simulate: its `base=` argument, else the
/// working directory), followed as a file's chain is. `name` is used in error messages.
Experiment load_experiment_text(const std::string& text, const std::string& name,
                                const std::string& base_dir);

/// Parses experiment text without `extends` (e.g. the resolved experiment stored in a results
/// file); `name` is used in error messages. With `read_files` false a list design may not name a
/// CSV file (reading a results file never opens another file).
Experiment parse_experiment(const std::string& text, const std::string& name,
                            bool read_files = true);

/// Applies "key=value" overrides to the base scenario (values as in a CSV file: numbers,
/// integers, true/false). Overriding a swept key is an error.
/// `option` names an assignment in errors: "--set" on the command line, "set item" for Python.
void apply_overrides(Experiment& e, const std::vector<std::string>& assignments,
                     std::string_view option = "--set");

/// Refuses a key set twice in one list of --set assignments (the last would silently win):
/// ConfigError naming the key and both assignments. Front ends call it on each list the user
/// gives (`compare`'s --set-a may override its --set, by design).
void check_repeated_sets(const std::vector<std::string>& assignments,
                         std::string_view option = "--set");

/// Parses the text of a value for key `info` (a CSV cell, the value of --set) and checks its
/// range. ConfigError otherwise: "negotiation.rounds: 3.0 is not an integer; must be an integer
/// in [1, 100]", "dulles.tact = 1.4: must be [0, 1]", "dulles.tact = 'high': not a number; ...".
double parse_value(const agents::ParamInfo& info, std::string_view text);

/// `steps` evenly spaced values from min to max (a grid's { min, max, steps }): min and max
/// exactly, and each interior value the double nearest the exact decimal when min, max and the
/// step are decimals (0.1 to 0.5 in 5 steps gives 0.3, the double a user typing 0.3 gets), else
/// min + (max - min) i / (steps - 1), clamped to [min, max].
std::vector<double> grid_values(double min, double max, std::uint64_t steps);

/// The scenario sections experiment files may hold ([negotiation], [dulles], ...): the first
/// component of every registry key's section, in registry order.
const std::vector<std::string>& scenario_sections();

/// The experiment as TOML: description, [run], every scenario key of the base (after extends and
/// overrides), and [sweep]. Loading the text again gives the same experiment.
std::string to_toml(const Experiment& e);

/// The keys whose values differ between two stored experiments (to_toml texts, or any TOML), as
/// "KEY: VALUE_A in A_NAME, VALUE_B in B_NAME" ("absent" for a missing key), in key order: what
/// --resume and `wedge merge` name when they refuse files of another experiment. Bytes past ASCII
/// are read as 'x' (toml++ never parses them here; a difference there alone is not listed).
/// Empty when either text is not TOML, or when the two hold the same keys and values.
std::vector<std::string> experiment_differences(const std::string& a, const std::string& b,
                                                std::string_view a_name, std::string_view b_name);

/// "; the keys that differ: D1; D2 (and N more)" from experiment_differences (at most `shown`
/// listed), or "" when there are none.
std::string experiment_differences_text(const std::vector<std::string>& differences,
                                        std::size_t shown = 8);

}  // namespace wedge::experiments
