#pragma once
/// MPI for `mpirun -np K wedge run ... --out FILE.h5` (docs/design.md, "Scale out"): each rank runs
/// shard rank/K of the plan into its own file (in precision mode, a share of every batch) and
/// rank 0 merges them. Without an MPI build or launcher, a world of one process.
#include "experiments/session.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace wedge::experiments::mpi {

struct World {
  int rank = 0;
  int size = 1;
  bool active = false;  ///< MPI was initialised
};

/// Initialises MPI if wedge was built with it and started by an MPI launcher.
World init(int* argc, char*** argv);
/// Finalises MPI if it was initialised.
void finalize(const World& world);
/// True on every rank if `ok` was true on every rank.
bool all_ok(const World& world, bool ok);
/// Sums `data` element-wise over all ranks, in place (exact: integers).
void sum(const World& world, std::vector<std::uint64_t>& data);
/// Every rank's bytes, concatenated in rank order, on every rank.
std::vector<std::byte> gather_all_bytes(const World& world, const std::vector<std::byte>& mine);
/// Every rank's `mine`, concatenated in rank order, on every rank (ranks share one architecture).
template <class T>
std::vector<T> gather_all(const World& world, const std::vector<T>& mine) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::vector<std::byte> bytes(mine.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
  const auto all = gather_all_bytes(world, bytes);
  std::vector<T> out(all.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), all.data(), all.size());
  return out;
}
/// Ends every rank of the job at once (after a rank failed), with exit code `code`.
[[noreturn]] void abort(const World& world, int code);
/// Whether this build has MPI.
bool available();

/// Precision mode's batch executor for `world`: every batch's blocks are shared among the ranks
/// (contiguous ranges in rank order); after the batch the ranks sum their summaries' integer state
/// and gather every block's moments in rank (= plan) order (engine::SummaryState), so every rank
/// folds exactly the summaries one process would and chooses the same next batch. Cancellation is
/// agreed by all ranks at batch boundaries; progress counts the whole job.
BatchExecutor shared_batches(const World& world);

/// What run_distributed does besides the session's own work.
struct DistributedHooks {
  ExecutionHooks execution;  ///< the cancellation token, progress (rank 0), records
  /// Called after this rank's part is opened, with the runs it already holds (resume).
  std::function<void(const Session&, std::uint64_t)> opened;
};

/// What a distributed run did, on this rank.
struct DistributedResult {
  SessionResult session;  ///< this rank's own part (runs_done, interrupted...)
  /// On rank 0 after every rank succeeded: the merged file's summaries; else empty.
  std::vector<engine::Summary> merged;
  std::size_t parts = 0;  ///< the shard files merged (rank 0)
  /// Rank 0's merge failed and every rank knows it (they agreed through all_ok, none is waiting
  /// for it): the job ends through MPI_Finalize with rank 0's exit code, not MPI_Abort, whose
  /// race with the other ranks' MPI_Finalize could crash them (mpirun then reports SIGSEGV).
  bool failure_agreed = false;
  /// On rank 0, with failure_agreed: the merge's error (rethrown by the caller, which reports it).
  std::exception_ptr error;
};

/// Runs experiment `e` as one rank of `world`: rank r writes FILE.h5.shards/part-r-of-K.h5, every
/// rank agrees that every rank succeeded, and rank 0 merges the parts into FILE.h5 and removes the
/// shard directory. With output.resume, a rank whose part is complete skips straight to the merge.
/// `fail_rank` is a test seam: that rank fails at once (OutputError), before any work.
DistributedResult run_distributed(const World& world, const Experiment& e, SessionOptions options,
                                  const DistributedHooks& hooks, int fail_rank = -1);

}  // namespace wedge::experiments::mpi
