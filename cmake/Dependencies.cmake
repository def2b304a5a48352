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

# HDF5 for wedge's libraries: wedge::hdf5 (the C library and its HL part, H5DS). The `wedge`
# executable (property WEDGE_STATIC_HDF5, experiments/CMakeLists.txt) links HDF5's static archives
# where the system has them: Debian's shared libhdf5 needs libcurl, OpenSSL, GnuTLS, LDAP, Kerberos
# (~38 libraries, for its read-only S3 driver) that the dynamic loader maps and relocates at every
# start (~half of a short run's start-up), while a static link takes only the objects wedge uses
# (not the S3 driver: libsz and libz remain). The Python module, the tests and the benchmarks link
# the shared library (a shared module cannot take Debian's non-PIC archives). Off:
# -DWEDGE_STATIC_HDF5=OFF, or automatically when no archive is found.
option(WEDGE_STATIC_HDF5 "Link the wedge executable with HDF5's static archives when present" ON)
set(WEDGE_HDF5_ARCHIVES "")
if(WEDGE_STATIC_HDF5 AND HDF5_C_LIBRARY_hdf5 AND HDF5_C_LIBRARY_hdf5_hl)
  get_filename_component(_wedge_h5_dir "${HDF5_C_LIBRARY_hdf5}" DIRECTORY)
  get_filename_component(_wedge_h5hl_dir "${HDF5_C_LIBRARY_hdf5_hl}" DIRECTORY)
  get_filename_component(_wedge_h5_name "${HDF5_C_LIBRARY_hdf5}" NAME_WE)
  get_filename_component(_wedge_h5hl_name "${HDF5_C_LIBRARY_hdf5_hl}" NAME_WE)
  if(EXISTS "${_wedge_h5_dir}/${_wedge_h5_name}.a" AND EXISTS "${_wedge_h5hl_dir}/${_wedge_h5hl_name}.a")
    # HL first: it refers to the C library's symbols.
    set(WEDGE_HDF5_ARCHIVES "${_wedge_h5hl_dir}/${_wedge_h5hl_name}.a" "${_wedge_h5_dir}/${_wedge_h5_name}.a")
  endif()
endif()
add_library(wedge_hdf5 INTERFACE)
add_library(wedge::hdf5 ALIAS wedge_hdf5)
target_include_directories(wedge_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
target_compile_definitions(wedge_hdf5 INTERFACE ${HDF5_DEFINITIONS})
if(WEDGE_HDF5_ARCHIVES)
  # The archives' own dependencies (libsz, libz, libdl, libm, pthread; also libcurl and libcrypto,
  # which --as-needed drops when the S3 driver's objects are not linked).
  set(_wedge_h5_deps ${HDF5_C_LIBRARIES})
  list(REMOVE_ITEM _wedge_h5_deps "${HDF5_C_LIBRARY_hdf5}" "${HDF5_C_LIBRARY_hdf5_hl}")
  set(_wedge_h5_static ${WEDGE_HDF5_ARCHIVES} ${_wedge_h5_deps})
  set(_wedge_static "$<BOOL:$<TARGET_PROPERTY:WEDGE_STATIC_HDF5>>")
  target_link_libraries(wedge_hdf5 INTERFACE
    "$<${_wedge_static}:${_wedge_h5_static}>"
    "$<$<NOT:${_wedge_static}>:HDF5::HDF5;hdf5::hdf5_hl>")
  target_link_options(wedge_hdf5 INTERFACE "$<${_wedge_static}:LINKER:--as-needed>")
  message(STATUS "HDF5: the wedge executable links ${WEDGE_HDF5_ARCHIVES}")
else()
  target_link_libraries(wedge_hdf5 INTERFACE HDF5::HDF5 hdf5::hdf5_hl)
endif()
