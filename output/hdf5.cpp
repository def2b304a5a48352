#include "output/hdf5.hpp"
#include "output/paths.hpp"

#include "engine/error.hpp"
#include "output/file_driver.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <type_traits>

namespace wedge::output::h5 {

void Handle::reset() noexcept {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE:
      H5Fclose(id_);
      break;
    case H5I_GROUP:
      H5Gclose(id_);
      break;
    case H5I_DATASET:
      H5Dclose(id_);
      break;
    case H5I_ATTR:
      H5Aclose(id_);
      break;
    case H5I_DATASPACE:
      H5Sclose(id_);
      break;
    case H5I_DATATYPE:
      H5Tclose(id_);
      break;
    case H5I_GENPROP_LST:
      H5Pclose(id_);
      break;
    default:
      break;
  }
  id_ = H5I_INVALID_HID;
}

void quiet_errors() {
  // HDF5's exit handler re-closes files whose close failed (a full disk) and can crash doing so;
  // wedge closes what it opened itself.
  static const bool once = (H5dont_atexit(), true);
  (void)once;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {
/// Whether HDF5 reported a failed allocation since the process started (allocation_failed).
std::atomic<bool> allocation_failed_seen{false};
bool is_allocation_failure(const H5E_error2_t* err) {
  return err->min_num == H5E_CANTALLOC || err->min_num == H5E_NOSPACE;
}
herr_t collect(unsigned /*n*/, const H5E_error2_t* err, void* out) {
  if (is_allocation_failure(err)) allocation_failed_seen = true;
  if (err->desc != nullptr) static_cast<std::vector<std::string>*>(out)->emplace_back(err->desc);
  return 0;
}
herr_t find_allocation_failure(unsigned /*n*/, const H5E_error2_t* err, void* /*unused*/) {
  if (is_allocation_failure(err)) allocation_failed_seen = true;
  return 0;
}
/// The error stack's messages, innermost first; clears the stack. Called right after an HDF5
/// call failed: malloc's ENOMEM in errno then is evidence that the call ran out of memory (HDF5
/// does not always say so: H5T__conv_vlen under H5Aread reports no error of its own).
std::vector<std::string> hdf5_messages() {
  if (errno == ENOMEM) allocation_failed_seen = true;
  std::vector<std::string> frames;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &frames);
  H5Eclear2(H5E_DEFAULT);
  return frames;
}
/// The innermost message, reduced to the system's own words for I/O errors
/// ("... error message = 'File too large' ..." becomes "File too large").
std::string hdf5_message() {
  const auto frames = hdf5_messages();
  for (const auto& f : frames) {
    const auto at = f.find("error message = '");
    if (at != std::string::npos) {
      const auto begin = at + 17;
      const auto end = f.find('\'', begin);
      return f.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    }
  }
  return frames.empty() ? "HDF5 error" : frames.front();
}
}  // namespace

bool allocation_failed() {
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, find_allocation_failure, nullptr);
  return allocation_failed_seen;
}

void reset_allocation_failed() { allocation_failed_seen = false; }

void check(herr_t status, const std::string& context) {
  if (status < 0) throw OutputError(fmt::format("{}: {}", context, hdf5_message()));
}

hid_t check_id(hid_t id, const std::string& context) {
  if (id < 0) throw OutputError(fmt::format("{}: {}", context, hdf5_message()));
  return id;
}

Handle untimed_props(hid_t property_class) {
  Handle props(check_id(H5Pcreate(property_class), "creation properties"));
  check(H5Pset_obj_track_times(props, 0), "creation properties: object times");
  return props;
}

Handle create_file(const std::string& path) {
  errno = 0;
  // Never reuse freed file space: bytes that the last flushed metadata points to are never
  // overwritten by later allocations, so a file killed between checkpoints stays consistent.
  const Handle fcpl = untimed_props(H5P_FILE_CREATE);  // the root group's times
  check(H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, 0, 1),
        path + ": file space strategy");
  // Written through wedge's driver: space reserved before use, nothing written after a failure
  // (file_driver.hpp).
  const Handle fapl = writer_access();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl, fapl);
  if (id < 0) {
    const int err = errno;
    H5Eclear2(H5E_DEFAULT);
    throw OutputError(
        fmt::format("{}: cannot create: {}", path,
                    err != 0 ? std::strerror(err) : "HDF5 could not create the file"));
  }
  Handle file(id);
  reserve_space(file, path);
  return file;
}

Handle create_group(hid_t parent, const std::string& name) {
  const Handle props = untimed_props(H5P_GROUP_CREATE);
  return Handle(check_id(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, props, H5P_DEFAULT),
                         "cannot create group " + name));
}

Handle open_group(hid_t parent, const std::string& name) {
  return Handle(check_id(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), "missing group " + name));
}

bool exists(hid_t parent, const std::string& name) {
  return H5Lexists(parent, name.c_str(), H5P_DEFAULT) > 0;
}

namespace {
Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

Handle fresh_attr(hid_t obj, const std::string& name, hid_t type, hid_t space) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  return Handle(check_id(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT),
                         "cannot create attribute " + name));
}

Handle scalar_space() { return Handle(H5Screate(H5S_SCALAR)); }
}  // namespace

void set_attr(hid_t obj, const std::string& name, const std::string& value) {
  const auto type = string_type();
  const auto space = scalar_space();
  const auto attr = fresh_attr(obj, name, type, space);
  const char* p = value.c_str();
  check(H5Awrite(attr, type, &p), "cannot write attribute " + name);
}

namespace {
/// Numeric scalars are rewritten in place when they exist (no reallocation in the header).
template <class T>
void set_numeric_attr(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type,
                      T value) {
  if (H5Aexists(obj, name.c_str()) > 0) {
    const Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
    const Handle type(H5Aget_type(attr));
    if (H5Tequal(type, file_type) > 0) {
      check(H5Awrite(attr, mem_type, &value), "cannot write attribute " + name);
      return;
    }
  }
  const auto space = scalar_space();
  const auto attr = fresh_attr(obj, name, file_type, space);
  check(H5Awrite(attr, mem_type, &value), "cannot write attribute " + name);
}
}  // namespace

void set_attr(hid_t obj, const std::string& name, std::uint64_t value) {
  set_numeric_attr(obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, value);
}

void set_attr(hid_t obj, const std::string& name, double value) {
  set_numeric_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value);
}

void set_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  const auto type = string_type();
  const hsize_t n = values.size();
  const Handle space(H5Screate_simple(1, &n, nullptr));
  const auto attr = fresh_attr(obj, name, type, space);
  if (values.empty()) return;  // a zero-length attribute: nothing to write
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check(H5Awrite(attr, type, ptrs.data()), "cannot write attribute " + name);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}
template <>
hid_t native_type<std::uint16_t>() {
  return H5T_NATIVE_UINT16;
}
template <>
hid_t native_type<std::uint32_t>() {
  return H5T_NATIVE_UINT32;
}
template <>
hid_t native_type<std::uint64_t>() {
  return H5T_NATIVE_UINT64;
}
template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<std::int8_t>() {
  return H5T_NATIVE_INT8;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}

namespace {
template <class T>
hid_t file_type();
template <>
hid_t file_type<std::uint8_t>() {
  return H5T_STD_U8LE;
}
template <>
hid_t file_type<std::uint16_t>() {
  return H5T_STD_U16LE;
}
template <>
hid_t file_type<std::uint32_t>() {
  return H5T_STD_U32LE;
}
template <>
hid_t file_type<std::uint64_t>() {
  return H5T_STD_U64LE;
}
template <>
hid_t file_type<float>() {
  return H5T_IEEE_F32LE;
}
template <>
hid_t file_type<double>() {
  return H5T_IEEE_F64LE;
}
}  // namespace

template <class T>
void write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                   const T* data) {
  if (exists(parent, name)) {
    // Same shape: overwrite in place (no new allocation); otherwise replace it.
    const Handle old(H5Dopen2(parent, name.c_str(), H5P_DEFAULT));
    const Handle space(H5Dget_space(old));
    std::vector<hsize_t> shape(
        static_cast<std::size_t>(std::max(H5Sget_simple_extent_ndims(space), 0)));
    H5Sget_simple_extent_dims(space, shape.data(), nullptr);
    if (shape == dims) {
      hsize_t total = 1;
      for (auto d : dims) total *= d;
      if (total > 0)
        check(H5Dwrite(old, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
              "cannot write " + name);
      return;
    }
    check(H5Ldelete(parent, name.c_str(), H5P_DEFAULT), "cannot replace " + name);
  }
  const Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  const Handle props = untimed_props(H5P_DATASET_CREATE);
  const Handle ds(check_id(
      H5Dcreate2(parent, name.c_str(), file_type<T>(), space, H5P_DEFAULT, props, H5P_DEFAULT),
      "cannot create dataset " + name));
  hsize_t total = 1;
  for (auto d : dims) total *= d;
  if (total > 0)
    check(H5Dwrite(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          "cannot write " + name);
}

#define WEDGE_H5_INSTANTIATE(T) \
  template void write_dataset<T>(hid_t, const std::string&, const std::vector<hsize_t>&, const T*);
WEDGE_H5_INSTANTIATE(std::uint8_t)
WEDGE_H5_INSTANTIATE(std::uint16_t)
WEDGE_H5_INSTANTIATE(std::uint32_t)
WEDGE_H5_INSTANTIATE(std::uint64_t)
WEDGE_H5_INSTANTIATE(float)
WEDGE_H5_INSTANTIATE(double)
#undef WEDGE_H5_INSTANTIATE

Handle create_column(hid_t parent, const std::string& name, hid_t type, hsize_t chunk,
                     bool compress) {
  const hsize_t zero = 0;
  const hsize_t unlimited = H5S_UNLIMITED;
  const Handle space(H5Screate_simple(1, &zero, &unlimited));
  const Handle props = untimed_props(H5P_DATASET_CREATE);
  check(H5Pset_chunk(props, 1, &chunk), "chunking " + name);
  if (compress) {
    check(H5Pset_shuffle(props), "shuffle filter for " + name);
    check(H5Pset_deflate(props, 1), "deflate filter for " + name);
  }
  // A checksum on every chunk: a corrupted chunk is an error when read, never silent data.
  check(H5Pset_fletcher32(props), "checksum filter for " + name);
  return Handle(check_id(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, props,
                                    append_access(chunk * H5Tget_size(type))),
                         "cannot create dataset " + name));
}

Handle append_access(std::size_t chunk_bytes) {
  // A column is appended to at its end only: its chunk cache holds the chunk being filled (and
  // the one before), not HDF5's default 1 MB, which every /blocks column (32 KB chunks) would
  // fill with chunks already written: 16 MB kept for nothing by 10^9 runs.
  Handle dapl(H5Pcreate(H5P_DATASET_ACCESS));
  check(H5Pset_chunk_cache(dapl, H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 2 * chunk_bytes,
                           H5D_CHUNK_CACHE_W0_DEFAULT),
        "chunk cache");
  return dapl;
}

hsize_t length(hid_t dataset) {
  const Handle space(H5Dget_space(dataset));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  return n;
}

void set_length(hid_t dataset, hsize_t n) {
  check(H5Dset_extent(dataset, &n), "cannot resize a dataset");
}

void append(hid_t dataset, hid_t mem_type, const void* data, hsize_t n) {
  if (n == 0) return;
  const hsize_t old = length(dataset);
  const hsize_t total = old + n;
  check(H5Dset_extent(dataset, &total), "cannot extend a dataset");
  const Handle file_space(H5Dget_space(dataset));
  check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &old, nullptr, &n, nullptr), "selection");
  const Handle mem_space(H5Screate_simple(1, &n, nullptr));
  check(H5Dwrite(dataset, mem_type, mem_space, file_space, H5P_DEFAULT, data),
        "cannot append records");
}

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return fmt::format("{}.{}.{}", major, minor, release);
}

// ---------------------------------------------------------------------------------------------
// The checked reading layer (hdf5.hpp).

namespace {

/// deflate's largest compression ratio is 1,032:1 (zlib's technical notes); a dataset behind it
/// may declare at most this many times the bytes it stores.
constexpr std::uint64_t MAX_DEFLATE_RATIO = 1100;
/// The longest name of a link or string element we accept in a results file.
constexpr std::size_t MAX_NAME_BYTES = 4096;

std::string shape_text(const std::vector<hsize_t>& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

/// The lock files (device, inode) this process holds (note_own_write_lock).
struct OwnLocks {
  std::mutex mutex;
  std::vector<std::pair<dev_t, ino_t>> files;
};
OwnLocks& own_locks() {
  static OwnLocks locks;
  return locks;
}

bool holds_own_lock(const struct stat& st) {
  auto& locks = own_locks();
  const std::lock_guard guard(locks.mutex);
  return std::find(locks.files.begin(), locks.files.end(), std::pair(st.st_dev, st.st_ino)) !=
         locks.files.end();
}

/// Whether another process holds the write lock of results file `path` (NAME.h5 or
/// NAME.h5.partial; the lock is NAME.h5.lock). A lock this process holds is not another's (flock
/// cannot tell: a second descriptor of this process is refused as anyone else's), and a lock
/// file left by a process that died is not held (the kernel releases flock locks at exit). The
/// lock file is opened without following a symbolic link and without blocking (a FIFO of that
/// name never hangs the check).
bool write_lock_held(const std::string& path) {
  std::string base = path;
  if (base.size() > 8 && base.ends_with(".partial")) base.resize(base.size() - 8);
  const int fd = ::open((base + ".lock").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  struct stat st {};
  bool held = false;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && !holds_own_lock(st))
    held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases our lock if we got it
  return held;
}

/// External links are never traversed, whatever a caller asks (a second guard besides the
/// hard-link checks of Group).
herr_t refuse_external_link(const char*, const char*, const char*, const char*, unsigned*, hid_t,
                            void*) {
  return -1;
}

const char* link_kind(H5L_type_t type) {
  switch (type) {
    case H5L_TYPE_SOFT:
      return "a soft link";
    case H5L_TYPE_EXTERNAL:
      return "an external link (to another file)";
    default:
      return "a user-defined link";
  }
}

bool valid_child_name(const std::string& child) {
  return !child.empty() && child != "." && child != ".." && child.find('/') == std::string::npos &&
         child.size() <= MAX_NAME_BYTES;
}

std::string join(const std::string& parent, const std::string& child) {
  return parent == "/" ? "/" + child : parent + "/" + child;
}

}  // namespace

void note_own_write_lock(int fd, bool held) noexcept {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return;
  auto& locks = own_locks();
  const std::lock_guard guard(locks.mutex);
  const std::pair id(st.st_dev, st.st_ino);
  if (held) {
    locks.files.push_back(id);
  } else if (const auto it = std::find(locks.files.begin(), locks.files.end(), id);
             it != locks.files.end()) {
    locks.files.erase(it);
  }
}

bool holds_own_write_lock(int fd) noexcept {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && holds_own_lock(st);
}

File::File(const std::string& path, bool writable, LockCheck lock) : path_(path) {
  quiet_errors();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ELOOP) throw OutputError(symlink_loop_message(path));
    throw OutputError(
        fmt::format("{}: {}", path, errno == ENOENT ? "no such file" : std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) throw OutputError(fmt::format("{}: is a directory", path));
  if (!S_ISREG(st.st_mode)) {
    throw OutputError(fmt::format(
        "{}: not a regular file (a device, FIFO or socket); results files are regular files",
        path));
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  // One file, no family or split drivers: sec2 to read, wedge's driver (sec2's I/O, space reserved
  // before use, nothing written after a failure: file_driver.hpp) to write.
  Handle fapl;
  if (writable) {
    fapl = writer_access();
  } else {
    fapl = Handle(H5Pcreate(H5P_FILE_ACCESS));
    check(H5Pset_fapl_sec2(fapl), path + ": file access");
  }
  const hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  if (id < 0) {
    const auto frames = hdf5_messages();
    const std::string why = frames.empty() ? "HDF5 error" : frames.front();
    if (lock == LockCheck::others && write_lock_held(path)) {
      throw OutputError(
          fmt::format("{}: is being written by another process (the file is locked); try again "
                      "when that run has finished or been interrupted",
                      path));
    }
    if (H5Fis_hdf5(path.c_str()) == 0) {
      H5Eclear2(H5E_DEFAULT);
      throw OutputError(fmt::format("{}: not an HDF5 file (or damaged beyond reading)", path));
    }
    H5Eclear2(H5E_DEFAULT);
    throw OutputError(
        fmt::format("{}: cannot open as HDF5 (damaged or truncated?): {}", path, why));
  }
  handle_ = Handle(id);
  if (writable) reserve_space(handle_, path);
  make_link_access();
}

void File::make_link_access() {
  lapl_ = Handle(check_id(H5Pcreate(H5P_LINK_ACCESS), path_ + ": link access properties"));
  check(H5Pset_elink_cb(lapl_, refuse_external_link, nullptr), path_ + ": link access properties");
}

File::File(const std::string& path, hid_t open) : path_(path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw OutputError(fmt::format("{}: not a regular file", path));
  }
  handle_ = Handle(check_id(H5Freopen(open), path + ": cannot reopen"));
  // A file being written may be larger in HDF5's view than on disk so far.
  size_ = static_cast<std::uint64_t>(st.st_size);
  hsize_t size = 0;
  if (H5Fget_filesize(handle_, &size) >= 0) size_ = std::max<std::uint64_t>(size_, size);
  make_link_access();
}

Group File::root() const {
  return Group(
      this,
      Handle(check_id(H5Gopen2(handle_, "/", H5P_DEFAULT), path_ + ": cannot open the root group")),
      "/");
}

Group File::group(const std::string& path) const {
  Group g = root();
  std::size_t at = 1;
  while (at < path.size()) {
    const auto slash = path.find('/', at);
    const std::string part =
        path.substr(at, slash == std::string::npos ? std::string::npos : slash - at);
    g = g.group(part);
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return g;
}

void File::damaged(const std::string& object, const std::string& what) const {
  throw OutputError(fmt::format("{}: damaged: {}: {}", path_, object, what));
}

void File::close() {
  if (!handle_.valid()) return;
  const hid_t id = handle_.get();
  handle_.release();
  check(H5Fclose(id), path_ + ": cannot close");
}

namespace {
std::string attr_label(const std::string& object, const std::string& attr) {
  return object == "/" ? "attribute " + attr : object + " attribute " + attr;
}
}  // namespace

void Object::damaged(const std::string& what) const { file_->damaged(name_, what); }

bool Object::has_attr(const std::string& attr) const {
  return !attr.empty() && attr.size() <= MAX_NAME_BYTES && H5Aexists(handle_, attr.c_str()) > 0;
}

namespace {

/// An attribute of `o`, with its element count (1 for a scalar), after checking it exists and
/// has a simple or scalar dataspace of rank <= 1.
struct CheckedAttr {
  Handle attr;
  Handle type;
  hsize_t count = 0;
  std::string label;
};

CheckedAttr open_checked_attr(const Object& o, const std::string& attr) {
  CheckedAttr a;
  a.label = attr_label(o.name(), attr);
  if (!o.has_attr(attr)) o.file().damaged(a.label, "missing");
  a.attr = Handle(H5Aopen(o.id(), attr.c_str(), H5P_DEFAULT));
  if (!a.attr.valid()) o.file().damaged(a.label, "cannot open: " + hdf5_message());
  const Handle space(H5Aget_space(a.attr));
  const H5S_class_t kind = H5Sget_simple_extent_type(space);
  if (kind == H5S_SCALAR) {
    a.count = 1;
  } else if (kind == H5S_SIMPLE && H5Sget_simple_extent_ndims(space) == 1) {
    H5Sget_simple_extent_dims(space, &a.count, nullptr);
  } else {
    o.file().damaged(a.label, "has neither one value nor a list of values");
  }
  a.type = Handle(H5Aget_type(a.attr));
  if (!a.type.valid()) o.file().damaged(a.label, "has no readable type");
  return a;
}

void require_one(const Object& o, const CheckedAttr& a) {
  if (a.count != 1)
    o.file().damaged(a.label, fmt::format("holds {} values, expected one", a.count));
}

}  // namespace

std::uint64_t Object::attr_u64(const std::string& attr) const {
  const auto a = open_checked_attr(*this, attr);
  require_one(*this, a);
  if (H5Tget_class(a.type) != H5T_INTEGER || H5Tget_size(a.type) > 8)
    file_->damaged(a.label, "is not an integer");
  if (H5Tget_sign(a.type) == H5T_SGN_2) {
    std::int64_t v = 0;
    if (H5Aread(a.attr, H5T_NATIVE_INT64, &v) < 0)
      file_->damaged(a.label, "cannot read: " + hdf5_message());
    if (v < 0) file_->damaged(a.label, fmt::format("is {}, expected a non-negative integer", v));
    return static_cast<std::uint64_t>(v);
  }
  std::uint64_t v = 0;
  if (H5Aread(a.attr, H5T_NATIVE_UINT64, &v) < 0)
    file_->damaged(a.label, "cannot read: " + hdf5_message());
  return v;
}

double Object::attr_f64(const std::string& attr) const {
  const auto a = open_checked_attr(*this, attr);
  require_one(*this, a);
  if (H5Tget_class(a.type) != H5T_FLOAT || H5Tget_size(a.type) > 8)
    file_->damaged(a.label, "is not a floating-point number");
  double v = 0;
  if (H5Aread(a.attr, H5T_NATIVE_DOUBLE, &v) < 0)
    file_->damaged(a.label, "cannot read: " + hdf5_message());
  return v;
}

std::string Object::attr_string(const std::string& attr) const {
  require_one(*this, open_checked_attr(*this, attr));
  auto values = attr_strings(attr, 1);
  return std::move(values.front());
}

std::vector<std::string> Object::attr_strings(const std::string& attr,
                                              std::size_t max_count) const {
  const auto a = open_checked_attr(*this, attr);
  if (H5Tget_class(a.type) != H5T_STRING) file_->damaged(a.label, "is not a string");
  // HDF5 converts any character set value, but only these two exist (Python's reader refuses
  // the others): one rule for both readers.
  if (const H5T_cset_t cset = H5Tget_cset(a.type); cset != H5T_CSET_ASCII && cset != H5T_CSET_UTF8)
    file_->damaged(a.label,
                   fmt::format("has an unknown character set ({})", static_cast<int>(cset)));
  if (a.count > max_count)
    file_->damaged(a.label,
                   fmt::format("holds {} strings, at most {} expected", a.count, max_count));
  std::vector<std::string> out;
  if (a.count == 0) return out;
  const auto n = static_cast<std::size_t>(a.count);
  const Handle space(H5Aget_space(a.attr));
  if (H5Tis_variable_str(a.type) > 0) {
    // Read in the stored character set (both are bytes): HDF5 1.10.8 converted an ASCII list
    // (as h5py writes one) to UTF-8 only when other strings had been read first, so the same
    // attribute read "cannot read: HDF5 error" as the first string a process read.
    const auto type = string_type();
    H5Tset_cset(type, H5Tget_cset(a.type));
    std::vector<char*> ptrs(n, nullptr);
    const herr_t read = H5Aread(a.attr, type, ptrs.data());
    if (read >= 0) {
      for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
    }
    // Also after a failed read: the strings HDF5 allocated before it failed are freed.
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
    if (read < 0) file_->damaged(a.label, "cannot read: " + hdf5_message());
  } else {
    const std::size_t size = H5Tget_size(a.type);
    const hsize_t stored = H5Aget_storage_size(a.attr);
    if (size == 0 || size > file_->size() || size * n > stored || size * n > file_->size()) {
      file_->damaged(a.label, fmt::format("declares {} strings of {} bytes but stores {} bytes", n,
                                          size, stored));
    }
    std::vector<char> buf(size * n + 1, '\0');
    if (H5Aread(a.attr, a.type, buf.data()) < 0)
      file_->damaged(a.label, "cannot read: " + hdf5_message());
    for (std::size_t i = 0; i < n; ++i) {
      const char* p = buf.data() + i * size;
      out.emplace_back(p, strnlen(p, size));
    }
  }
  return out;
}

bool Group::has(const std::string& child) const {
  return valid_child_name(child) && H5Lexists(handle_, child.c_str(), file_->link_access()) > 0;
}

namespace {

/// Checks that `child` of `g` is a hard link to an object of `type`; returns the link's
/// access property list (external links refused).
void require_hard_link(const Group& g, const std::string& child, H5O_type_t type,
                       const char* what) {
  const std::string name = join(g.name(), child);
  if (!valid_child_name(child)) g.file().damaged(name, "not a valid name");
  const hid_t lapl = g.file().link_access();
  if (H5Lexists(g.id(), child.c_str(), lapl) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    g.file().damaged(name, fmt::format("missing {}", what));
  }
  H5L_info_t link{};
  if (H5Lget_info(g.id(), child.c_str(), &link, lapl) < 0)
    g.file().damaged(name, "cannot read the link: " + hdf5_message());
  if (link.type != H5L_TYPE_HARD) {
    g.file().damaged(name,
                     fmt::format("is {}; wedge follows only links within the file (hard links)",
                                 link_kind(link.type)));
  }
  H5O_info_t info{};
  if (H5Oget_info_by_name2(g.id(), child.c_str(), &info, H5O_INFO_BASIC, lapl) < 0) {
    g.file().damaged(name, "cannot read the object: " + hdf5_message());
  }
  if (info.type != type) g.file().damaged(name, fmt::format("is not a {}", what));
}

}  // namespace

bool Group::has_group(const std::string& child) const {
  if (!has(child)) return false;
  H5L_info_t link{};
  if (H5Lget_info(handle_, child.c_str(), &link, file_->link_access()) < 0 ||
      link.type != H5L_TYPE_HARD)
    return false;
  H5O_info_t info{};
  return H5Oget_info_by_name2(handle_, child.c_str(), &info, H5O_INFO_BASIC,
                              file_->link_access()) >= 0 &&
         info.type == H5O_TYPE_GROUP;
}

Group Group::group(const std::string& child) const {
  require_hard_link(*this, child, H5O_TYPE_GROUP, "group");
  const std::string name = join(name_, child);
  Handle h(H5Gopen2(handle_, child.c_str(), file_->link_access()));
  if (!h.valid()) file_->damaged(name, "cannot open the group: " + hdf5_message());
  return Group(file_, std::move(h), name);
}

Dataset Group::dataset(const std::string& child) const {
  require_hard_link(*this, child, H5O_TYPE_DATASET, "dataset");
  const std::string name = join(name_, child);
  // Opening reads the dataset's header only (HDF5 opens external files and a virtual dataset's
  // sources when data is read, which the constructor refuses first; tests/cli/test_hostile_files.sh
  // checks with strace that no other file is opened).
  const Handle dapl(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_elink_cb(dapl, refuse_external_link, nullptr);
  H5Pset_virtual_view(dapl, H5D_VDS_FIRST_MISSING);
  Handle h(H5Dopen2(handle_, child.c_str(), dapl));
  if (!h.valid()) file_->damaged(name, "cannot open the dataset: " + hdf5_message());
  return Dataset(file_, std::move(h), name);
}

std::vector<std::string> Group::children(std::size_t max_count) const {
  H5G_info_t info{};
  if (H5Gget_info(handle_, &info) < 0) damaged("cannot list the group: " + hdf5_message());
  if (info.nlinks > max_count)
    damaged(fmt::format("holds {} links, at most {} expected", info.nlinks, max_count));
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size =
        H5Lget_name_by_idx(handle_, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (size < 0 || static_cast<std::size_t>(size) > MAX_NAME_BYTES)
      damaged("holds a link whose name cannot be read");
    std::string child(static_cast<std::size_t>(size), '\0');
    H5Lget_name_by_idx(handle_, ".", H5_INDEX_NAME, H5_ITER_INC, i, child.data(), child.size() + 1,
                       H5P_DEFAULT);
    names.push_back(std::move(child));
  }
  return names;
}

Dataset::Dataset(const File* file, Handle handle, std::string name, bool strings)
    : Object(file, std::move(handle), std::move(name)) {
  const Handle dcpl(H5Dget_create_plist(handle_));
  if (!dcpl.valid()) damaged("cannot read its creation properties: " + hdf5_message());
  if (H5Pget_layout(dcpl) == H5D_VIRTUAL) {
    damaged(
        "is a virtual dataset (its data would come from other files); wedge reads data stored in "
        "the file only");
  }
  const int external = H5Pget_external_count(dcpl);
  if (external != 0) {
    char target[256] = {};
    off_t offset = 0;
    hsize_t size = 0;
    if (external > 0) H5Pget_external(dcpl, 0, sizeof target - 1, target, &offset, &size);
    damaged(
        fmt::format("stores its data in another file (external storage: \"{}\"); wedge reads data "
                    "stored in the file only",
                    target));
  }
  const int filters = H5Pget_nfilters(dcpl);
  if (filters < 0) damaged("cannot read its filters: " + hdf5_message());
  for (int i = 0; i < filters; ++i) {
    unsigned flags = 0, config = 0;
    std::size_t elements = 0;
    const H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &elements,
                                           nullptr, 0, nullptr, &config);
    if (id == H5Z_FILTER_DEFLATE) {
      compressed_ = true;
    } else if (id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32) {
      damaged(
          fmt::format("uses filter {} (wedge writes only shuffle, deflate and Fletcher-32, and "
                      "loads no filter plugins)",
                      id));
    }
  }
  const Handle space(H5Dget_space(handle_));
  const int rank = H5Sget_simple_extent_ndims(space);
  if (H5Sget_simple_extent_type(space) != H5S_SIMPLE || rank < 1 || rank > 2) {
    damaged("is not a list or a table (a dataspace of rank 1 or 2)");
  }
  shape_.assign(static_cast<std::size_t>(rank), 0);
  H5Sget_simple_extent_dims(space, shape_.data(), nullptr);
  const Handle type(H5Dget_type(handle_));
  type_class_ = H5Tget_class(type);
  type_size_ = H5Tget_size(type);
  type_signed_ = type_class_ == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_2;
  if (strings) {
    if (type_class_ != H5T_STRING) damaged("does not hold strings");
    if (const H5T_cset_t cset = H5Tget_cset(type); cset != H5T_CSET_ASCII && cset != H5T_CSET_UTF8)
      damaged(fmt::format("has an unknown character set ({})", static_cast<int>(cset)));
    if (shape_.size() != 1) damaged("is not a list of strings");
    return;
  }
  if ((type_class_ != H5T_INTEGER && type_class_ != H5T_FLOAT) || type_size_ == 0 ||
      type_size_ > 8) {
    damaged("does not hold numbers (integers or floating point of at most 8 bytes)");
  }
}

std::vector<std::string> Group::strings(const std::string& child, hsize_t expected) const {
  require_hard_link(*this, child, H5O_TYPE_DATASET, "dataset");
  const std::string name = join(name_, child);
  const Handle dapl(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_elink_cb(dapl, refuse_external_link, nullptr);
  H5Pset_virtual_view(dapl, H5D_VDS_FIRST_MISSING);
  Handle h(H5Dopen2(handle_, child.c_str(), dapl));
  if (!h.valid()) file_->damaged(name, "cannot open the dataset: " + hdf5_message());
  const Dataset ds(file_, std::move(h), name, true);
  if (ds.shape() != std::vector<hsize_t>{expected}) {
    ds.damaged(fmt::format("holds {} strings, {} expected", ds.shape()[0], expected));
  }
  std::vector<std::string> out;
  if (expected == 0) return out;
  const auto n = static_cast<std::size_t>(expected);
  const Handle type(H5Dget_type(ds.id()));
  const Handle space(H5Dget_space(ds.id()));
  if (H5Tis_variable_str(type) > 0) {
    // Each pointer refers to the file's global heap, which the reads below check as HDF5 can;
    // the child process of untrusted.hpp reads first, so a crash there is contained.
    const auto mem = string_type();
    H5Tset_cset(mem, H5Tget_cset(type));  // the stored character set, as attr_strings reads
    std::vector<char*> ptrs(n, nullptr);
    const herr_t read = H5Dread(ds.id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data());
    if (read >= 0) {
      for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
    }
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, ptrs.data());
    if (read < 0) ds.damaged("cannot read: " + hdf5_message());
  } else {
    const std::size_t size = H5Tget_size(type);
    const hsize_t stored = H5Dget_storage_size(ds.id());
    if (size == 0 || size > file_->size() || size * n > stored || size * n > file_->size()) {
      ds.damaged(
          fmt::format("declares {} strings of {} bytes but stores {} bytes", n, size, stored));
    }
    std::vector<char> buf(size * n + 1, '\0');
    if (H5Dread(ds.id(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
      ds.damaged("cannot read: " + hdf5_message());
    for (std::size_t i = 0; i < n; ++i) {
      const char* p = buf.data() + i * size;
      out.emplace_back(p, strnlen(p, size));
    }
  }
  return out;
}

hsize_t Dataset::length() const {
  if (shape_.size() != 1) damaged(fmt::format("has shape {}, expected a list", shape_text(shape_)));
  return shape_[0];
}

template <class T>
void Dataset::check_type() const {
  if constexpr (std::is_floating_point_v<T>) {
    if (type_class_ != H5T_FLOAT || type_size_ > sizeof(T)) {
      damaged(fmt::format("holds {} of {} bytes, expected floating point of at most {}",
                          type_class_ == H5T_FLOAT ? "floating point" : "integers", type_size_,
                          sizeof(T)));
    }
  } else if constexpr (std::is_signed_v<T>) {
    // Signed integers of at most sizeof(T) bytes, or unsigned ones of fewer (they fit).
    if (type_class_ != H5T_INTEGER || type_size_ > sizeof(T) ||
        (!type_signed_ && type_size_ == sizeof(T))) {
      damaged(fmt::format("holds {} of {} bytes, expected signed integers of at most {}",
                          type_class_ == H5T_FLOAT ? "floating point"
                          : type_signed_           ? "signed integers"
                                                   : "unsigned integers",
                          type_size_, sizeof(T)));
    }
  } else {
    static_assert(std::is_unsigned_v<T>);
    if (type_class_ != H5T_INTEGER || type_signed_ || type_size_ > sizeof(T)) {
      damaged(fmt::format("holds {} of {} bytes, expected unsigned integers of at most {}",
                          type_class_ == H5T_FLOAT ? "floating point"
                          : type_signed_           ? "signed integers"
                                                   : "integers",
                          type_size_, sizeof(T)));
    }
  }
}

template <class T>
std::vector<T> Dataset::read(const std::vector<hsize_t>& expected) const {
  if (shape_ != expected)
    damaged(fmt::format("has shape {}, expected {}", shape_text(shape_), shape_text(expected)));
  check_type<T>();
  hsize_t elements = 1;
  for (const hsize_t d : shape_) {
    if (__builtin_mul_overflow(elements, d, &elements))
      damaged(fmt::format("declares an impossible shape {}", shape_text(shape_)));
  }
  hsize_t bytes = 0;
  if (__builtin_mul_overflow(elements, static_cast<hsize_t>(type_size_), &bytes)) {
    damaged(fmt::format("declares an impossible shape {}", shape_text(shape_)));
  }
  const hsize_t stored = H5Dget_storage_size(handle_);
  if (stored > file_->size()) {
    damaged(fmt::format("declares {} bytes of storage, more than the file's {}", stored,
                        file_->size()));
  }
  // Never allocate more than the file can hold: what a dataset declares must be stored.
  const hsize_t limit = compressed_ ? stored * MAX_DEFLATE_RATIO : stored;
  if (bytes > limit) {
    damaged(fmt::format("declares {} elements ({} bytes) but stores {} bytes{}", elements, bytes,
                        stored, compressed_ ? " (compressed)" : ""));
  }
  std::vector<T> out(static_cast<std::size_t>(elements));
  if (elements > 0 &&
      H5Dread(handle_, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    damaged("cannot read: " + hdf5_message());
  }
  return out;
}

template <class T>
void Dataset::read_rows(hsize_t start, hsize_t count, std::vector<T>& out) const {
  const hsize_t n = length();
  check_type<T>();
  if (start > n || count > n - start) {
    damaged(fmt::format("holds {} elements; elements {} to {} were expected", n, start,
                        start + count - 1));
  }
  out.resize(static_cast<std::size_t>(count));
  if (count == 0) return;
  const Handle space(H5Dget_space(handle_));
  const Handle mem(H5Screate_simple(1, &count, nullptr));
  if (H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &count, nullptr) < 0 ||
      H5Dread(handle_, native_type<T>(), mem, space, H5P_DEFAULT, out.data()) < 0) {
    damaged(
        fmt::format("cannot read elements {} to {}: {}", start, start + count - 1, hdf5_message()));
  }
}

#define WEDGE_H5_INSTANTIATE_READ(T)                                           \
  template std::vector<T> Dataset::read<T>(const std::vector<hsize_t>&) const; \
  template void Dataset::read_rows<T>(hsize_t, hsize_t, std::vector<T>&) const;
WEDGE_H5_INSTANTIATE_READ(std::uint8_t)
WEDGE_H5_INSTANTIATE_READ(std::uint16_t)
WEDGE_H5_INSTANTIATE_READ(std::uint32_t)
WEDGE_H5_INSTANTIATE_READ(std::uint64_t)
WEDGE_H5_INSTANTIATE_READ(float)
WEDGE_H5_INSTANTIATE_READ(double)
WEDGE_H5_INSTANTIATE_READ(std::int8_t)
WEDGE_H5_INSTANTIATE_READ(std::int64_t)
#undef WEDGE_H5_INSTANTIATE_READ

}  // namespace wedge::output::h5
