#pragma once
/// A thin RAII layer over the HDF5 C library: handles, attributes and 1-D/2-D datasets. Every
/// failure throws OutputError naming the file and the object.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wedge::output::h5 {

/// An owned HDF5 identifier, closed with the right H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const noexcept { return id_; }
  operator hid_t() const noexcept { return id_; }  // NOLINT: handles are passed to the C API
  bool valid() const noexcept { return id_ >= 0; }
  void reset() noexcept;
  /// Forgets the identifier without closing it (nothing more is written through it).
  void release() noexcept { id_ = H5I_INVALID_HID; }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Silences HDF5's own error printing (wedge reports errors itself) for the process.
void quiet_errors();

/// Throws OutputError("<context>: <HDF5's innermost message>") when `status` < 0.
void check(herr_t status, const std::string& context);
hid_t check_id(hid_t id, const std::string& context);
/// Whether an HDF5 call of this process has failed to allocate memory (its error stack named
/// H5E_CANTALLOC or H5E_NOSPACE), seen in an error wedge reported or on the current error stack.
/// The child of untrusted::probe tells a file that needs more memory than its limit from damage.
bool allocation_failed();
/// Forgets what allocation_failed() saw (a child process reading a file starts afresh: what its
/// parent saw before the fork is no evidence of the child's own failure).
void reset_allocation_failed();

/// Creation properties of class `property_class` (H5P_GROUP_CREATE, H5P_DATASET_CREATE,
/// H5P_FILE_CREATE) without HDF5's object times: a file's bytes then depend on its contents only
/// (the same run writes the same file; the results fuzzer's seeds are the same in every clone).
Handle untimed_props(hid_t property_class);

Handle create_file(const std::string& path);  ///< fails if the file exists
Handle create_group(hid_t parent, const std::string& name);
/// Opens a group this process created or checked (the writer's own groups); files from
/// elsewhere are read through File below.
Handle open_group(hid_t parent, const std::string& name);
bool exists(hid_t parent, const std::string& name);

// Attributes (created or overwritten).
void set_attr(hid_t obj, const std::string& name, const std::string& value);
void set_attr(hid_t obj, const std::string& name, std::uint64_t value);
void set_attr(hid_t obj, const std::string& name, double value);
void set_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
bool has_attr(hid_t obj, const std::string& name);

/// HDF5 memory/file type for a C++ element type.
template <class T>
hid_t native_type();

/// A fixed-size dataset of `dims` (1 or 2 dimensions), written whole.
template <class T>
void write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                   const T* data);
/// Creates an extendible, chunked 1-D dataset of length 0, compressed (shuffle + deflate level 1)
/// if asked.
Handle create_column(hid_t parent, const std::string& name, hid_t type, hsize_t chunk,
                     bool compress);
/// Dataset access properties for a column appended to at its end: a chunk cache of two chunks of
/// `chunk_bytes` (HDF5's default, 1 MB per dataset, would keep chunks already written).
Handle append_access(std::size_t chunk_bytes);
/// Appends n elements to a 1-D extendible dataset.
void append(hid_t dataset, hid_t mem_type, const void* data, hsize_t n);
/// Current length of a 1-D dataset (one this process created or opened through File).
hsize_t length(hid_t dataset);
/// Sets the length of a 1-D extendible dataset (truncating or growing).
void set_length(hid_t dataset, hsize_t n);

// ---------------------------------------------------------------------------------------------
// Reading files from elsewhere (STYLE.md): every reader of results files (inspect, merge, --resume,
// the record check, the dimension scales) goes through File, Group and Dataset. They
//  - reach objects through hard links only (no soft, external or user-defined link is followed),
//  - refuse datasets whose data lives elsewhere (external raw storage, virtual datasets) or behind
//    a filter wedge does not write (only shuffle, deflate and Fletcher-32: no filter plugin is
//    ever loaded), so reading a results file never opens another file,
//  - check every attribute's and dataset's type class, rank, shape and size before reading, and
//    never allocate more than the file can hold: a dataset read whole may not declare more bytes
//    than it stores (deflate: 1,100 times; its best ratio is 1,032), nor store more than the file.
// Every failure throws OutputError("FILE: damaged: OBJECT: what").

class File;

/// An object of a checked file (a group or a dataset): its full name and its attributes.
class Object {
 public:
  const std::string& name() const noexcept { return name_; }  ///< "/summary/format"
  hid_t id() const noexcept { return handle_.get(); }
  const File& file() const noexcept { return *file_; }
  bool has_attr(const std::string& attr) const;
  /// A non-negative integer attribute holding one value (unsigned, or signed and >= 0).
  std::uint64_t attr_u64(const std::string& attr) const;
  /// A floating-point attribute holding one value.
  double attr_f64(const std::string& attr) const;
  /// A string attribute holding one string.
  std::string attr_string(const std::string& attr) const;
  /// A string attribute holding at most `max_count` strings (scalar: one).
  std::vector<std::string> attr_strings(const std::string& attr, std::size_t max_count) const;
  /// Throws OutputError("FILE: damaged: NAME: what").
  [[noreturn]] void damaged(const std::string& what) const;

 protected:
  Object(const File* file, Handle handle, std::string name)
      : file_(file), handle_(std::move(handle)), name_(std::move(name)) {}
  const File* file_;
  Handle handle_;
  std::string name_;
};

class Dataset;

/// A group of a checked file.
class Group : public Object {
 public:
  /// Whether `child` (one name, no '/') is a link in this group, whatever its kind.
  bool has(const std::string& child) const;
  /// The group `child`, reached by a hard link; damaged otherwise.
  Group group(const std::string& child) const;
  /// The dataset `child`, reached by a hard link and checked (see above); damaged otherwise.
  Dataset dataset(const std::string& child) const;
  /// The strings of the 1-D string dataset `child` (variable or fixed length, ASCII or UTF-8),
  /// checked as dataset() checks numbers; damaged unless it holds exactly `expected` strings.
  std::vector<std::string> strings(const std::string& child, hsize_t expected) const;
  /// Whether `child` is a hard link to a group.
  bool has_group(const std::string& child) const;
  /// The names of the group's links, in name order (at most `max_count`, else damaged).
  std::vector<std::string> children(std::size_t max_count = 100'000) const;

 private:
  friend class File;
  using Object::Object;
};

/// A dataset of a checked file: a simple dataspace of rank <= 2, integer or floating-point
/// elements of at most 8 bytes, data stored in this file.
class Dataset : public Object {
 public:
  const std::vector<hsize_t>& shape() const noexcept { return shape_; }
  /// The length of a 1-D dataset (damaged if it is not 1-D).
  hsize_t length() const;
  /// The whole dataset, row-major, after checking that its shape is exactly `expected`, that its
  /// elements convert to T without loss (unsigned integers of at most sizeof(T) bytes for an
  /// unsigned T; integers of at most sizeof(T) bytes, unsigned ones smaller, for a signed T;
  /// floating point for a floating T) and that the file stores what it declares.
  template <class T>
  std::vector<T> read(const std::vector<hsize_t>& expected) const;
  /// Elements [start, start + count) of a 1-D dataset (the caller bounds `count`).
  template <class T>
  void read_rows(hsize_t start, hsize_t count, std::vector<T>& out) const;

 private:
  friend class Group;
  /// `strings`: the dataset must hold strings (Group::strings), else numbers.
  Dataset(const File* file, Handle handle, std::string name, bool strings = false);
  template <class T>
  void check_type() const;
  std::vector<hsize_t> shape_;
  H5T_class_t type_class_ = H5T_NO_CLASS;
  bool type_signed_ = false;
  std::size_t type_size_ = 0;
  bool compressed_ = false;
};

/// Records that this process holds (`held`) or has released the write lock taken on the lock file
/// open as `fd` (NAME.h5.lock, flock), so that File never calls this process's own lock
/// "another process" (LockCheck::others).
void note_own_write_lock(int fd, bool held) noexcept;
/// Whether the lock file open as `fd` is one whose lock this process holds (note_own_write_lock).
bool holds_own_write_lock(int fd) noexcept;

/// How File treats wedge's write lock (NAME.h5.lock) when HDF5 cannot open the file.
enum class LockCheck {
  others,  ///< a held lock means another process is writing: say so (inspect, merge, Python)
  ours,    ///< this process holds the lock (--resume): any failure to open is damage
};

/// A results file opened through the checked layer. Only regular files are opened (a FIFO or a
/// device never is), with HDF5's own driver for one file (sec2).
class File {
 public:
  File(const std::string& path, bool writable = false, LockCheck lock = LockCheck::others);
  /// A second handle (H5Freopen) on `open`, a file this process has open as `path`.
  File(const std::string& path, hid_t open);
  const std::string& path() const noexcept { return path_; }
  hid_t id() const noexcept { return handle_.get(); }
  /// The file's size in bytes when opened (the limit of what any of its datasets may store).
  std::uint64_t size() const noexcept { return size_; }
  Group root() const;
  /// The group at an absolute path ("/checkpoint/0"), each step a hard link.
  Group group(const std::string& path) const;
  /// Throws OutputError("FILE: damaged: OBJECT: what").
  [[noreturn]] void damaged(const std::string& object, const std::string& what) const;
  /// Closes the file (flushing it if writable); the handle is then invalid.
  void close();
  /// Hands the file's handle to the caller (who writes through it); this File is then closed.
  Handle take() noexcept { return std::move(handle_); }
  /// The link access properties of every lookup in the file: external links are never traversed.
  hid_t link_access() const noexcept { return lapl_.get(); }

 private:
  void make_link_access();
  std::string path_;
  Handle handle_;
  Handle lapl_;
  std::uint64_t size_ = 0;
};

/// The HDF5 library version, "1.10.8".
std::string library_version();

}  // namespace wedge::output::h5
