// netCDF-4 dimension scales on a complete results file (docs/output-format.md, "Dimensions").
//
// netCDF readers name an HDF5 dataset's dimensions after the dimension scales attached to them
// (H5DS, the HDF5 high-level library) and look the scales up in the dataset's group or its
// ancestors; xarray reads one group's variables at a time. So every group a user opens gets its
// own coordinates as hard links to the one /design/point and /design/<key> datasets (no data is
// copied), and the category and bin scales live in the group of their field. The per-run
// dimension has no values of its own: it is netCDF's "dimension without a variable" at the root,
// a dataset that is never written (no storage) and that older readers of /runs do not list.
#include "output/dimension_scales.hpp"

#include "engine/error.hpp"
#include "output/hdf5.hpp"

#include <fmt/format.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

namespace wedge::output {

namespace {

/// netCDF-C's NAME attribute of a dimension scale that is not a variable (h5netcdf and netCDF-C
/// both recognise it and list no variable for the dataset).
constexpr const char* NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable.";

bool parse_int(const std::string& s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

/// Whether every label is an integer ("0", "2", "4"; round numbers), with their `values`.
bool numeric_labels(const std::vector<std::string>& labels, std::vector<std::int64_t>& values) {
  bool numeric = !labels.empty();
  values.clear();
  for (const auto& label : labels) {
    std::int64_t v = 0;
    numeric = numeric && parse_int(label, v);
    values.push_back(v);
  }
  return numeric;
}

/// Most categories or histogram bins a field may have.
constexpr std::size_t MAX_COLUMNS = 1'000'000;

void check(const h5::Object& o, herr_t status, const std::string& what) {
  h5::check(status, fmt::format("{}: {}: {}", o.file().path(), o.name(), what));
}

/// Transfer properties whose type-conversion buffer holds `bytes` (at least 1 KB) instead of
/// HDF5's default 1 MB, which HDF5 allocates zero-filled, with a background buffer as large, for
/// every write that converts (the labels' strings, the coordinates' types): ~0.5 ms of page faults
/// and zero-filling per coordinate, ~7 ms of every results file's fixed cost.
h5::Handle small_transfer(std::size_t bytes) {
  h5::Handle dxpl(h5::check_id(H5Pcreate(H5P_DATASET_XFER), "transfer properties"));
  h5::check(H5Pset_buffer(dxpl, std::max<std::size_t>(bytes, 1024), nullptr, nullptr),
            "transfer properties: conversion buffer");
  return dxpl;
}

/// A 1-D dataset `name` of `values` in `parent`: created and written, or, if it exists already
/// (a file interrupted while its scales were written), checked to hold exactly these values.
template <class T>
h5::Dataset ensure_1d(const h5::Group& parent, const std::string& name, hid_t file_type,
                      hid_t mem_type, const std::vector<T>& values) {
  if (!parent.has(name)) {
    const hsize_t n = values.size();
    const h5::Handle space(H5Screate_simple(1, &n, nullptr));
    const h5::Handle ds(h5::check_id(
        H5Dcreate2(parent.id(), name.c_str(), file_type, space, H5P_DEFAULT,
                   h5::untimed_props(H5P_DATASET_CREATE), H5P_DEFAULT),
        fmt::format("{}: cannot create dataset {}/{}", parent.file().path(), parent.name(), name)));
    if (n > 0) {
      const std::size_t size = std::max(H5Tget_size(file_type), H5Tget_size(mem_type));
      const auto dxpl = small_transfer(n * size);
      check(parent, H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, dxpl, values.data()),
            "cannot write " + name);
    }
    return parent.dataset(name);
  }
  auto ds = parent.dataset(name);
  if constexpr (std::is_same_v<T, std::int64_t>) {
    // Stored as int64; compared as the unsigned values they are (all >= 0 here).
    if (ds.shape() != std::vector<hsize_t>{values.size()})
      ds.damaged("has another length than expected");
  } else {
    const auto stored = ds.read<T>({values.size()});
    if (std::memcmp(stored.data(), values.data(), values.size() * sizeof(T)) != 0)
      ds.damaged("holds other values than expected");
  }
  return ds;
}

/// The category labels as a 1-D dataset of UTF-8 strings (variable length, as netCDF-4 stores
/// strings), or the existing one.
void ensure_strings(const h5::Group& parent, const std::string& name,
                    const std::vector<std::string>& values) {
  if (parent.has(name))
    return;  // string datasets are written whole by one call: present means written
  const h5::Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  const hsize_t n = values.size();
  const h5::Handle space(H5Screate_simple(1, &n, nullptr));
  const h5::Handle ds(h5::check_id(
      H5Dcreate2(parent.id(), name.c_str(), type, space, H5P_DEFAULT,
                 h5::untimed_props(H5P_DATASET_CREATE), H5P_DEFAULT),
      fmt::format("{}: cannot create dataset {}/{}", parent.file().path(), parent.name(), name)));
  if (n > 0) {
    // (A variable-length string: a pointer in memory, a 16-byte heap reference in the file.)
    const auto dxpl = small_transfer(n * 16);
    check(parent, H5Dwrite(ds, type, H5S_ALL, H5S_ALL, dxpl, pointers.data()),
          "cannot write " + name);
  }
}

/// What dataset `id`'s attribute CLASS holds, read by wedge itself: nullopt when there is none,
/// else its bytes up to the first NUL ("(not one string)" when it is not one string). HDF5
/// 1.10.8's H5DSis_scale frees its buffer twice when CLASS holds another null-terminated string
/// than DIMENSION_SCALE (a byte rewritten in place), which aborts the process with glibc's
/// "free(): double free detected" and no word of the dataset; every H5DS function calls it. So no
/// H5DS function is called on a dataset before require_scale_class has read its CLASS.
std::optional<std::string> class_attr(hid_t id) {
  if (H5Aexists(id, "CLASS") <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  std::string text = "(not one string)";
  const h5::Handle attr(H5Aopen(id, "CLASS", H5P_DEFAULT));
  const h5::Handle type(H5Aget_type(attr));
  const h5::Handle space(H5Aget_space(attr));
  if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) <= 0 &&
      H5Sget_simple_extent_npoints(space) == 1) {
    if (const std::size_t size = H5Tget_size(type); size > 0 && size <= 4096) {
      std::vector<char> buf(size, '\0');
      if (H5Aread(attr, type, buf.data()) >= 0)
        text = std::string(buf.data(), strnlen(buf.data(), size));
    }
  }
  H5Eclear2(H5E_DEFAULT);
  return text;
}

/// What a scale whose CLASS was deleted is reported as: worded as one whose CLASS holds another
/// string (require_scale_class), saying what is missing and what it should hold.
constexpr const char* CLASS_MISSING =
    "is no longer a dimension scale (attribute CLASS is missing, expected 'DIMENSION_SCALE'; a "
    "damaged coordinate)";

/// Refuses (OutputError "FILE: damaged: OBJECT: is no longer a dimension scale (attribute CLASS
/// holds 'TEXT', ...)") dataset `id` when its CLASS exists but is not DIMENSION_SCALE (see
/// class_attr); returns whether it is a scale (false: no CLASS).
bool require_scale_class(hid_t id) {
  const auto text = class_attr(id);
  if (!text) return false;
  if (*text == "DIMENSION_SCALE") return true;
  std::string shown;  // control characters and bytes past ASCII as \xNN
  for (const char ch : *text) {
    const auto c = static_cast<unsigned char>(ch);
    shown +=
        c >= 0x20 && c < 0x7F ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  }
  std::string file(1024, '\0'), object(1024, '\0');
  const ssize_t file_len = H5Fget_name(id, file.data(), file.size());
  const ssize_t object_len = H5Iget_name(id, object.data(), object.size());
  H5Eclear2(H5E_DEFAULT);
  file.resize(file_len > 0 ? std::min(static_cast<std::size_t>(file_len), file.size() - 1) : 0);
  object.resize(object_len > 0 ? std::min(static_cast<std::size_t>(object_len), object.size() - 1)
                               : 0);
  throw OutputError(
      fmt::format("{}: damaged: {}: is no longer a dimension scale (attribute CLASS holds '{}', "
                  "not 'DIMENSION_SCALE'; a damaged coordinate)",
                  file, object, shown));
}

/// H5DSis_attached, after require_scale_class of both datasets.
bool ds_is_attached(hid_t dataset, hid_t scale, unsigned axis) {
  require_scale_class(dataset);
  require_scale_class(scale);
  return H5DSis_attached(dataset, scale, axis) > 0;
}

/// H5DSattach_scale, after require_scale_class of both datasets.
herr_t ds_attach(hid_t dataset, hid_t scale, unsigned axis) {
  require_scale_class(dataset);
  require_scale_class(scale);
  return H5DSattach_scale(dataset, scale, axis);
}

/// Opens a dataset without the checked layer's type rules (string and dimension-scale datasets
/// this function wrote itself); the link is still required to be a hard link to a dataset.
h5::Handle open_own(const h5::Group& parent, const std::string& name) {
  if (!parent.has(name)) parent.damaged("missing dataset " + name);
  H5L_info_t link{};
  if (H5Lget_info(parent.id(), name.c_str(), &link, H5P_DEFAULT) < 0 ||
      link.type != H5L_TYPE_HARD) {
    parent.damaged(name + " is not a hard link");
  }
  return h5::Handle(h5::check_id(
      H5Dopen2(parent.id(), name.c_str(), H5P_DEFAULT),
      fmt::format("{}: cannot open {}/{}", parent.file().path(), parent.name(), name)));
}

void make_scale(const h5::Object& ds, hid_t id, const char* name) {
  if (require_scale_class(id)) return;
  check(ds, H5DSset_scale(id, name), "cannot make a dimension scale");
}

/// Whether `scale` is attached to dimension `axis` of `dataset`. H5DSis_attached dereferences
/// every entry of the scale's REFERENCE_LIST (half the instructions of a 1,000-run `wedge run`
/// went there); a dataset without a DIMENSION_LIST attribute has nothing attached, which is every
/// dataset of a file being written for the first time, so that case is answered without it.
bool is_attached(hid_t dataset, hid_t scale, unsigned axis) {
  if (H5Aexists(dataset, "DIMENSION_LIST") <= 0) return false;
  return ds_is_attached(dataset, scale, axis);
}

/// The attachments of a file's scales, written as H5DSattach_scale writes them: on the dataset a
/// DIMENSION_LIST attribute (one variable-length list of object references to scales per
/// dimension), on the scale a REFERENCE_LIST attribute (compound {dataset: object reference,
/// dimension: int32}, one element per attachment, in the order of the attachments).
/// H5DSattach_scale rewrites both for every attachment, deleting and recreating the scale's
/// REFERENCE_LIST with one more element: /design/point is attached to every coordinate column, so
/// a results file's ~100 attachments cost ~60 M instructions (callgrind), most of the final
/// checkpoint, on the run's critical path. When nothing in the file is attached yet (`fresh`:
/// every file written for the first time), add() writes the dataset's DIMENSION_LIST whole and
/// notes its references, and write() writes each scale's REFERENCE_LIST once: the same types and
/// contents. Otherwise (a file interrupted while its scales were added) add() attaches through
/// H5DS, skipping what is done, as before.
class Attachments {
 public:
  explicit Attachments(bool fresh) : fresh_(fresh) {}
  Attachments(const Attachments&) = delete;
  Attachments& operator=(const Attachments&) = delete;

  /// Dimension i of `dataset` gets scales[i] (dimension scales, not `dataset`; at most its rank
  /// of them). `where` and `name` (a child of `where`; "": `where` itself) name the dataset in
  /// errors. The scales' handles are kept open until write().
  void add(const h5::Object& where, const std::string& name, hid_t dataset,
           std::initializer_list<hid_t> scales) {
    if (!fresh_) {
      unsigned axis = 0;
      for (const hid_t scale : scales) {
        if (!is_attached(dataset, scale, axis)) {
          check(where, ds_attach(dataset, scale, axis),
                name.empty() ? fmt::format("cannot attach dimension {}", axis)
                             : fmt::format("cannot attach dimension {} to {}", axis, name));
        }
        ++axis;
      }
      return;
    }
    const std::string path = name.empty() ? where.name() : where.name() + "/" + name;
    const auto fail = [&](const std::string& what) {
      throw OutputError(fmt::format("{}: {}: {}", where.file().path(), path, what));
    };
    hobj_ref_t self = 0;
    if (H5Rcreate(&self, dataset, ".", H5R_OBJECT, -1) < 0) fail("cannot refer to it");
    if (std::find(datasets_.begin(), datasets_.end(), self) != datasets_.end())
      return;  // attached already (as is_attached would skip it)
    if (H5Aexists(dataset, "DIMENSION_LIST") != 0) fail("has dimension scales already");
    int rank = -1;
    {
      const h5::Handle space(H5Dget_space(dataset));
      if (space.valid()) rank = H5Sget_simple_extent_ndims(space);
    }
    if (rank < 0) fail("cannot read its shape");
    rank = std::max(rank, 1);  // (a scalar has one dimension to H5DS)
    if (scales.size() > static_cast<std::size_t>(rank))
      fail(fmt::format("has no dimension {}", rank));
    std::vector<hobj_ref_t> refs(scales.size());
    std::vector<hvl_t> lists(static_cast<std::size_t>(rank), hvl_t{0, nullptr});
    std::size_t axis = 0;
    for (const hid_t scale : scales) {
      if (H5Rcreate(&refs[axis], scale, ".", H5R_OBJECT, -1) < 0)
        fail(fmt::format("cannot refer to the scale of dimension {}", axis));
      lists[axis] = {1, &refs[axis]};
      if (std::none_of(scales_.begin(), scales_.end(),
                       [&](const Scale& s) { return s.ref == refs[axis]; })) {
        h5::check(H5Iinc_ref(scale), "cannot keep a dimension scale open");
        scales_.push_back({refs[axis], h5::Handle(scale), {}});
      }
      for (auto& s : scales_) {
        if (s.ref == refs[axis]) s.references.push_back({self, static_cast<int>(axis)});
      }
      ++axis;
    }
    const hsize_t n = lists.size();
    const h5::Handle space(H5Screate_simple(1, &n, nullptr));
    const h5::Handle attr(
        H5Acreate2(dataset, "DIMENSION_LIST", list_type_, space, H5P_DEFAULT, H5P_DEFAULT));
    if (!attr.valid() || H5Awrite(attr, list_type_, lists.data()) < 0)
      fail("cannot attach its dimension scales");
    datasets_.push_back(self);
  }
  void add(const h5::Object& ds, std::initializer_list<hid_t> scales) {
    add(ds, "", ds.id(), scales);
  }

  /// Writes each scale's REFERENCE_LIST (nothing when not fresh), after every dataset's
  /// DIMENSION_LIST: a process killed in between leaves datasets whose H5DSis_attached is false,
  /// which a later call attaches through H5DS without a second entry in the dataset's list
  /// (H5DSattach_scale skips a scale already there); never a scale listing a dataset that does not
  /// list it. Throws OutputError naming the file.
  void write(const h5::File& file) {
    if (!fresh_ || scales_.empty()) return;
    const auto fail = [&](const Scale& s, const std::string& what) {
      char name[512] = {};
      H5Iget_name(s.handle, name, sizeof name);
      throw OutputError(fmt::format("{}: {}: {}", file.path(), name, what));
    };
    const h5::Handle type(h5::check_id(H5Tcreate(H5T_COMPOUND, sizeof(Reference)),
                                       file.path() + ": REFERENCE_LIST type"));
    h5::check(H5Tinsert(type, "dataset", offsetof(Reference, dataset), H5T_STD_REF_OBJ),
              file.path() + ": REFERENCE_LIST type");
    h5::check(H5Tinsert(type, "dimension", offsetof(Reference, dimension), H5T_NATIVE_INT),
              file.path() + ": REFERENCE_LIST type");
    for (const auto& s : scales_) {
      if (H5Aexists(s.handle, "REFERENCE_LIST") != 0) fail(s, "lists datasets already");
      const hsize_t n = s.references.size();
      const h5::Handle space(H5Screate_simple(1, &n, nullptr));
      const h5::Handle attr(
          H5Acreate2(s.handle, "REFERENCE_LIST", type, space, H5P_DEFAULT, H5P_DEFAULT));
      if (!attr.valid() || H5Awrite(attr, type, s.references.data()) < 0)
        fail(s, "cannot list the datasets it is attached to");
    }
    scales_.clear();
  }

 private:
  /// An element of REFERENCE_LIST, as H5DS lays it out (its ds_list_t).
  struct Reference {
    hobj_ref_t dataset;
    int dimension;
  };
  struct Scale {
    hobj_ref_t ref;
    h5::Handle handle;
    std::vector<Reference> references;  ///< in the order of the attachments
  };
  bool fresh_;
  h5::Handle list_type_{fresh_ ? H5Tvlen_create(H5T_STD_REF_OBJ) : H5I_INVALID_HID};
  std::vector<hobj_ref_t> datasets_;  ///< those given a DIMENSION_LIST
  std::vector<Scale> scales_;         ///< in the order of their first attachment
};

/// Sets a string attribute unless it already holds `value` (so a second pass writes nothing).
void ensure_attr(const h5::Object& o, const std::string& name, const std::string& value) {
  if (o.has_attr(name)) {
    const h5::Handle attr(H5Aopen(o.id(), name.c_str(), H5P_DEFAULT));
    const h5::Handle type(H5Aget_type(attr));
    if (H5Tget_class(type) == H5T_STRING && o.attr_string(name) == value) return;
  }
  h5::set_attr(o.id(), name, value);
}

/// Hard links, in `group`, to the design's point and the swept keys' coordinates (`sources`:
/// /design/<key>, or the typed /summary/<key> of typed_coordinates).
void link_coordinates(const h5::File& file, const h5::Group& group,
                      const std::vector<std::string>& keys,
                      const std::vector<std::string>& sources) {
  const auto link = [&](const std::string& name, const std::string& source) {
    if (group.has(name)) return;
    check(group,
          H5Lcreate_hard(file.id(), source.c_str(), group.id(), name.c_str(), H5P_DEFAULT,
                         H5P_DEFAULT),
          fmt::format("cannot link {} here", source));
  };
  link("point", "/design/point");
  for (std::size_t k = 0; k < keys.size(); ++k) link(keys[k], sources[k]);
}

/// The coordinate of each swept key: /design/<key> (float64) for a real key; for an integer key
/// (attribute value_type = "integer" on /design/<key>) an int64 copy, and for a boolean key an
/// int8 copy (0/1, with CF flag_values and flag_meanings), at /summary/<key>, so that netCDF
/// readers give integer keys as integers (docs/output-format.md). Returns their paths.
std::vector<std::string> typed_coordinates(const h5::Group& design, const h5::Group& summary,
                                           hid_t point, hsize_t points,
                                           const std::vector<std::string>& keys,
                                           Attachments& attachments) {
  std::vector<std::string> sources;
  for (const auto& key : keys) {
    const auto ds = design.dataset(key);
    const std::string type = ds.has_attr("value_type") ? ds.attr_string("value_type") : "real";
    if (type != "integer" && type != "boolean") {
      sources.push_back("/design/" + key);
      continue;
    }
    sources.push_back("/summary/" + key);
    const bool flags = type == "boolean";
    if (!summary.has(key)) {
      const auto values = ds.read<double>({points});
      std::vector<std::int64_t> ints;
      std::vector<std::int8_t> bools;
      for (double v : values) {
        ints.push_back(static_cast<std::int64_t>(v));
        bools.push_back(v != 0.0 ? 1 : 0);
      }
      const hsize_t n = points;
      const h5::Handle space(H5Screate_simple(1, &n, nullptr));
      const h5::Handle created(h5::check_id(
          H5Dcreate2(summary.id(), key.c_str(), flags ? H5T_STD_I8LE : H5T_STD_I64LE, space,
                     H5P_DEFAULT, h5::untimed_props(H5P_DATASET_CREATE), H5P_DEFAULT),
          fmt::format("{}: cannot create dataset /summary/{}", summary.file().path(), key)));
      if (n > 0) {
        check(summary,
              flags
                  ? H5Dwrite(created, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bools.data())
                  : H5Dwrite(created, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints.data()),
              "cannot write " + key);
      }
    }
    const h5::Handle typed = open_own(summary, key);
    if (!h5::has_attr(typed, "value_type")) h5::set_attr(typed, "value_type", type);
    if (flags && !h5::has_attr(typed, "flag_values")) {
      const std::int8_t codes[] = {0, 1};
      const hsize_t two = 2;
      const h5::Handle space(H5Screate_simple(1, &two, nullptr));
      const h5::Handle attr(h5::check_id(
          H5Acreate2(typed, "flag_values", H5T_STD_I8LE, space, H5P_DEFAULT, H5P_DEFAULT),
          summary.file().path() + ": /summary/" + key + ": cannot create flag_values"));
      check(summary, H5Awrite(attr, H5T_NATIVE_INT8, codes), "cannot write flag_values of " + key);
      h5::set_attr(typed, "flag_meanings", std::string("false true"));
    }
    attachments.add(summary, key, typed, {point});
  }
  return sources;
}

/// The CF `coordinates` attribute: the swept keys, so that netCDF readers make them coordinates.
void set_coordinates(const h5::Object& dataset, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : " ") + n;
  ensure_attr(dataset, "coordinates", joined);
}

/// The histogram's edges (column 0 the underflow, 1 ... bins the bins, bins + 1 the
/// overflow; the top edge belongs to the last bin).
void bin_edges(double lo, double hi, std::uint64_t bins, std::vector<double>& low,
               std::vector<double>& high) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  low = {-inf};
  high = {lo};
  for (std::uint64_t i = 1; i <= bins; ++i) {
    low.push_back(lo + (hi - lo) * static_cast<double>(i - 1) / static_cast<double>(bins));
    high.push_back(i == bins ? hi
                             : lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(bins));
  }
  low.push_back(hi);
  high.push_back(inf);
}

/// The CF flag_meanings of a list of labels ("" when they are not all words).
std::string flag_meanings(const std::vector<std::string>& labels) {
  std::string meanings;
  for (const auto& label : labels) {
    if (label.empty() || label.find_first_of(" \t\n") != std::string::npos) return "";
    meanings += (meanings.empty() ? "" : " ") + label;
  }
  return meanings;
}

void label_categorical(const h5::Group& group, hid_t point, hsize_t points,
                       const std::vector<std::string>& keys, Attachments& attachments) {
  const auto labels = group.attr_strings("categories", MAX_COLUMNS);
  std::vector<std::int64_t> values;
  const bool numeric = numeric_labels(labels, values);
  // Numeric labels ("0", "2", "4"; round numbers) are integers, as in /runs and the Python package.
  if (numeric) {
    ensure_1d(group, "category", H5T_STD_I64LE, H5T_NATIVE_INT64, values);
  } else {
    ensure_strings(group, "category", labels);
  }
  const auto category = open_own(group, "category");
  make_scale(group, category, "category");
  for (const char* name : {"counts", "p", "ci_low", "ci_high"}) {
    if (!group.has(name)) continue;
    const auto ds = group.dataset(name);
    if (ds.shape() != std::vector<hsize_t>{points, labels.size()}) {
      ds.damaged(fmt::format("is not [{}, {}] (points, categories)", points, labels.size()));
    }
    attachments.add(ds, {point, category});
    set_coordinates(ds, keys);
  }
}

void label_continuous(const h5::Group& group, hid_t point, hsize_t points,
                      const std::vector<std::string>& keys, Attachments& attachments) {
  for (const char* name : {"n", "mean", "m2", "variance", "min", "max"}) {
    if (!group.has(name)) continue;
    const auto ds = group.dataset(name);
    if (ds.shape() != std::vector<hsize_t>{points})
      ds.damaged(fmt::format("is not [{}] (points)", points));
    attachments.add(ds, {point});
    set_coordinates(ds, keys);
  }
  if (!group.has("histogram")) return;
  const auto histogram = group.dataset("histogram");
  const auto& dims = histogram.shape();
  const std::uint64_t bins = group.attr_u64("hist_bins");
  if (bins == 0 || bins > MAX_COLUMNS || dims != std::vector<hsize_t>{points, bins + 2}) {
    histogram.damaged("is not [points, hist_bins + 2]");
  }
  const std::size_t columns = static_cast<std::size_t>(dims[1]);
  // Column 0 is the underflow, 1 ... bins the bins, bins + 1 the overflow; the top edge belongs
  // to the last bin.
  std::vector<std::int64_t> index;
  for (std::size_t i = 0; i < columns; ++i) index.push_back(static_cast<std::int64_t>(i));
  std::vector<double> low, high;
  bin_edges(group.attr_f64("hist_min"), group.attr_f64("hist_max"), bins, low, high);
  ensure_1d(group, "bin", H5T_STD_I64LE, H5T_NATIVE_INT64, index);
  const auto bin = open_own(group, "bin");
  make_scale(group, bin, "bin");
  for (const auto& [name, values] : {std::pair{"bin_low", &low}, std::pair{"bin_high", &high}}) {
    const auto ds = ensure_1d(group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, *values);
    attachments.add(ds, {bin});
  }
  attachments.add(histogram, {point, bin});
  std::vector<std::string> coordinates{"bin_low", "bin_high"};
  coordinates.insert(coordinates.end(), keys.begin(), keys.end());
  set_coordinates(histogram, coordinates);
}

/// /runs: the `run` dimension (root dataset, never written) on every column, and CF
/// flag_values/flag_meanings on index-encoded categorical columns.
void label_runs(const h5::File& file, Attachments& attachments) {
  const auto root = file.root();
  const auto runs = file.group("/runs");
  const hsize_t n = runs.dataset("point").length();
  if (!root.has("run")) {
    const h5::Handle space(H5Screate_simple(1, &n, nullptr));
    // Contiguous with late allocation (HDF5's default): never written, so it takes no space.
    const h5::Handle run(
        h5::check_id(H5Dcreate2(file.id(), "run", H5T_IEEE_F32LE, space, H5P_DEFAULT,
                                h5::untimed_props(H5P_DATASET_CREATE), H5P_DEFAULT),
                     file.path() + ": cannot create /run"));
  }
  const auto run = open_own(root, "run");
  {
    const h5::Handle space(H5Dget_space(run));
    hsize_t length = 0;
    if (H5Sget_simple_extent_ndims(space) != 1 ||
        (H5Sget_simple_extent_dims(space, &length, nullptr), length != n)) {
      file.damaged("/run", fmt::format("is not [{}] (the records)", n));
    }
  }
  const std::string name_attr = fmt::format("{}{:10d}", NOT_A_VARIABLE, n);
  if (!require_scale_class(run))
    check(root, H5DSset_scale(run, name_attr.c_str()), "/run: cannot make a dimension scale");
  for (const auto& name : runs.children()) {
    const auto ds = runs.dataset(name);
    if (ds.shape() != std::vector<hsize_t>{n}) {
      ds.damaged(
          fmt::format("has {} entries, /runs/point {}", ds.shape().empty() ? 0 : ds.shape()[0], n));
    }
    attachments.add(ds, {run});
    if (!ds.has_attr("encoding") || ds.attr_string("encoding") != "index") continue;
    const auto labels = ds.attr_strings("categories", MAX_COLUMNS);
    const std::string meanings = flag_meanings(labels);
    if (meanings.empty()) continue;  // CF flag_meanings are words
    if (ds.has_attr("flag_values") && ds.has_attr("flag_meanings")) {
      const h5::Handle attr(H5Aopen(ds.id(), "flag_meanings", H5P_DEFAULT));
      const h5::Handle type(H5Aget_type(attr));
      if (H5Tget_class(type) == H5T_STRING && ds.attr_string("flag_meanings") == meanings)
        continue;  // done
    }
    std::vector<std::uint64_t> codes(labels.size());
    for (std::size_t c = 0; c < codes.size(); ++c) codes[c] = c;
    const h5::Handle type(H5Dget_type(ds.id()));
    const hsize_t count = codes.size();
    const h5::Handle attr_space(H5Screate_simple(1, &count, nullptr));
    if (ds.has_attr("flag_values")) H5Adelete(ds.id(), "flag_values");
    const h5::Handle attr(
        h5::check_id(H5Acreate2(ds.id(), "flag_values", type, attr_space, H5P_DEFAULT, H5P_DEFAULT),
                     file.path() + ": /runs/" + name + ": cannot create flag_values"));
    check(ds, H5Awrite(attr, H5T_NATIVE_UINT64, codes.data()), "cannot write flag_values");
    h5::set_attr(ds.id(), "flag_meanings", meanings);
  }
}

bool design_point_is_scale(const h5::File& file) {
  const auto root = file.root();
  if (!root.has_group("design")) return false;
  const auto design = root.group("design");
  if (!design.has("point")) return false;
  return require_scale_class(design.dataset("point").id());
}

}  // namespace

bool has_dimension_scales(const std::string& path) {
  const h5::File file(path, false);
  return design_point_is_scale(file);
}

namespace {

/// Reading only: `name` in `group`, if present, holds `values` (the numbers as
/// write_dimension_scales stores them; compared as bits).
template <class T>
void verify_values(const h5::Group& group, const std::string& name, const std::vector<T>& values) {
  if (!group.has(name)) return;
  const auto ds = group.dataset(name);
  const auto stored = ds.template read<T>({values.size()});
  if (!values.empty() && std::memcmp(stored.data(), values.data(), values.size() * sizeof(T)) != 0)
    ds.damaged("holds other values than the rest of the file implies (a damaged coordinate)");
}

/// CF flag_values (0 ... count - 1) and flag_meanings (`expected`) of a labelled column or typed
/// boolean key: both present (write_dimension_scales writes them with the scales) and right.
void verify_flags(const h5::Object& o, std::size_t count, const std::string& expected) {
  for (const char* attr : {"flag_values", "flag_meanings"}) {
    if (!o.has_attr(attr))
      o.damaged(fmt::format("attribute {} is missing (a damaged coordinate)", attr));
  }
  if (o.attr_string("flag_meanings") != expected)
    o.damaged("attribute flag_meanings differs from the categories (a damaged coordinate)");
  const h5::Handle attr(H5Aopen(o.id(), "flag_values", H5P_DEFAULT));
  const h5::Handle type(H5Aget_type(attr));
  const h5::Handle space(H5Aget_space(attr));
  // Read signed: HDF5's conversion to an unsigned type clips a negative code (an int8 -1) to 0.
  std::vector<std::int64_t> codes(count);
  if (H5Tget_class(type) != H5T_INTEGER || H5Sget_simple_extent_ndims(space) != 1 ||
      H5Sget_simple_extent_npoints(space) != static_cast<hssize_t>(count) ||
      H5Aread(attr, H5T_NATIVE_INT64, codes.data()) < 0) {
    o.damaged(
        fmt::format("attribute flag_values is not {} integers (a damaged coordinate)", count));
  }
  for (std::size_t c = 0; c < count; ++c) {
    if (codes[c] != static_cast<std::int64_t>(c))
      o.damaged("attribute flag_values differs from the categories' codes (a damaged coordinate)");
  }
}

/// Dataset `id` (at `path` in `file`) is a dimension scale (CLASS) named `name` (NAME), as
/// write_dimension_scales made it.
void verify_scale(const h5::File& file, const std::string& path, hid_t id,
                  const std::string& name) {
  if (!require_scale_class(id)) file.damaged(path, CLASS_MISSING);
  // The attribute NAME read here: H5DSget_scale_name counts a null-padded name one character
  // short, and so took "points" for "point".
  std::optional<std::string> stored;
  if (H5Aexists(id, "NAME") > 0) {
    const h5::Handle attr(H5Aopen(id, "NAME", H5P_DEFAULT));
    const h5::Handle type(H5Aget_type(attr));
    const h5::Handle space(H5Aget_space(attr));
    if (H5Tget_class(type) == H5T_STRING && H5Sget_simple_extent_npoints(space) == 1) {
      if (H5Tis_variable_str(type) > 0) {
        char* p = nullptr;
        const h5::Handle mem(H5Tget_native_type(type, H5T_DIR_ASCEND));
        if (H5Aread(attr, mem, &p) >= 0 && p != nullptr) stored = std::string(p);
        H5free_memory(p);
      } else if (const std::size_t size = H5Tget_size(type); size > 0 && size <= 4096) {
        std::vector<char> buf(size, '\0');
        if (H5Aread(attr, type, buf.data()) >= 0)
          stored = std::string(buf.data(), strnlen(buf.data(), size));
      }
    }
  }
  H5Eclear2(H5E_DEFAULT);
  if (stored != name) {
    file.damaged(path, fmt::format("attribute NAME: the scale is not named '{}' (a damaged "
                                   "coordinate)",
                                   name));
  }
}
void verify_scale(const h5::Object& o, const std::string& name) {
  verify_scale(o.file(), o.name(), o.id(), name);
}

/// Dimension `axis` of `ds` has `scale` (named `scale_name`) attached: its DIMENSION_LIST
/// refers to the scale, and the scale's REFERENCE_LIST back to it (H5DSis_attached).
void verify_attached(const h5::Object& ds, hid_t scale, unsigned axis,
                     const std::string& scale_name) {
  if (!ds_is_attached(ds.id(), scale, axis)) {
    H5Eclear2(H5E_DEFAULT);
    ds.damaged(fmt::format(
        "attribute DIMENSION_LIST: dimension {} is not attached to the scale {} (a damaged "
        "coordinate)",
        axis, scale_name));
  }
}

/// Whether the file shows any sign of the scales besides /design/point's CLASS: a scale's NAME or
/// REFERENCE_LIST there, a category or bin coordinate, the /run dimension.
bool has_scale_traces(const h5::File& file) {
  const auto root = file.root();
  if (root.has("run")) return true;
  if (root.has_group("design") && root.group("design").has("point")) {
    const auto point = root.group("design").dataset("point");
    if (point.has_attr("NAME") || point.has_attr("REFERENCE_LIST")) return true;
  }
  if (!root.has_group("summary")) return false;
  const auto summary = root.group("summary");
  for (const auto& name : summary.children()) {
    if (!summary.has_group(name)) continue;
    const auto group = summary.group(name);
    if (group.has("category") || group.has("bin")) return true;
  }
  return false;
}

/// --store rounds (output::write_rounds_dimension_scales): /round_row, the flat /rounds
/// columns' dimension (a scale never written, as /run), each flat column attached to it and
/// /rounds/run_begin to `run`; checked as the others are (its CLASS first). A file whose /rounds
/// has no trace of scales (no /round_row, no column with a DIMENSION_LIST: a run stopped between
/// `complete` and the rounds' scales) is left alone, as the other scales of a file without them.
void verify_rounds_scales(const h5::File& file, hid_t run) {
  const auto root = file.root();
  if (!root.has_group("rounds")) return;
  const auto rounds = file.group("/rounds");
  std::vector<std::string> flat;
  bool traces = root.has("round_row");
  for (const auto& name : rounds.children()) {
    if (name != "run_begin") flat.push_back(name);
    traces = traces || rounds.dataset(name).has_attr("DIMENSION_LIST");
  }
  if (!traces || flat.empty()) return;
  if (!root.has("round_row")) file.damaged("/round_row", "missing (a damaged coordinate)");
  const h5::Handle row = open_own(root, "round_row");
  const hsize_t n = rounds.dataset(flat.front()).length();
  verify_scale(file, "/round_row", row, fmt::format("{}{:10d}", NOT_A_VARIABLE, n));
  if (H5Dget_storage_size(row) != 0) {
    file.damaged("/round_row",
                 "holds values; the rounds' dimension has none (a damaged coordinate)");
  }
  for (const auto& name : flat) verify_attached(rounds.dataset(name), row, 0, "round_row");
  if (rounds.has("run_begin")) verify_attached(rounds.dataset("run_begin"), run, 0, "run");
}

}  // namespace

void verify_dimension_scales(const h5::File& file) {
  if (!design_point_is_scale(file)) {
    // A file without the scales (partial, or older) has none of them; one with traces of them
    // lost /design/point's CLASS, which would otherwise skip every check below.
    if (has_scale_traces(file)) {
      file.damaged("/design/point", CLASS_MISSING);
    }
    return;
  }
  const auto design = file.group("/design");
  const auto keys = design.attr_strings("keys", 10'000);
  const auto point = design.dataset("point");
  const hsize_t points = point.length();
  verify_scale(point, "point");
  const auto summary = file.group("/summary");
  for (const auto& key : keys) {
    const auto source = design.dataset(key);
    verify_attached(source, point.id(), 0, "point");
    if (!summary.has(key) || summary.has_group(key)) continue;
    const std::string type =
        source.has_attr("value_type") ? source.attr_string("value_type") : "real";
    const auto values = source.read<double>({points});
    if (type == "integer") {
      std::vector<std::int64_t> ints;
      for (double v : values) ints.push_back(static_cast<std::int64_t>(v));
      verify_values(summary, key, ints);
      verify_attached(summary.dataset(key), point.id(), 0, "point");
    } else if (type == "boolean") {
      std::vector<std::int8_t> flags;
      for (double v : values) flags.push_back(v != 0.0 ? 1 : 0);
      verify_values(summary, key, flags);
      verify_flags(summary.dataset(key), 2, "false true");
      verify_attached(summary.dataset(key), point.id(), 0, "point");
    }  // a real key's coordinate is /design/<key> itself, linked (read and checked already)
  }
  if (summary.has("runs") && !summary.has_group("runs"))
    verify_attached(summary.dataset("runs"), point.id(), 0, "point");
  for (const auto& name : summary.children()) {
    if (!summary.has_group(name)) continue;
    const auto group = summary.group(name);
    if (!group.has_attr("kind")) continue;
    const std::string kind = group.attr_string("kind");
    if (kind == "categorical") {
      const auto labels = group.attr_strings("categories", MAX_COLUMNS);
      std::vector<std::int64_t> values;
      const bool numeric = numeric_labels(labels, values);
      if (!group.has("category")) group.damaged("category: missing (a damaged coordinate)");
      if (numeric) {
        verify_values(group, "category", values);
      } else if (group.strings("category", labels.size()) != labels) {
        group.damaged("category: the labels differ from the categories (a damaged coordinate)");
      }
      const h5::Handle category = open_own(group, "category");
      verify_scale(file, group.name() + "/category", category, "category");
      for (const char* column : {"counts", "p", "ci_low", "ci_high"}) {
        if (!group.has(column)) continue;
        const auto ds = group.dataset(column);
        verify_attached(ds, point.id(), 0, "point");
        verify_attached(ds, category, 1, "category");
      }
    } else if (kind == "continuous") {
      const std::uint64_t bins = group.attr_u64("hist_bins");
      if (bins == 0 || bins > MAX_COLUMNS) continue;  // no histogram (the summary's checks say)
      std::vector<std::int64_t> index;
      for (std::uint64_t i = 0; i < bins + 2; ++i) index.push_back(static_cast<std::int64_t>(i));
      std::vector<double> low, high;
      bin_edges(group.attr_f64("hist_min"), group.attr_f64("hist_max"), bins, low, high);
      if (!group.has("bin")) group.damaged("bin: missing (a damaged coordinate)");
      verify_values(group, "bin", index);
      verify_values(group, "bin_low", low);
      verify_values(group, "bin_high", high);
      const auto bin = group.dataset("bin");
      verify_scale(bin, "bin");
      for (const char* column : {"n", "mean", "m2", "variance", "min", "max"}) {
        if (group.has(column)) verify_attached(group.dataset(column), point.id(), 0, "point");
      }
      for (const char* column : {"bin_low", "bin_high"}) {
        if (group.has(column)) verify_attached(group.dataset(column), bin.id(), 0, "bin");
      }
      if (group.has("histogram")) {
        verify_attached(group.dataset("histogram"), point.id(), 0, "point");
        verify_attached(group.dataset("histogram"), bin.id(), 1, "bin");
      }
    }
  }
  if (!file.root().has_group("runs")) return;
  const auto runs = file.group("/runs");
  const hsize_t n = runs.dataset("point").length();
  // /run: the records' dimension, a dimension without a variable, never written.
  if (!file.root().has("run")) file.damaged("/run", "missing (a damaged coordinate)");
  const h5::Handle run = open_own(file.root(), "run");
  verify_scale(file, "/run", run, fmt::format("{}{:10d}", NOT_A_VARIABLE, n));
  if (H5Dget_storage_size(run) != 0) {
    file.damaged("/run", "holds values; the records' dimension has none (a damaged coordinate)");
  }
  for (const auto& name : runs.children()) {
    const auto ds = runs.dataset(name);
    verify_attached(ds, run, 0, "run");
    if (!ds.has_attr("encoding") || ds.attr_string("encoding") != "index") continue;
    const auto labels = ds.attr_strings("categories", MAX_COLUMNS);
    const auto meanings = flag_meanings(labels);
    if (!meanings.empty()) verify_flags(ds, labels.size(), meanings);
  }
  verify_rounds_scales(file, run);
}

void verify_dimension_scales(const std::string& path) {
  const h5::File file(path, false);
  verify_dimension_scales(file);
}

void write_dimension_scales(const std::string& path) {
  const h5::File file(path, true, h5::LockCheck::ours);
  write_dimension_scales(file);
}

void write_dimension_scales(const h5::File& file) {
  h5::quiet_errors();
  const auto design = file.group("/design");
  const auto keys = design.attr_strings("keys", 10'000);
  const auto point = design.dataset("point");
  const hsize_t points = point.length();
  // (Every scale is made after /design/point: while it is none, nothing is attached.)
  Attachments attachments(!design_point_is_scale(file));
  make_scale(point, point.id(), "point");
  for (const auto& key : keys) {
    const auto ds = design.dataset(key);
    if (ds.shape() != std::vector<hsize_t>{points})
      ds.damaged(fmt::format("is not [{}] (points)", points));
    attachments.add(ds, {point.id()});
  }
  const auto summary = file.group("/summary");
  const auto sources = typed_coordinates(design, summary, point.id(), points, keys, attachments);
  link_coordinates(file, summary, keys, sources);
  if (summary.has("runs")) {
    const auto runs = summary.dataset("runs");
    if (runs.shape() != std::vector<hsize_t>{points})
      runs.damaged(fmt::format("is not [{}] (points)", points));
    attachments.add(runs, {point.id()});
    set_coordinates(runs, keys);
  }
  for (const auto& name : summary.children()) {
    if (!summary.has_group(name)) continue;
    const auto group = summary.group(name);
    if (!group.has_attr("kind")) continue;
    const std::string kind = group.attr_string("kind");
    if (kind != "categorical" && kind != "continuous") continue;
    link_coordinates(file, group, keys, sources);
    if (kind == "categorical") {
      label_categorical(group, point.id(), points, keys, attachments);
    } else {
      label_continuous(group, point.id(), points, keys, attachments);
    }
  }
  if (file.root().has_group("runs")) label_runs(file, attachments);
  attachments.write(file);
  h5::check(H5Fflush(file.id(), H5F_SCOPE_GLOBAL), file.path() + ": cannot flush");
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file.id(), H5P_DEFAULT, &handle) >= 0 && handle != nullptr &&
      ::fsync(*static_cast<int*>(handle)) != 0) {
    throw OutputError(
        fmt::format("{}: cannot sync to disk: {}", file.path(), std::strerror(errno)));
  }
}

}  // namespace wedge::output
