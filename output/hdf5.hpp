#pragma once
/// A thin RAII layer over the HDF5 C library: handles, attributes and 1-D/2-D datasets. Every
/// failure throws OutputError naming the file and the object.
#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
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

Handle create_file(const std::string& path);  ///< fails if the file exists
Handle open_file(const std::string& path, bool writable);
Handle create_group(hid_t parent, const std::string& name);
Handle open_group(hid_t parent, const std::string& name);
bool exists(hid_t parent, const std::string& name);

// Attributes (created or overwritten).
void set_attr(hid_t obj, const std::string& name, const std::string& value);
void set_attr(hid_t obj, const std::string& name, std::uint64_t value);
void set_attr(hid_t obj, const std::string& name, double value);
void set_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
bool has_attr(hid_t obj, const std::string& name);
std::string get_attr_string(hid_t obj, const std::string& name);
std::uint64_t get_attr_u64(hid_t obj, const std::string& name);
double get_attr_f64(hid_t obj, const std::string& name);
std::vector<std::string> get_attr_strings(hid_t obj, const std::string& name);

/// HDF5 memory/file type for a C++ element type.
template <class T>
hid_t native_type();

/// A fixed-size dataset of `dims` (1 or 2 dimensions), written whole.
template <class T>
void write_dataset(hid_t parent, const std::string& name, const std::vector<hsize_t>& dims,
                   const T* data);
/// Reads a whole dataset (any rank) into a flat vector; `dims` receives its shape.
template <class T>
std::vector<T> read_dataset(hid_t parent, const std::string& name, std::vector<hsize_t>* dims = nullptr);

/// Creates an extendible, chunked 1-D dataset of length 0, compressed (shuffle + deflate level 1)
/// if asked.
Handle create_column(hid_t parent, const std::string& name, hid_t type, hsize_t chunk, bool compress);
/// Appends n elements to a 1-D extendible dataset.
void append(hid_t dataset, hid_t mem_type, const void* data, hsize_t n);
/// Current length of a 1-D dataset.
hsize_t length(hid_t dataset);
/// Sets the length of a 1-D extendible dataset (truncating or growing).
void set_length(hid_t dataset, hsize_t n);

/// The HDF5 library version, "1.10.8".
std::string library_version();

}  // namespace wedge::output::h5
