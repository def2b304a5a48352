#pragma once
/// An experiment: a base scenario, how to run it, and an optional sweep (a design over scenario
/// keys). Resolving it gives the design points, each a full Scenario. Also: the valid range of
/// every run setting (one range, whether a value comes from the command line, a file or
/// wedge.simulate()).
#include "agents/scenario.hpp"
#include "engine/memory.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wedge::experiments {

/// How to run an experiment ([run] in a file; command-line flags override).
struct RunSettings {
  std::uint64_t runs = 1'000'000;       ///< replicates per design point
  std::uint64_t seed = 1;               ///< master seed
  bool crn = false;                     ///< common random numbers across design points
  std::optional<double> precision;      ///< 95% half-width target (precision mode)
  std::uint64_t max_runs = 10'000'000;  ///< replicate cap per point in precision mode
};

/// The valid range of an integer setting, inclusive.
struct IntegerRange {
  std::string_view name;  ///< as in files ("seed"); the command line prefixes "--"
  std::uint64_t min;
  std::uint64_t max;
};

/// The valid range of a real setting, inclusive; NaN and infinities are never valid.
struct RealRange {
  std::string_view name;
  double min;
  double max;
};

/// Seeds are integers in [0, 2^63 - 1] everywhere: a results file stores the seed in its TOML
/// `experiment` attribute, and TOML integers are signed 64-bit, so a larger seed could be run but
/// not read back.
/// "1 point", "3 points": `n` and `noun` (singular), with an "s" unless `n` is 1, for counts in
/// user-facing text ("1 threads" read as a slip).
inline std::string counted(std::uint64_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

inline constexpr IntegerRange SEED_RANGE{"seed", 0, 9'223'372'036'854'775'807ull};
/// Replicates per design point: a stream addresses at most 2^32 replicates.
inline constexpr IntegerRange RUNS_RANGE{"runs", 1, 1ull << 32};
/// Replicate cap per point in precision mode.
inline constexpr IntegerRange MAX_RUNS_RANGE{"max_runs", 1, 1ull << 32};
/// Worker threads.
inline constexpr IntegerRange THREADS_RANGE{"threads", 1, 1024};
/// `wedge trace --point`: point indices are 32-bit, 0xFFFFFFFF is reserved (docs/design.md).
inline constexpr IntegerRange POINT_RANGE{"point", 0, 0xFFFF'FFFEull};
/// `wedge trace --replicate`.
inline constexpr IntegerRange REPLICATE_RANGE{"replicate", 0, (1ull << 32) - 1};
/// Precision target: the 95% interval half-width.
inline constexpr RealRange PRECISION_RANGE{"precision", 1e-6, 0.5};

/// "an integer in [1, 4294967296]", "a number in [1e-06, 0.5]".
std::string range_text(const IntegerRange& range);
std::string range_text(const RealRange& range);

/// Why `text` is not a valid value of `range` ("-1 is out of range; must be an integer in [0,
/// ...]", "3.0 is not an integer; ..."), or "" if it is. Integers are decimal digits only
/// (surrounding spaces allowed); reals are decimal numbers (no NaN, no infinity).
std::string integer_problem(std::string_view text, const IntegerRange& range);
std::string real_problem(std::string_view text, const RealRange& range);

/// The value of `text`; ConfigError "<name>: <problem>" otherwise.
std::uint64_t parse_integer(std::string_view text, const IntegerRange& range);
double parse_real(std::string_view text, const RealRange& range);

/// `s` read completely as a decimal number (std::from_chars: no hex, no leading '+'; a number too
/// large in magnitude is an infinity, one too small 0), or nothing.
std::optional<double> decimal(std::string_view s);

/// Checks every run setting against its range (runs, seed, max_runs, precision); ConfigError
/// "seed = 9223372036854775808: must be an integer in [0, 9223372036854775807]" otherwise. Call
/// it after applying command-line or keyword overrides, before running (wedge.simulate() too).
void check_run_settings(const RunSettings& run);

/// Checks a thread count against THREADS_RANGE (ConfigError otherwise).
void check_threads(std::uint64_t threads);

/// `text` for an error message: control characters, backslashes and invalid UTF-8 as \xHH (a
/// NUL byte never ends a message early), cut to `max_chars` bytes with "..." if longer.
std::string display_text(std::string_view text, std::size_t max_chars = 60);

/// The first control character of `text` (Unicode category Cc: U+0000-U+001F, U+007F-U+009F;
/// NUL, tab and newline included) and where, as "U+001B at byte 4", or nothing. Names and
/// descriptions refuse them (docs/design.md, "User text"): ESC sequences would reach terminals,
/// a NUL would cut a name short.
std::optional<std::string> control_character(std::string_view text);

enum class Design { single, grid, lhs, sobol, saltelli, list };

/// Most design points an experiment may have (each point's summary takes ~5 KB of memory, ~24 KB
/// in a results file).
inline constexpr std::uint64_t MAX_DESIGN_POINTS = 1'000'000;

/// The design's name as written in files ("grid", ...; "single" = no sweep).
const char* design_name(Design d);

/// One swept key: explicit values (grid, list) or a range (lhs, sobol, saltelli, grid steps).
struct SweepKey {
  std::string key;
  std::vector<double> values;  ///< grid: the values; list: one per point
  double min = 0.0;
  double max = 0.0;
  std::uint64_t steps = 0;  ///< grid: evenly spaced values from min to max (0 = use values)
  bool has_range = false;
};

struct Sweep {
  Design design = Design::single;
  std::uint64_t points = 0;  ///< lhs, sobol, saltelli: number of (base) points
  std::vector<SweepKey> keys;
  std::string csv;  ///< list: a CSV file of points (absolute path once loaded)
};

/// The scenarios of an experiment's design points.
using DesignPoints = std::vector<agents::Scenario, engine::HugePageAllocator<agents::Scenario>>;

struct Experiment {
  std::string source;       ///< the file it came from ("" = built-in baseline)
  std::string description;  ///< the file's `description`, if any
  agents::Scenario base;    ///< every key not swept
  RunSettings run;
  Sweep sweep;

  // Resolved by resolve_design():
  std::vector<std::string> swept_keys;  ///< keys varied across points, in sweep order
  /// One scenario per design point (~2.7 KB each: 11 MB at 4,096 points), on whole huge pages
  /// from 2 MiB (engine::HugePageAllocator: no 4 KiB page faults at the array's ends).
  DesignPoints points;
  std::vector<std::vector<double>> values;  ///< values[p][k]: swept key k at point p
  /// Advice about the design that does not stop a run, one line each without "warning: ", e.g.
  /// a Sobol design whose points are not a power of two. Front ends print them (the command
  /// line on stderr unless --quiet; wedge validate always).
  std::vector<std::string> warnings;
};

/// Number of design points `e.sweep` gives, computed without generating them (1 without a
/// sweep). Throws ConfigError above MAX_DESIGN_POINTS.
std::uint64_t design_points(const Experiment& e);

/// Generates the design points from `e.base` and `e.sweep` (and, for lhs, sobol and saltelli,
/// `e.run.seed`), and validates every point. Throws ConfigError naming the point and key of the
/// first bad value, or when the design alone would not fit in this machine's memory.
void resolve_design(Experiment& e);

/// Bytes as "6.0 GB", "512 KB" (powers of 1000).
std::string byte_text(std::uint64_t bytes);

}  // namespace wedge::experiments
