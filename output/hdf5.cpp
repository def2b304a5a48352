#include "output/hdf5.hpp"

#include "engine/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wedge::output::h5 {

void Handle::reset() noexcept {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
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
herr_t collect(unsigned /*n*/, const H5E_error2_t* err, void* out) {
  if (err->desc != nullptr) static_cast<std::vector<std::string>*>(out)->emplace_back(err->desc);
  return 0;
}
/// The error stack's messages, innermost first; clears the stack.
std::vector<std::string> hdf5_messages() {
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

void check(herr_t status, const std::string& context) {
  if (status < 0) throw OutputError(fmt::format("{}: {}", context, hdf5_message()));
}

hid_t check_id(hid_t id, const std::string& context) {
  if (id < 0) throw OutputError(fmt::format("{}: {}", context, hdf5_message()));
  return id;
}

Handle create_file(const std::string& path) {
  errno = 0;
  // Never reuse freed file space: bytes that the last flushed metadata points to are never
  // overwritten by later allocations, so a file killed between checkpoints stays consistent.
  const Handle fcpl(H5Pcreate(H5P_FILE_CREATE));
  check(H5Pset_file_space_strategy(fcpl, H5F_FSPACE_STRATEGY_NONE, 0, 1), path + ": file space strategy");
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl, H5P_DEFAULT);
  if (id < 0) {
    const int err = errno;
    H5Eclear2(H5E_DEFAULT);
    throw OutputError(fmt::format("{}: cannot create: {}", path,
                                  err != 0 ? std::strerror(err) : "HDF5 could not create the file"));
  }
  return Handle(id);
}

namespace {
/// Whether a wedge process holds the write lock of results file `path` (NAME.h5 or
/// NAME.h5.partial; the lock is NAME.h5.lock).
bool write_lock_held(const std::string& path) {
  std::string base = path;
  if (base.size() > 8 && base.ends_with(".partial")) base.resize(base.size() - 8);
  const int fd = ::open((base + ".lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases our lock if we got it
  return held;
}
}  // namespace

Handle open_file(const std::string& path, bool writable) {
  const hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    const auto frames = hdf5_messages();
    const std::string why = frames.empty() ? "HDF5 error" : frames.front();
    if (write_lock_held(path)) {
      throw OutputError(fmt::format("{}: is being written by another process (the file is locked); try again "
                                    "when that run has finished or been interrupted", path));
    }
    throw OutputError(fmt::format("{}: cannot open as HDF5 (damaged or truncated?): {}", path, why));
  }
  return Handle(id);
}

Handle create_group(hid_t parent, const std::string& name) {
  return Handle(check_id(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
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
void set_numeric_attr(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, T value) {
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

namespace {
Handle open_attr(hid_t obj, const std::string& name) {
  return Handle(check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "missing attribute " + name));
}

std::vector<std::string> read_strings(hid_t attr, const std::string& name) {
  const Handle space(H5Aget_space(attr));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  const Handle file_type(H5Aget_type(attr));
  if (H5Tget_class(file_type) != H5T_STRING) throw OutputError("attribute " + name + " is not a string");
  std::vector<std::string> out;
  if (n == 0) return out;
  if (H5Tis_variable_str(file_type) > 0) {
    const auto type = string_type();
    std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
    check(H5Aread(attr, type, ptrs.data()), "cannot read attribute " + name);
    for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t size = H5Tget_size(file_type);
    std::vector<char> buf(size * static_cast<std::size_t>(n) + 1, '\0');
    check(H5Aread(attr, file_type, buf.data()), "cannot read attribute " + name);
    for (hssize_t i = 0; i < n; ++i) {
      const char* s = buf.data() + static_cast<std::size_t>(i) * size;
      out.emplace_back(s, strnlen(s, size));
    }
  }
  return out;
}
}  // namespace

std::string get_attr_string(hid_t obj, const std::string& name) {
  const auto attr = open_attr(obj, name);
  auto values = read_strings(attr, name);
  if (values.size() != 1) throw OutputError("attribute " + name + " is not a single string");
  return values.front();
}

std::vector<std::string> get_attr_strings(hid_t obj, const std::string& name) {
  const auto attr = open_attr(obj, name);
  return read_strings(attr, name);
}

std::uint64_t get_attr_u64(hid_t obj, const std::string& name) {
  const auto attr = open_attr(obj, name);
  std::uint64_t v = 0;
  check(H5Aread(attr, H5T_NATIVE_UINT64, &v), "cannot read attribute " + name);
  return v;
}

double get_attr_f64(hid_t obj, const std::string& name) {
  const auto attr = open_attr(obj, name);
  double v = 0;
  check(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), "cannot read attribute " + name);
  return v;
}

template <> hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <> hid_t native_type<std::uint16_t>() { return H5T_NATIVE_UINT16; }
template <> hid_t native_type<std::uint32_t>() { return H5T_NATIVE_UINT32; }
template <> hid_t native_type<std::uint64_t>() { return H5T_NATIVE_UINT64; }
template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }

namespace {
template <class T> hid_t file_type();
template <> hid_t file_type<std::uint8_t>() { return H5T_STD_U8LE; }
template <> hid_t file_type<std::uint16_t>() { return H5T_STD_U16LE; }
template <> hid_t file_type<std::uint32_t>() { return H5T_STD_U32LE; }
template <> hid_t file_type<std::uint64_t>() { return H5T_STD_U64LE; }
template <> hid_t file_type<float>() { return H5T_IEEE_F32LE; }
template <> hid_t file_type<double>() { return H5T_IEEE_F64LE; }
}  // namespace

template <class T>
void write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims, const T* data) {
  if (exists(parent, name)) {
    // Same shape: overwrite in place (no new allocation); otherwise replace it.
    const Handle old(H5Dopen2(parent, name.c_str(), H5P_DEFAULT));
    const Handle space(H5Dget_space(old));
    std::vector<hsize_t> shape(static_cast<std::size_t>(std::max(H5Sget_simple_extent_ndims(space), 0)));
    H5Sget_simple_extent_dims(space, shape.data(), nullptr);
    if (shape == dims) {
      hsize_t total = 1;
      for (auto d : dims) total *= d;
      if (total > 0) check(H5Dwrite(old, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write " + name);
      return;
    }
    check(H5Ldelete(parent, name.c_str(), H5P_DEFAULT), "cannot replace " + name);
  }
  const Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  const Handle ds(check_id(H5Dcreate2(parent, name.c_str(), file_type<T>(), space, H5P_DEFAULT,
                                      H5P_DEFAULT, H5P_DEFAULT),
                           "cannot create dataset " + name));
  hsize_t total = 1;
  for (auto d : dims) total *= d;
  if (total > 0) check(H5Dwrite(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write " + name);
}

template <class T>
std::vector<T> read_dataset(hid_t parent, const std::string& name, std::vector<hsize_t>* dims) {
  const Handle ds(check_id(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), "missing dataset " + name));
  const Handle space(H5Dget_space(ds));
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> shape(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, shape.data(), nullptr);
  hsize_t total = 1;
  for (auto d : shape) total *= d;
  std::vector<T> out(total);
  if (total > 0) check(H5Dread(ds, native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "cannot read " + name);
  if (dims != nullptr) *dims = shape;
  return out;
}

#define WEDGE_H5_INSTANTIATE(T)                                                                    \
  template void write_dataset<T>(hid_t, const std::string&, const std::vector<hsize_t>&, const T*); \
  template std::vector<T> read_dataset<T>(hid_t, const std::string&, std::vector<hsize_t>*);
WEDGE_H5_INSTANTIATE(std::uint8_t)
WEDGE_H5_INSTANTIATE(std::uint16_t)
WEDGE_H5_INSTANTIATE(std::uint32_t)
WEDGE_H5_INSTANTIATE(std::uint64_t)
WEDGE_H5_INSTANTIATE(float)
WEDGE_H5_INSTANTIATE(double)
#undef WEDGE_H5_INSTANTIATE

Handle create_column(hid_t parent, const std::string& name, hid_t type, hsize_t chunk, bool compress) {
  const hsize_t zero = 0;
  const hsize_t unlimited = H5S_UNLIMITED;
  const Handle space(H5Screate_simple(1, &zero, &unlimited));
  const Handle props(H5Pcreate(H5P_DATASET_CREATE));
  check(H5Pset_chunk(props, 1, &chunk), "chunking " + name);
  if (compress) {
    check(H5Pset_shuffle(props), "shuffle filter for " + name);
    check(H5Pset_deflate(props, 1), "deflate filter for " + name);
  }
  // A checksum on every chunk: a corrupted chunk is an error when read, never silent data.
  check(H5Pset_fletcher32(props), "checksum filter for " + name);
  return Handle(check_id(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, props, H5P_DEFAULT),
                         "cannot create dataset " + name));
}

hsize_t length(hid_t dataset) {
  const Handle space(H5Dget_space(dataset));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  return n;
}

void set_length(hid_t dataset, hsize_t n) { check(H5Dset_extent(dataset, &n), "cannot resize a dataset"); }

void append(hid_t dataset, hid_t mem_type, const void* data, hsize_t n) {
  if (n == 0) return;
  const hsize_t old = length(dataset);
  const hsize_t total = old + n;
  check(H5Dset_extent(dataset, &total), "cannot extend a dataset");
  const Handle file_space(H5Dget_space(dataset));
  check(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &old, nullptr, &n, nullptr), "selection");
  const Handle mem_space(H5Screate_simple(1, &n, nullptr));
  check(H5Dwrite(dataset, mem_type, mem_space, file_space, H5P_DEFAULT, data), "cannot append records");
}

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return fmt::format("{}.{}.{}", major, minor, release);
}

}  // namespace wedge::output::h5
