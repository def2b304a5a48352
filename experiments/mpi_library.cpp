// libwedge_mpi.so: the MPI calls of experiments/mpi.cpp, loaded by it only under an MPI launcher
// (mpi_library.hpp).
#include "experiments/mpi_library.hpp"

// The C API only: OpenMPI's deprecated C++ bindings need a library Debian does not link here.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

namespace {

void init(int* argc, char*** argv, int* rank, int* size) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, rank);
  MPI_Comm_size(MPI_COMM_WORLD, size);
}

void finalize() { MPI_Finalize(); }

int all_min(int value) {
  int all = 0;
  MPI_Allreduce(&value, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all;
}

void sum_u64(std::uint64_t* data, int count) {
  MPI_Allreduce(MPI_IN_PLACE, data, count, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
}

void allgather_int(int mine, int* all) {
  MPI_Allgather(&mine, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
}

void allgatherv_bytes(const void* mine, int count, void* all, const int* counts,
                      const int* offsets) {
  MPI_Allgatherv(mine, count, MPI_BYTE, all, counts, offsets, MPI_BYTE, MPI_COMM_WORLD);
}

void abort_all(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

const WedgeMpiCalls CALLS{
    WEDGE_MPI_CALLS_VERSION, init,     finalize, all_min, sum_u64, allgather_int,
    allgatherv_bytes,        abort_all};

}  // namespace

extern "C" __attribute__((visibility("default"))) const WedgeMpiCalls* wedge_mpi_calls() {
  return &CALLS;
}
