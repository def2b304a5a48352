#pragma once
/// MPI for `mpirun -np K wedge run ... --out FILE.h5`: each rank runs shard rank/K of the plan
/// into its own file and rank 0 merges them (docs/design.md, "Scale out"). Without an MPI build
/// or launcher, a world of one process.
#include <cstdint>
#include <string>
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
/// Every rank's `mine`, concatenated in rank order, on every rank.
std::vector<double> gather_all(const World& world, const std::vector<double>& mine);
/// Ends every rank of the job at once (after a rank failed), with exit code `code`.
[[noreturn]] void abort(const World& world, int code);
/// Whether this build has MPI.
bool available();

}  // namespace wedge::experiments::mpi
