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

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <vector>

namespace wedge::output {

namespace {

/// netCDF-C's NAME attribute of a dimension scale that is not a variable (h5netcdf and netCDF-C
/// both recognise it and list no variable for the dataset).
constexpr const char* NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable.";

struct Scope {
  std::string path;  ///< the file, for messages
  void check(herr_t status, const std::string& what) const { h5::check(status, path + ": " + what); }
  h5::Handle open_dataset(hid_t parent, const std::string& parent_name, const std::string& name) const {
    return h5::Handle(h5::check_id(H5Dopen2(parent, name.c_str(), H5P_DEFAULT),
                                   fmt::format("{}: missing dataset {}/{}", path, parent_name, name)));
  }
};

bool parse_int(const std::string& s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

/// Names of a group's links, in name order.
std::vector<std::string> link_names(hid_t group) {
  H5G_info_t info{};
  h5::check(H5Gget_info(group, &info), "cannot list a group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    h5::check(static_cast<herr_t>(size < 0 ? -1 : 0), "cannot read a link name");
    std::string name(static_cast<std::size_t>(size), '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
    names.push_back(std::move(name));
  }
  return names;
}

bool is_group(hid_t parent, const std::string& name) {
  const hid_t id = H5Oopen(parent, name.c_str(), H5P_DEFAULT);
  if (id < 0) return false;
  const bool group = H5Iget_type(id) == H5I_GROUP;
  H5Oclose(id);
  return group;
}

/// The first dimension's length of a dataset, and its rank.
std::vector<hsize_t> shape(hid_t dataset) {
  const h5::Handle space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

/// A 1-D dataset of `values` (written whole, contiguous).
template <class T>
h5::Handle write_1d(const Scope& s, hid_t parent, const std::string& name, hid_t file_type, hid_t mem_type,
                    const std::vector<T>& values) {
  const hsize_t n = values.size();
  const h5::Handle space(H5Screate_simple(1, &n, nullptr));
  h5::Handle ds(h5::check_id(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             s.path + ": cannot create dataset " + name));
  if (n > 0) s.check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "cannot write " + name);
  return ds;
}

/// A 1-D dataset of UTF-8 strings (variable length, as netCDF-4 stores strings).
h5::Handle write_strings(const Scope& s, hid_t parent, const std::string& name, const std::vector<std::string>& values) {
  const h5::Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  return write_1d(s, parent, name, type, type, pointers);
}

void attach(const Scope& s, hid_t dataset, hid_t scale, unsigned axis, const std::string& what) {
  s.check(H5DSattach_scale(dataset, scale, axis), fmt::format("cannot attach dimension {} to {}", axis, what));
}

/// Hard links, in `group`, to the design's point and the swept keys' coordinate datasets
/// (/design/<key>, or the typed /summary/<key> of typed_coordinates).
void link_coordinates(const Scope& s, hid_t file, hid_t group, const std::string& group_name,
                      const std::vector<std::string>& keys, const std::vector<std::string>& sources) {
  const auto link = [&](const std::string& name, const std::string& source) {
    if (h5::exists(group, name)) return;
    s.check(H5Lcreate_hard(file, source.c_str(), group, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
            fmt::format("cannot link {} into {}", source, group_name));
  };
  link("point", "/design/point");
  for (std::size_t k = 0; k < keys.size(); ++k) link(keys[k], sources[k]);
}

/// The coordinate dataset of each swept key: /design/<key> (float64) for a real key; for an
/// integer key (value_type "integer") an int64 copy, for a boolean one an int8 copy (0/1), at
/// /summary/<key>, so that netCDF readers give integer keys as integers. Returns their paths.
std::vector<std::string> typed_coordinates(const Scope& s, hid_t design, hid_t summary, hid_t point,
                                           const std::vector<std::string>& keys) {
  std::vector<std::string> sources;
  for (const auto& key : keys) {
    const auto ds = s.open_dataset(design, "/design", key);
    const std::string type = h5::has_attr(ds, "value_type") ? h5::get_attr_string(ds, "value_type") : "real";
    if ((type != "integer" && type != "boolean") || h5::exists(summary, key)) {
      sources.push_back("/design/" + key);
      continue;
    }
    const auto values = h5::read_dataset<double>(design, key);
    h5::Handle typed;
    if (type == "integer") {
      std::vector<std::int64_t> ints(values.begin(), values.end());
      typed = write_1d(s, summary, key, H5T_STD_I64LE, H5T_NATIVE_INT64, ints);
    } else {
      std::vector<std::int8_t> flags;
      for (double v : values) flags.push_back(v != 0.0 ? 1 : 0);
      typed = write_1d(s, summary, key, H5T_STD_I8LE, H5T_NATIVE_INT8, flags);
      const std::vector<std::int8_t> codes{0, 1};
      const hsize_t two = 2;
      const h5::Handle space(H5Screate_simple(1, &two, nullptr));
      const h5::Handle attr(h5::check_id(H5Acreate2(typed, "flag_values", H5T_STD_I8LE, space, H5P_DEFAULT, H5P_DEFAULT),
                                         s.path + ": /summary/" + key + ": cannot create flag_values"));
      s.check(H5Awrite(attr, H5T_NATIVE_INT8, codes.data()), "/summary/" + key + ": cannot write flag_values");
      h5::set_attr(typed, "flag_meanings", std::string("false true"));
    }
    h5::set_attr(typed, "value_type", type);
    attach(s, typed, point, 0, "/summary/" + key);
    sources.push_back("/summary/" + key);
  }
  return sources;
}

/// The CF `coordinates` attribute: the swept keys, so that netCDF readers make them coordinates.
void set_coordinates(hid_t dataset, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : " ") + n;
  h5::set_attr(dataset, "coordinates", joined);
}

void label_categorical(const Scope& s, hid_t group, const std::string& group_name, hid_t point,
                       const std::vector<std::string>& keys) {
  const auto labels = h5::get_attr_strings(group, "categories");
  bool numeric = !labels.empty();
  std::vector<std::int64_t> values;
  for (const auto& label : labels) {
    std::int64_t v = 0;
    numeric = numeric && parse_int(label, v);
    values.push_back(v);
  }
  // Numeric labels ("0", "2", "4"; round numbers) are integers, as in /runs and the Python package.
  const h5::Handle category = numeric ? write_1d(s, group, "category", H5T_STD_I64LE, H5T_NATIVE_INT64, values)
                                      : write_strings(s, group, "category", labels);
  s.check(H5DSset_scale(category, "category"), group_name + "/category: cannot make a dimension scale");
  for (const char* name : {"counts", "p", "ci_low", "ci_high"}) {
    if (!h5::exists(group, name)) continue;
    const auto ds = s.open_dataset(group, group_name, name);
    const auto dims = shape(ds);
    if (dims.size() != 2 || dims[1] != labels.size()) {
      throw OutputError(fmt::format("{}: damaged: {}/{} is not [points, {}]", s.path, group_name, name, labels.size()));
    }
    attach(s, ds, point, 0, group_name + "/" + name);
    attach(s, ds, category, 1, group_name + "/" + name);
    set_coordinates(ds, keys);
  }
}

void label_continuous(const Scope& s, hid_t group, const std::string& group_name, hid_t point,
                      const std::vector<std::string>& keys) {
  for (const char* name : {"n", "mean", "m2", "variance", "min", "max"}) {
    if (!h5::exists(group, name)) continue;
    const auto ds = s.open_dataset(group, group_name, name);
    attach(s, ds, point, 0, group_name + "/" + name);
    set_coordinates(ds, keys);
  }
  if (!h5::exists(group, "histogram")) return;
  const auto histogram = s.open_dataset(group, group_name, "histogram");
  const auto dims = shape(histogram);
  const std::uint64_t bins = h5::get_attr_u64(group, "hist_bins");
  if (dims.size() != 2 || bins == 0 || dims[1] != bins + 2) {
    throw OutputError(fmt::format("{}: damaged: {}/histogram is not [points, hist_bins + 2]", s.path, group_name));
  }
  const std::size_t columns = static_cast<std::size_t>(dims[1]);
  // Column 0 is the underflow, 1 ... bins the bins, bins + 1 the overflow; the top edge belongs
  // to the last bin.
  const double lo = h5::get_attr_f64(group, "hist_min");
  const double hi = h5::get_attr_f64(group, "hist_max");
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<std::int64_t> index;
  std::vector<double> low{-inf}, high{lo};
  for (std::size_t i = 0; i < columns; ++i) index.push_back(static_cast<std::int64_t>(i));
  for (std::uint64_t i = 1; i <= bins; ++i) {
    low.push_back(lo + (hi - lo) * static_cast<double>(i - 1) / static_cast<double>(bins));
    high.push_back(i == bins ? hi : lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(bins));
  }
  low.push_back(hi);
  high.push_back(inf);
  const auto bin = write_1d(s, group, "bin", H5T_STD_I64LE, H5T_NATIVE_INT64, index);
  s.check(H5DSset_scale(bin, "bin"), group_name + "/bin: cannot make a dimension scale");
  for (const auto& [name, values] : {std::pair{"bin_low", &low}, std::pair{"bin_high", &high}}) {
    const auto ds = write_1d(s, group, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, *values);
    attach(s, ds, bin, 0, group_name + "/" + name);
  }
  attach(s, histogram, point, 0, group_name + "/histogram");
  attach(s, histogram, bin, 1, group_name + "/histogram");
  std::vector<std::string> coordinates{"bin_low", "bin_high"};
  coordinates.insert(coordinates.end(), keys.begin(), keys.end());
  set_coordinates(histogram, coordinates);
}

/// /runs: the `run` dimension (root dataset, never written) on every column, and CF
/// flag_values/flag_meanings on index-encoded categorical columns.
void label_runs(const Scope& s, hid_t file) {
  const auto runs = h5::open_group(file, "runs");
  const auto point = s.open_dataset(runs, "/runs", "point");
  const hsize_t n = h5::length(point);
  const h5::Handle space(H5Screate_simple(1, &n, nullptr));
  // Contiguous with late allocation (HDF5's default): never written, so it takes no space.
  const h5::Handle run(h5::check_id(H5Dcreate2(file, "run", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                                    s.path + ": cannot create /run"));
  const std::string name_attr = fmt::format("{}{:10d}", NOT_A_VARIABLE, n);
  s.check(H5DSset_scale(run, name_attr.c_str()), "/run: cannot make a dimension scale");
  for (const auto& name : link_names(runs)) {
    const auto ds = s.open_dataset(runs, "/runs", name);
    const auto dims = shape(ds);
    if (dims.size() != 1 || dims[0] != n) {
      throw OutputError(fmt::format("{}: damaged: /runs/{} has {} entries, /runs/point {}", s.path, name,
                                    dims.empty() ? 0 : dims[0], n));
    }
    attach(s, ds, run, 0, "/runs/" + name);
    if (!h5::has_attr(ds, "encoding") || h5::get_attr_string(ds, "encoding") != "index") continue;
    const auto labels = h5::get_attr_strings(ds, "categories");
    std::string meanings;
    bool words = true;
    for (const auto& label : labels) {
      words = words && !label.empty() && label.find_first_of(" \t\n") == std::string::npos;
      meanings += (meanings.empty() ? "" : " ") + label;
    }
    if (!words) continue;  // CF flag_meanings are words
    std::vector<std::uint64_t> codes(labels.size());
    for (std::size_t c = 0; c < codes.size(); ++c) codes[c] = c;
    const h5::Handle type(H5Dget_type(ds));
    const hsize_t count = codes.size();
    const h5::Handle attr_space(H5Screate_simple(1, &count, nullptr));
    if (h5::has_attr(ds, "flag_values")) H5Adelete(ds, "flag_values");
    const h5::Handle attr(h5::check_id(H5Acreate2(ds, "flag_values", type, attr_space, H5P_DEFAULT, H5P_DEFAULT),
                                       s.path + ": /runs/" + name + ": cannot create flag_values"));
    s.check(H5Awrite(attr, H5T_NATIVE_UINT64, codes.data()), "/runs/" + name + ": cannot write flag_values");
    h5::set_attr(ds, "flag_meanings", meanings);
  }
}

bool design_point_is_scale(hid_t file) {
  if (!h5::exists(file, "design") || H5Lexists(file, "design/point", H5P_DEFAULT) <= 0) return false;
  const h5::Handle point(H5Dopen2(file, "design/point", H5P_DEFAULT));
  return point.valid() && H5DSis_scale(point) > 0;
}

}  // namespace

bool has_dimension_scales(const std::string& path) {
  h5::quiet_errors();
  const auto file = h5::open_file(path, false);
  return design_point_is_scale(file);
}

void write_dimension_scales(const std::string& path) {
  h5::quiet_errors();
  const Scope s{path};
  {
    const auto file = h5::open_file(path, true);
    if (design_point_is_scale(file)) return;
    const auto design = h5::open_group(file, "design");
    const auto keys = h5::get_attr_strings(design, "keys");
    const auto point = s.open_dataset(design, "/design", "point");
    s.check(H5DSset_scale(point, "point"), "/design/point: cannot make a dimension scale");
    for (const auto& key : keys) attach(s, s.open_dataset(design, "/design", key), point, 0, "/design/" + key);

    const auto summary = h5::open_group(file, "summary");
    const auto sources = typed_coordinates(s, design, summary, point, keys);
    link_coordinates(s, file, summary, "/summary", keys, sources);
    if (h5::exists(summary, "runs")) {
      const auto runs = s.open_dataset(summary, "/summary", "runs");
      attach(s, runs, point, 0, "/summary/runs");
      set_coordinates(runs, keys);
    }
    for (const auto& name : link_names(summary)) {
      if (!is_group(summary, name)) continue;
      const auto group = h5::open_group(summary, name);
      const std::string group_name = "/summary/" + name;
      if (!h5::has_attr(group, "kind")) continue;
      const std::string kind = h5::get_attr_string(group, "kind");
      if (kind != "categorical" && kind != "continuous") continue;
      link_coordinates(s, file, group, group_name, keys, sources);
      if (kind == "categorical") {
        label_categorical(s, group, group_name, point, keys);
      } else {
        label_continuous(s, group, group_name, point, keys);
      }
    }
    if (h5::exists(file, "runs")) label_runs(s, file);
    s.check(H5Fflush(file, H5F_SCOPE_GLOBAL), "cannot flush");
    void* handle = nullptr;
    if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle != nullptr && ::fsync(*static_cast<int*>(handle)) != 0) {
      throw OutputError(fmt::format("{}: cannot sync to disk: {}", path, std::strerror(errno)));
    }
  }
}

}  // namespace wedge::output
