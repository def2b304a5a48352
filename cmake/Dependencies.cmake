# Every dependency comes from a Debian package (scripts/install-deps.sh); nothing is downloaded.
find_package(TBB 2021 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(CLI11 2 CONFIG REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(Threads REQUIRED)
# HL: the dimension scales (H5DS) that netCDF readers use (output/dimension_scales.cpp).
find_package(HDF5 1.10 REQUIRED COMPONENTS C HL)

# Random123 is header-only and ships no CMake package.
find_path(RANDOM123_INCLUDE_DIR Random123/philox.h REQUIRED)
add_library(wedge_random123 INTERFACE)
add_library(Random123::Random123 ALIAS wedge_random123)
target_include_directories(wedge_random123 SYSTEM INTERFACE ${RANDOM123_INCLUDE_DIR})

if(WEDGE_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
if(WEDGE_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# MPI (OpenMPI from Debian) for multi-process runs; the build works without it.
if(WEDGE_WITH_MPI)
  find_package(MPI COMPONENTS C)
  if(NOT MPI_C_FOUND)
    message(STATUS "MPI not found: building without mpirun support")
    set(WEDGE_WITH_MPI OFF)
  endif()
endif()
