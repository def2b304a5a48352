#pragma once
/// What a run will need (memory, results-file size), estimated before any work starts, and
/// refused with the numbers when this machine cannot give it.
#include "experiments/experiment.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace wedge::experiments {

/// What a run will need, estimated before any work starts.
struct ResourceNeeds {
  std::uint64_t memory_bytes = 0;  ///< peak memory: design, plan, summaries, buffers
  std::uint64_t file_bytes = 0;    ///< size of the results file (0 when none is written); with
                                   ///< --store rounds at most this (every run plays all rounds)
  /// The least the results file can take: file_bytes, but with --store rounds one round per run
  /// (every run plays round 1; the rounds a run plays are known only once it has run).
  std::uint64_t file_bytes_min = 0;
  std::string memory_detail;     ///< how memory_bytes is made up, for messages
  std::string file_detail;       ///< how file_bytes is made up, for messages
  bool records_in_file = false;  ///< the file keeps per-run records (--store summary shrinks it)
};

/// What is being asked of a run, for estimate_needs().
struct RunShape {
  std::uint64_t runs_per_point = 0;  ///< replicates per point (precision mode: at most, max_runs)
  double share = 1.0;                ///< share of the plan run here (a shard: 1/K)
  bool writes_file = false;          ///< --out
  bool store_runs = false;           ///< per-run records in the file
  bool keeps_records = false;        ///< every record kept in memory (wedge.simulate(records=True))
  /// Replicates per point of the plan built before the run (precision mode: run.runs, which the
  /// command line plans up front; batches are planned as they come); 0 = runs_per_point.
  std::uint64_t plan_runs_per_point = 0;
  /// The plan's blocks are made whole (precision mode: each batch's, engine/precision.hpp); a
  /// fixed plan computes them a wave at a time (engine::BlockRange), which the 64 MB of threads
  /// and wave buffers cover.
  bool whole_plan = false;
  /// --store rounds: the file also keeps every round of every run (/rounds: one row per round
  /// played, at least 1 and at most negotiation.rounds per run, and 8 bytes of run_begin a run).
  bool store_rounds = false;
};

/// Estimates memory and results-file size of running experiment `e` (resolved or not) as `shape`
/// says.
/// The constants come from the engine's field layout and docs/output-format.md; a test checks
/// them against real runs.
ResourceNeeds estimate_needs(const Experiment& e, const RunShape& shape);

/// What this machine offers.
struct MachineLimits {
  std::uint64_t memory_bytes = 0;  ///< physical memory, lowered by cgroup and rlimit caps
  /// Free space where the results file goes; nullopt when unknown (statvfs failed). 0 is a full
  /// disk, refused like any other that is too small.
  std::optional<std::uint64_t> disk_free_bytes;
};

/// The limits of this machine; `output` names the results file (its directory's file system is
/// measured), or is empty.
MachineLimits machine_limits(const std::string& output);

/// Refuses (ConfigError, exit code 2) a run whose estimate exceeds `limits`, with the numbers:
/// "the plan needs about 67.2 GB of memory (...) but this machine has 23.4 GB"; refuses
/// (OutputError, exit code 3) a results file whose least size (file_bytes_min) exceeds the free
/// disk space. Returns a warning (or "") for a results file above 1 GB, or one whose largest size
/// (--store rounds: every run playing every round) exceeds the free space, to be shown unless
/// --quiet.
std::string check_needs(const ResourceNeeds& needs, const MachineLimits& limits);

}  // namespace wedge::experiments
