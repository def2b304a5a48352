#include "experiments/mpi.hpp"

#include <cstdlib>

#if WEDGE_WITH_MPI
// The C API only: OpenMPI's deprecated C++ bindings need a library Debian does not link here.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace wedge::experiments::mpi {

bool available() { return WEDGE_WITH_MPI != 0; }

World init(int* argc, char*** argv) {
  World world;
#if WEDGE_WITH_MPI
  // Only under a launcher: a plain `wedge` must not need an MPI runtime to start.
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
                        std::getenv("PMIX_RANK") != nullptr;
  if (!launched) return world;
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  world.active = true;
#else
  (void)argc;
  (void)argv;
#endif
  return world;
}

void finalize(const World& world) {
#if WEDGE_WITH_MPI
  if (world.active) MPI_Finalize();
#else
  (void)world;
#endif
}

bool all_ok(const World& world, bool ok) {
#if WEDGE_WITH_MPI
  if (world.active && world.size > 1) {
    int mine = ok ? 1 : 0;
    int all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all == 1;
  }
#else
  (void)world;
#endif
  return ok;
}

void sum(const World& world, std::vector<std::uint64_t>& data) {
#if WEDGE_WITH_MPI
  if (world.active && world.size > 1) {
    MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  }
#else
  (void)world;
  (void)data;
#endif
}

std::vector<double> gather_all(const World& world, const std::vector<double>& mine) {
#if WEDGE_WITH_MPI
  if (world.active && world.size > 1) {
    const int n = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(world.size)), offsets(static_cast<std::size_t>(world.size));
    MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    int total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      offsets[r] = total;
      total += counts[r];
    }
    std::vector<double> all(static_cast<std::size_t>(total));
    MPI_Allgatherv(mine.data(), n, MPI_DOUBLE, all.data(), counts.data(), offsets.data(), MPI_DOUBLE, MPI_COMM_WORLD);
    return all;
  }
#else
  (void)world;
#endif
  return mine;
}

void abort(const World& world, int code) {
#if WEDGE_WITH_MPI
  if (world.active) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)world;
#endif
  std::exit(code);
}

}  // namespace wedge::experiments::mpi
