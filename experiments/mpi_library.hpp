#pragma once
/// The MPI calls wedge makes, behind a table of C functions that libwedge_mpi.so (mpi_library.cpp,
/// linked with the MPI library) gives and experiments/mpi.cpp loads with dlopen only when an MPI
/// launcher started the process. A plain `wedge` thus never maps OpenMPI and the libraries it pulls
/// in (libopen-rte, libopen-pal, hwloc, libevent, libudev: 7 of them) at start-up. Internal to
/// mpi.cpp and mpi_library.cpp; every count is in elements of the named MPI type, every pointer
/// as MPI's own call takes it.
#include <cstdint>

extern "C" {

/// Version of this table; mpi.cpp refuses a library with another.
inline constexpr int WEDGE_MPI_CALLS_VERSION = 1;

struct WedgeMpiCalls {
  int version;
  /// MPI_Init_thread(FUNNELED), then this process's rank and the world's size.
  void (*init)(int* argc, char*** argv, int* rank, int* size);
  void (*finalize)();
  /// MPI_Allreduce of one int with MPI_MIN over MPI_COMM_WORLD.
  int (*all_min)(int value);
  /// MPI_Allreduce in place of `count` uint64 with MPI_SUM.
  void (*sum_u64)(std::uint64_t* data, int count);
  /// MPI_Allgather of one int per rank into `all` (world-size ints).
  void (*allgather_int)(int mine, int* all);
  /// MPI_Allgatherv of bytes: `count` of mine; `counts` and `offsets` per rank, into `all`.
  void (*allgatherv_bytes)(const void* mine, int count, void* all, const int* counts,
                           const int* offsets);
  void (*abort)(int code);
};

/// The table (static storage). Exported by libwedge_mpi.so under this unmangled name.
const WedgeMpiCalls* wedge_mpi_calls();
}
