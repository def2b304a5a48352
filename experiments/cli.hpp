#pragma once
/// The `wedge` command line (CLI11). Exit codes: 0 success, 2 bad input, 3 output problem,
/// 130 interrupted.
namespace wedge::experiments {

inline constexpr int EXIT_OK = 0;
inline constexpr int EXIT_BAD_INPUT = 2;
inline constexpr int EXIT_OUTPUT = 3;
inline constexpr int EXIT_INTERRUPTED = 130;

/// Runs the command line; returns the process exit code. Never throws.
int run_cli(int argc, char** argv);

}  // namespace wedge::experiments
