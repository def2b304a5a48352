// wedge's HDF5 file driver: sec2's POSIX I/O, space reserved before HDF5 uses it, and fail-stop
// after the first failure (file_driver.hpp says why).
#include "output/file_driver.hpp"

#include "engine/error.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <new>
#include <stdexcept>
#include <vector>

namespace wedge::output::h5 {

namespace {

/// The largest address of a POSIX file (off_t is signed 64 bits), as sec2's.
constexpr haddr_t MAX_ADDRESS = (haddr_t{1} << 63) - 1;

/// Writes over bytes that the last completed flush left on disk, held back (address -> bytes,
/// never overlapping) until the flush in progress has written everything else.
using Pending = std::map<haddr_t, std::vector<unsigned char>>;

/// One open file. Standard layout, `pub` first: HDF5 hands back the H5FD_t* it was given.
struct DriverFile {
  H5FD_t pub;
  int fd;            ///< the POSIX descriptor (get_handle returns its address, as sec2)
  haddr_t eoa;       ///< HDF5's end of allocation
  haddr_t eof;       ///< the file's size on disk
  haddr_t reserved;  ///< bytes [0, reserved) are allocated on disk (when reserving)
  bool reserving;    ///< reserve_space was called
  haddr_t stable;    ///< bytes [0, stable) are as the last completed flush left them
  Pending* pending;  ///< writes over [0, stable) since (when reserving; else null)
  int failed;        ///< errno of the first failure (EIO if fenced); 0: none
  bool fenced;       ///< fence(): every write is dropped, and reported done (the file closes)
  dev_t device;      ///< for cmp: the same file opened twice
  ino_t inode;
  std::uint64_t writes;      ///< writes since the fault was installed (test seam)
  std::uint64_t full_at;     ///< DiskFault::full_at_bytes
  std::uint64_t fail_write;  ///< DiskFault::io_error_at_write
  std::uint64_t fail_past;   ///< DiskFault::io_error_at_bytes
  char name[256];            ///< for messages (truncated)
};

/// Pushes an HDF5 error whose text ends as sec2's (`error message = '...'`), so that wedge's
/// messages give the system's own words (output/hdf5.cpp, hdf5_message).
void push_error(const DriverFile* f, hid_t minor, const char* what, int err) {
  H5Epush2(H5E_DEFAULT, __FILE__, "wedge_file_driver", __LINE__, H5E_ERR_CLS, H5E_VFL, minor,
           "%s: file = '%s', errno = %d, error message = '%s'", what, f->name, err,
           std::strerror(err));
}

/// Records the first failure: from now on nothing more is written.
herr_t fail(DriverFile* f, hid_t minor, const char* what, int err) {
  if (f->failed == 0) f->failed = err;
  push_error(f, minor, what, err);
  return -1;
}

/// Refuses an operation that would write after a failure.
herr_t refuse_after_failure(DriverFile* f, const char* what) {
  push_error(f, H5E_WRITEERROR, what, f->failed);
  return -1;
}

/// Space reserved past what HDF5 asked for, so that a growing file takes one allocation per
/// ahead_of(end) bytes instead of one per chunk (a 200 MB file of 64 KB chunks: ~30 calls
/// instead of ~2,800, and ~30 extents instead of thousands): a quarter of the file's size, at
/// least 1 MiB and at most 64 MiB, to a whole MiB. HDF5 truncates the file to its end of
/// allocation at every flush (the driver's truncate), so a complete file ends where it always
/// did; a partial one may end up to this much later (zeros), which every reader accepts (HDF5
/// refuses a file shorter than its superblock's end of allocation, never a longer one).
haddr_t ahead_of(haddr_t end) {
  constexpr haddr_t MIB = haddr_t{1} << 20;
  const haddr_t more = std::clamp<haddr_t>(end / 4, MIB, 64 * MIB);
  if (end > MAX_ADDRESS - 2 * more) return end;
  return (end + more + MIB - 1) / MIB * MIB;
}

/// Allocates the disk blocks of [f->reserved, end), extending the file; true if done. Sets errno.
bool allocate(DriverFile* f, haddr_t end) {
  if (f->full_at != 0 && end > f->full_at) {
    errno = ENOSPC;
    return false;
  }
  const auto from = static_cast<off_t>(f->reserved);
  int rc = ::fallocate(f->fd, 0, from, static_cast<off_t>(end) - from);
  if (rc != 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) {
    // No fallocate on this file system: the size at least (a file-size limit still fails here; a
    // full disk then fails a later write, and fail-stop keeps the file at its last checkpoint).
    rc = end > f->eof ? ::ftruncate(f->fd, static_cast<off_t>(end)) : 0;
  }
  return rc == 0;
}

/// Allocates the disk blocks of [0, end) (those not yet reserved), extending the file: with room
/// ahead (ahead_of) when the disk has it, else exactly [0, end), which alone decides whether the
/// allocation fails (a full disk or a file-size limit fails exactly where it did without the
/// room ahead).
herr_t reserve(DriverFile* f, haddr_t end) {
  if (end <= f->reserved) return 0;
  haddr_t to = ahead_of(end);
  if (!allocate(f, to)) {
    to = end;
    if (!allocate(f, to)) {
      const int err = errno;
      if (f->full_at != 0 && end > f->full_at)
        return fail(f, H5E_CANTALLOC, "cannot reserve file space (test seam)", ENOSPC);
      return fail(f, H5E_CANTALLOC, "cannot reserve file space", err);
    }
  }
  f->reserved = to;
  if (to > f->eof) f->eof = to;
  return 0;
}

H5FD_t* open_file(const char* name, unsigned flags, hid_t /*fapl*/, haddr_t maxaddr) {
  if (name == nullptr || *name == '\0' || maxaddr == 0 || maxaddr == HADDR_UNDEF ||
      maxaddr > MAX_ADDRESS) {
    H5Epush2(H5E_DEFAULT, __FILE__, "wedge_file_driver", __LINE__, H5E_ERR_CLS, H5E_ARGS,
             H5E_BADVALUE, "invalid file name or address space");
    return nullptr;
  }
  int o_flags = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) o_flags |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) o_flags |= O_CREAT;
  if (flags & H5F_ACC_EXCL) o_flags |= O_EXCL;
  const int fd = ::open(name, o_flags | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int err = errno;
    H5Epush2(H5E_DEFAULT, __FILE__, "wedge_file_driver", __LINE__, H5E_ERR_CLS, H5E_FILE,
             H5E_CANTOPENFILE, "unable to open file: name = '%s', errno = %d, error message = '%s'",
             name, err, std::strerror(err));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    H5Epush2(H5E_DEFAULT, __FILE__, "wedge_file_driver", __LINE__, H5E_ERR_CLS, H5E_FILE,
             H5E_BADFILE, "unable to fstat file: errno = %d, error message = '%s'", err,
             std::strerror(err));
    return nullptr;
  }
  auto* f = new (std::nothrow) DriverFile{};
  if (f == nullptr) {
    ::close(fd);
    return nullptr;
  }
  f->fd = fd;
  f->eof = static_cast<haddr_t>(st.st_size);
  f->device = st.st_dev;
  f->inode = st.st_ino;
  std::snprintf(f->name, sizeof f->name, "%s", name);
  return &f->pub;
}

herr_t write_through(DriverFile* f, haddr_t addr, size_t size, const unsigned char* in) {
  while (size > 0) {
    const ssize_t n = ::pwrite(f->fd, in, size, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(f, H5E_WRITEERROR, "file write failed", n < 0 ? errno : EIO);
    size -= static_cast<size_t>(n);
    addr += static_cast<haddr_t>(n);
    in += n;
  }
  if (addr > f->eof) f->eof = addr;
  return 0;
}

/// The first pending write that ends after `addr`.
Pending::iterator first_after(Pending& pending, haddr_t addr) {
  auto it = pending.lower_bound(addr);
  if (it != pending.begin()) {
    const auto before = std::prev(it);
    if (before->first + before->second.size() > addr) return before;
  }
  return it;
}

/// Holds back a write over [addr, addr + size), replacing what pending writes it overlaps.
void hold(DriverFile* f, haddr_t addr, size_t size, const unsigned char* in) {
  Pending& pending = *f->pending;
  const haddr_t end = addr + size;
  for (auto it = first_after(pending, addr); it != pending.end() && it->first < end;) {
    const haddr_t start = it->first;
    std::vector<unsigned char> old = std::move(it->second);
    it = pending.erase(it);
    const haddr_t old_end = start + old.size();
    if (start < addr)
      pending.emplace(
          start, std::vector(old.begin(), old.begin() + static_cast<std::ptrdiff_t>(addr - start)));
    if (old_end > end)
      pending.emplace(
          end, std::vector(old.begin() + static_cast<std::ptrdiff_t>(end - start), old.end()));
  }
  pending.emplace(addr, std::vector(in, in + size));
}

/// Writes what was held back, in address order (the end of a flush); then [0, EOA) is stable.
herr_t apply_pending(DriverFile* f) {
  if (f->pending == nullptr) return 0;
  for (const auto& [addr, bytes] : *f->pending) {
    if (addr >= f->eoa) continue;  // space freed since
    const size_t n = std::min<haddr_t>(bytes.size(), f->eoa - addr);
    if (write_through(f, addr, n, bytes.data()) < 0) return -1;
  }
  f->pending->clear();
  f->stable = f->eoa;
  return 0;
}

herr_t close_file(H5FD_t* file) {
  auto* f = reinterpret_cast<DriverFile*>(file);
  // HDF5 flushes before it closes; anything still held back is written unless the file failed.
  if (f->failed == 0 && f->pending != nullptr && !f->pending->empty()) (void)apply_pending(f);
  delete f->pending;
  const int rc = ::close(f->fd);
  const int err = errno;
  delete f;
  if (rc != 0) {
    H5Epush2(H5E_DEFAULT, __FILE__, "wedge_file_driver", __LINE__, H5E_ERR_CLS, H5E_IO,
             H5E_CLOSEERROR, "unable to close file: errno = %d, error message = '%s'", err,
             std::strerror(err));
    return -1;
  }
  return 0;
}

int compare(const H5FD_t* a, const H5FD_t* b) {
  const auto* f1 = reinterpret_cast<const DriverFile*>(a);
  const auto* f2 = reinterpret_cast<const DriverFile*>(b);
  if (f1->device != f2->device) return f1->device < f2->device ? -1 : 1;
  if (f1->inode != f2->inode) return f1->inode < f2->inode ? -1 : 1;
  return 0;
}

herr_t query(const H5FD_t* /*file*/, unsigned long* flags) {
  // sec2's features (SWMR I/O included: the same POSIX reads and writes; H5Fget_eoa needs it).
  if (flags != nullptr) {
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE |
             H5FD_FEAT_SUPPORTS_SWMR_IO | H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
  }
  return 0;
}

haddr_t get_eoa(const H5FD_t* file, H5FD_mem_t /*type*/) {
  return reinterpret_cast<const DriverFile*>(file)->eoa;
}

herr_t set_eoa(H5FD_t* file, H5FD_mem_t /*type*/, haddr_t addr) {
  auto* f = reinterpret_cast<DriverFile*>(file);
  if (addr > f->eoa && f->reserving && !f->fenced) {
    if (f->failed != 0) return refuse_after_failure(f, "file space not allocated after a failure");
    if (reserve(f, addr) < 0) return -1;
  }
  f->eoa = addr;
  return 0;
}

haddr_t get_eof(const H5FD_t* file, H5FD_mem_t /*type*/) {
  return reinterpret_cast<const DriverFile*>(file)->eof;
}

herr_t get_handle(H5FD_t* file, hid_t /*fapl*/, void** handle) {
  *handle = &reinterpret_cast<DriverFile*>(file)->fd;
  return 0;
}

/// Whether [addr, addr + size) lies within what HDF5 has allocated (its end of allocation); pushes
/// HDF5's "addr overflow" error (as sec2 does) when it does not.
bool within_allocation(const DriverFile* f, haddr_t addr, size_t size) {
  if (addr != HADDR_UNDEF && addr <= MAX_ADDRESS && size <= MAX_ADDRESS - addr &&
      addr + size <= f->eoa)
    return true;
  H5Epush2(H5E_DEFAULT, __FILE__, "wedge_file_driver", __LINE__, H5E_ERR_CLS, H5E_ARGS,
           H5E_OVERFLOW, "addr overflow, addr = %llu, size = %zu, eoa = %llu",
           static_cast<unsigned long long>(addr), size, static_cast<unsigned long long>(f->eoa));
  return false;
}

herr_t read(H5FD_t* file, H5FD_mem_t /*type*/, hid_t /*dxpl*/, haddr_t addr, size_t size,
            void* buffer) {
  auto* f = reinterpret_cast<DriverFile*>(file);
  if (!within_allocation(f, addr, size)) return -1;
  const haddr_t start = addr;
  const haddr_t end = addr + size;
  auto* out = static_cast<unsigned char*>(buffer);
  while (size > 0) {
    const ssize_t n = ::pread(f->fd, out, size, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      push_error(f, H5E_READERROR, "file read failed", errno);
      return -1;
    }
    if (n == 0) {  // past the end of the file: zeros, as sec2
      std::memset(out, 0, size);
      break;
    }
    size -= static_cast<size_t>(n);
    addr += static_cast<haddr_t>(n);
    out += n;
  }
  // What was written over the file since the last flush, and is held back, is what HDF5 reads.
  if (f->pending != nullptr && !f->pending->empty()) {
    auto* begin = static_cast<unsigned char*>(buffer);
    for (auto it = first_after(*f->pending, start); it != f->pending->end() && it->first < end;
         ++it) {
      const haddr_t from = std::max(it->first, start);
      const haddr_t to = std::min<haddr_t>(it->first + it->second.size(), end);
      std::memcpy(begin + (from - start), it->second.data() + (from - it->first), to - from);
    }
  }
  return 0;
}

herr_t write(H5FD_t* file, H5FD_mem_t /*type*/, hid_t /*dxpl*/, haddr_t addr, size_t size,
             const void* buffer) {
  auto* f = reinterpret_cast<DriverFile*>(file);
  if (f->fenced) return 0;  // dropped: the file is being closed after a failure
  if (f->failed != 0) return refuse_after_failure(f, "file write refused after a failure");
  if (!within_allocation(f, addr, size)) return -1;
  if ((f->fail_write != 0 && ++f->writes == f->fail_write) ||
      (f->fail_past != 0 && addr + size > f->fail_past))
    return fail(f, H5E_WRITEERROR, "file write failed (test seam)", EIO);
  const auto* in = static_cast<const unsigned char*>(buffer);
  if (f->pending != nullptr && addr < f->stable) {
    // Over what the last flush left on disk (the superblock, object headers, index nodes, a
    // chunk rewritten in place): held back until this flush has written everything new, so that
    // a failure meanwhile leaves the last flush's file intact.
    const size_t held = std::min<haddr_t>(size, f->stable - addr);
    hold(f, addr, held, in);
    if (held == size) return 0;
    addr += held;
    size -= held;
    in += held;
  }
  return write_through(f, addr, size, in);
}

herr_t flush_file(H5FD_t* file, hid_t /*dxpl*/, hbool_t /*closing*/) {
  // The end of HDF5's flush: everything new is written; now what changes the last flush's file.
  auto* f = reinterpret_cast<DriverFile*>(file);
  if (f->fenced) return 0;
  if (f->failed != 0) return refuse_after_failure(f, "file flush refused after a failure");
  return apply_pending(f);
}

herr_t truncate(H5FD_t* file, hid_t /*dxpl*/, hbool_t /*closing*/) {
  // As sec2: the file's size becomes the EOA (HDF5 calls this at every flush and at close).
  auto* f = reinterpret_cast<DriverFile*>(file);
  if (f->fenced) return 0;
  if (f->failed != 0) return refuse_after_failure(f, "file truncation refused after a failure");
  if (f->eoa == f->eof) return 0;
  if (f->eoa > f->eof && f->reserving && reserve(f, f->eoa) < 0) return -1;
  if (::ftruncate(f->fd, static_cast<off_t>(f->eoa)) != 0)
    return fail(f, H5E_SEEKERROR, "unable to extend or truncate file", errno);
  f->eof = f->eoa;
  if (f->reserved > f->eoa) f->reserved = f->eoa;
  return 0;
}

herr_t lock(H5FD_t* file, hbool_t rw) {
  // HDF5's file lock, as sec2 takes it (so that readers through sec2 see a file being written).
  auto* f = reinterpret_cast<DriverFile*>(file);
  if (::flock(f->fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    if (errno == ENOSYS) return 0;  // locks disabled on this file system: best effort, as sec2
    push_error(f, H5E_CANTLOCKFILE, "unable to lock file", errno);
    return -1;
  }
  return 0;
}

herr_t unlock(H5FD_t* file) {
  auto* f = reinterpret_cast<DriverFile*>(file);
  if (::flock(f->fd, LOCK_UN) != 0 && errno != ENOSYS) {
    push_error(f, H5E_CANTUNLOCKFILE, "unable to unlock file", errno);
    return -1;
  }
  return 0;
}

H5FD_class_t make_class() {
  H5FD_class_t c{};
  c.name = "wedge_fail_stop";
  c.maxaddr = MAX_ADDRESS;
  c.fc_degree = H5F_CLOSE_WEAK;
  c.open = open_file;
  c.close = close_file;
  c.cmp = compare;
  c.query = query;
  c.get_eoa = get_eoa;
  c.set_eoa = set_eoa;
  c.get_eof = get_eof;
  c.get_handle = get_handle;
  c.read = read;
  c.write = write;
  c.flush = flush_file;
  c.truncate = truncate;
  c.lock = lock;
  c.unlock = unlock;
  const H5FD_mem_t dichotomy[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;
  std::copy(std::begin(dichotomy), std::end(dichotomy), std::begin(c.fl_map));
  return c;
}

/// The driver's identifier, registered once per process (HDF5 keeps the class pointer).
hid_t driver_id() {
  static const H5FD_class_t cls = make_class();
  static const hid_t id = H5FDregister(&cls);
  return id;
}

/// The open file of `file` if it uses this driver, else null.
DriverFile* driver_file(hid_t file) noexcept {
  if (file < 0 || H5Iget_type(file) != H5I_FILE) return nullptr;
  const hid_t fapl = H5Fget_access_plist(file);
  if (fapl < 0) return nullptr;
  const bool ours = H5Pget_driver(fapl) == driver_id();
  H5Pclose(fapl);
  if (!ours) return nullptr;
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == nullptr) return nullptr;
  return reinterpret_cast<DriverFile*>(static_cast<char*>(handle) - offsetof(DriverFile, fd));
}

}  // namespace

Handle writer_access() {
  const hid_t id = driver_id();
  if (id < 0) throw OutputError("cannot register wedge's HDF5 file driver");
  Handle fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), "file access properties"));
  check(H5Pset_driver(fapl, id, nullptr), "file access properties: wedge's file driver");
  return fapl;
}

void reserve_space(hid_t file, const std::string& path) {
  DriverFile* f = driver_file(file);
  if (f == nullptr) throw std::logic_error("reserve_space: not a file of wedge's driver");
  f->reserving = true;
  f->stable = f->eoa;
  if (f->pending == nullptr) f->pending = new Pending;
  if (reserve(f, f->eoa) < 0) {
    const int err = f->failed;
    H5Eclear2(H5E_DEFAULT);
    throw OutputError(fmt::format("{}: cannot reserve space: {}", path, std::strerror(err)));
  }
}

void fence(hid_t file) noexcept {
  if (DriverFile* f = driver_file(file); f != nullptr) {
    if (f->failed == 0) f->failed = EIO;
    f->fenced = true;
    if (f->pending != nullptr) f->pending->clear();
  }
}

void inject_disk_fault(hid_t file, const DiskFault& fault) {
  DriverFile* f = driver_file(file);
  if (f == nullptr) throw OutputError("--test-disk-*: the results file is not open for writing");
  f->full_at = fault.full_at_bytes;
  f->fail_write = fault.io_error_at_write;
  f->fail_past = fault.io_error_at_bytes;
  f->writes = 0;
}

}  // namespace wedge::output::h5
