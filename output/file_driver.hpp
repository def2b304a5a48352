#pragma once
/// wedge's HDF5 file driver for the results files it writes (docs/design.md, "Output"; why:
/// docs/reliability.md, "A full disk"). POSIX I/O on one file as HDF5's own sec2 driver, files
/// that sec2 reads unchanged, with three differences:
///
/// - space is reserved before it is used: once a file is `reserve_space`d, every growth of HDF5's
///   end of allocation (EOA) first allocates the disk blocks (fallocate; ftruncate where the
///   file system has no fallocate), so the file on disk is never shorter than any superblock HDF5
///   can write, and a full disk (ENOSPC) or a file-size limit (EFBIG) fails the allocation,
///   before anything that would refer to the space is written. It reserves room ahead (a quarter
///   of the file, 1-64 MiB), or exactly what HDF5 asks where the disk has no room for more; HDF5's
///   flush and close truncate the file to its end of allocation;
/// - writes over what the last completed flush left on disk (the superblock, object headers, index
///   nodes, a chunk rewritten in place) are held back, in memory, until the end of the flush in
///   progress, after everything new is written; reads see them. The file on disk keeps the last
///   flush's structure until a flush has succeeded up to its end;
/// - it fails and stops: after the first failed write, allocation, truncation (or `fence`), every
///   later write, allocation and truncation is refused without touching the file, and what was
///   held back is dropped. HDF5 goes on flushing metadata after a raw-data write failed (its
///   flush "pushes the error and keeps going"); with this driver nothing of it reaches the file,
///   which stays as its last flush left it: at its last checkpoint.
#include "output/hdf5.hpp"

#include <cstdint>
#include <string>

namespace wedge::output::h5 {

/// File access properties selecting this driver (for H5Fcreate and H5Fopen with H5F_ACC_RDWR).
Handle writer_access();

/// Starts reserving disk space for `file` (opened with writer_access()): its current EOA at once,
/// then every growth. Throws OutputError naming `path` (with the system's words, "No space left
/// on device") when the space cannot be had; the file is then fenced.
void reserve_space(hid_t file, const std::string& path);

/// After a failure (a write that failed, an fsync that failed, a check): nothing more reaches
/// `file`; its writes are dropped and reported done, so that it can be closed (H5Fclose then
/// succeeds and releases the file, writing nothing). No effect on a file of another driver or an
/// invalid identifier.
void fence(hid_t file) noexcept;

/// A test seam (docs/design.md, "Test seams"): makes the disk behave as full or failing for one
/// file. Production code never sets one.
struct DiskFault {
  /// Reserving space past this many bytes of the file fails with ENOSPC (a full disk); 0: never.
  std::uint64_t full_at_bytes = 0;
  /// The first write that reaches past this many bytes of the file fails with EIO (a device
  /// error where new data goes); 0: never.
  std::uint64_t io_error_at_bytes = 0;
  /// The n-th write to the file from now on (1 = the next) fails with EIO, whatever its place in
  /// the file (also a rewrite in place of existing metadata); 0: never.
  std::uint64_t io_error_at_write = 0;
};
/// Installs `fault` on `file` (opened with writer_access()); throws OutputError otherwise.
void inject_disk_fault(hid_t file, const DiskFault& fault);

}  // namespace wedge::output::h5
