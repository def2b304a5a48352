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

void abort(const World& world, int code) {
#if WEDGE_WITH_MPI
  if (world.active) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)world;
#endif
  std::exit(code);
}

}  // namespace wedge::experiments::mpi
