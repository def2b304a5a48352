// The per-round table of a results file (`--store rounds`): writing, resuming, checking, merging
// and the netCDF dimension scales of /rounds (docs/output-format.md, "/rounds").
#include "output/rounds.hpp"

#include "engine/error.hpp"
#include "output/file_driver.hpp"
#include "output/results.hpp"

#include <fmt/format.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>

namespace wedge::output {

namespace {

// Opening goes through the checked layer (output/hdf5.hpp: regular files only, HDF5's own driver,
// the lock); /rounds is then read through the raw handle, from files this process wrote (--resume)
// or that merge_shards has verified (merge).
h5::Handle open_file(const std::string& path, bool writable, h5::LockCheck lock) {
  h5::File file(path, writable, lock);
  return file.take();
}

h5::Handle string_type() {
  h5::Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  return type;
}

std::vector<std::string> attr_strings(hid_t obj, const std::string& name) {
  const h5::Handle attr(
      h5::check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "missing attribute " + name));
  const h5::Handle space(H5Aget_space(attr));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  const h5::Handle file_type(H5Aget_type(attr));
  if (H5Tget_class(file_type) != H5T_STRING || H5Tis_variable_str(file_type) <= 0 || n < 0 ||
      n > 100'000) {
    throw OutputError("attribute " + name + " is not a list of variable-length strings");
  }
  std::vector<std::string> out;
  if (n == 0) return out;
  const auto type = string_type();
  std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
  h5::check(H5Aread(attr, type, ptrs.data()), "cannot read attribute " + name);
  for (char* ptr : ptrs) out.emplace_back(ptr != nullptr ? ptr : "");
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
  return out;
}

std::string attr_string(hid_t obj, const std::string& name) {
  auto values = attr_strings(obj, name);
  if (values.size() != 1) throw OutputError("attribute " + name + " is not a single string");
  return values.front();
}

constexpr const char* GROUP = "rounds";
constexpr const char* INDEX = "run_begin";
constexpr const char* SIZE_ATTRIBUTE = "size_column";
/// Rows per chunk (each chunk carries a Fletcher-32 checksum), as /runs.
constexpr hsize_t CHUNK = 1 << 16;
/// Rows read at a time when checking or merging: memory stays bounded whatever the file's size.
constexpr hsize_t STEP = 1 << 20;
/// netCDF-C's NAME attribute of a dimension scale that is not a variable (dimension_scales.cpp).
constexpr const char* NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable.";

bool parse_int(const std::string& s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

/// The values a categorical column stores for its category indices: the label's number when
/// every label is a number (encoding "value"), else the index (encoding "index").
std::vector<std::int64_t> stored_values(const engine::FieldSpec& f) {
  const bool numeric = numeric_categories(f);
  std::vector<std::int64_t> values;
  for (std::size_t c = 0; c < f.categories.size(); ++c) {
    std::int64_t v = static_cast<std::int64_t>(c);
    if (numeric) parse_int(f.categories[c], v);
    values.push_back(v);
  }
  return values;
}

h5::Handle open_dataset(hid_t group, const std::string& path, const std::string& name) {
  return h5::Handle(h5::check_id(H5Dopen2(group, name.c_str(), H5P_DEFAULT),
                                 fmt::format("{}: missing dataset /{}/{}", path, GROUP, name)));
}

/// Elements [start, start + n) of a 1-D dataset, converted to T.
template <class T>
std::vector<T> read_range(hid_t dataset, hsize_t start, hsize_t n, const std::string& what) {
  std::vector<T> out(static_cast<std::size_t>(n));
  if (n == 0) return out;
  const h5::Handle space(H5Dget_space(dataset));
  h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &n, nullptr),
            what + ": selection");
  const h5::Handle mem(H5Screate_simple(1, &n, nullptr));
  h5::check(H5Dread(dataset, h5::native_type<T>(), mem, space, H5P_DEFAULT, out.data()),
            "cannot read " + what);
  return out;
}

/// The names of the datasets in /rounds other than the index, in name order.
std::vector<std::string> flat_columns(hid_t group) {
  H5G_info_t info{};
  h5::check(H5Gget_info(group, &info), "cannot list /rounds");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size =
        H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    h5::check(static_cast<herr_t>(size < 0 ? -1 : 0), "cannot read a link name in /rounds");
    std::string name(static_cast<std::size_t>(size), '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1,
                       H5P_DEFAULT);
    if (name != INDEX) names.push_back(std::move(name));
  }
  return names;
}

/// A shard's /rounds as merge_rounds reads it.
struct ShardRounds {
  h5::Handle file;
  h5::Handle group;
  std::vector<std::uint64_t> run_begin;
  std::uint64_t rows = 0;
};

void sync(hid_t file, const std::string& path) {
  h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), path + ": cannot flush");
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) >= 0 && handle != nullptr &&
      ::fsync(*static_cast<int*>(handle)) != 0) {
    throw OutputError(fmt::format("{}: cannot sync to disk: {}", path, std::strerror(errno)));
  }
}

}  // namespace

RoundsWriter::RoundsWriter(hid_t file, const std::string& path, const engine::FieldLayout& columns,
                           const std::string& size_column, bool compress)
    : path_(path), layout_(columns), file_(file) {
  {
    const auto group = h5::create_group(file_, GROUP);
    h5::set_attr(group, "description",
                 std::string("one row per round of every run in /runs, in the order of /runs; run "
                             "i's rounds are rows "
                             "[run_begin[i], run_begin[i] + /runs/" +
                             size_column + "[i])"));
    h5::set_attr(group, SIZE_ATTRIBUTE, size_column);
    const auto index = h5::create_column(group, INDEX, H5T_STD_U64LE, CHUNK, compress);
    h5::set_attr(
        index, "description",
        std::string("for each run (row of /runs), the row of /rounds that holds its first round"));
    for (const auto& f : layout_.categorical) {
      const auto values = stored_values(f);
      const bool numeric = numeric_categories(f);
      const bool wide = *std::max_element(values.begin(), values.end()) > 255;
      const auto c =
          h5::create_column(group, f.name, wide ? H5T_STD_U16LE : H5T_STD_U8LE, CHUNK, compress);
      h5::set_attr(c, "categories", f.categories);
      h5::set_attr(c, "encoding", std::string(numeric ? "value" : "index"));
      h5::set_attr(c, "description", f.description);
    }
    for (const auto& f : layout_.continuous) {
      const auto c = h5::create_column(
          group, f.name,
          f.storage == engine::StorageType::float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, CHUNK,
          compress);
      h5::set_attr(c, "description", f.description);
      h5::set_attr(c, "units", f.units);
    }
  }
  h5::set_attr(file_, ROUNDS_ATTRIBUTE, std::uint64_t{1});
  open_columns();
  // On disk before any run: a failure before the first checkpoint (a full disk) leaves a partial
  // that says it stores rounds, which --resume --store rounds continues (found by the full-disk
  // test: the partial said "written without --store rounds").
  sync(file_, path_);
}

RoundsWriter::RoundsWriter(hid_t file, const std::string& path, const engine::FieldLayout& columns,
                           std::uint64_t runs_done)
    : path_(path), layout_(columns), file_(file) {
  open_columns();
  const std::string size_column = attr_string(group_, SIZE_ATTRIBUTE);
  const hsize_t stored_runs = h5::length(run_begin_);
  if (stored_runs < runs_done) {
    throw OutputError(fmt::format("{}: damaged: /rounds/run_begin holds {} runs, runs_done = {}",
                                  path, stored_runs, runs_done));
  }
  std::uint64_t keep = 0;
  if (runs_done > 0 && stored_runs > runs_done) {
    keep = read_range<std::uint64_t>(run_begin_, runs_done, 1, "/rounds/run_begin")[0];
  } else if (runs_done > 0) {
    const auto runs = h5::open_group(file_, "runs");
    const auto size = open_dataset(runs, path, size_column);
    keep = read_range<std::uint64_t>(run_begin_, runs_done - 1, 1, "/rounds/run_begin")[0] +
           read_range<std::uint64_t>(size, runs_done - 1, 1, "/runs/" + size_column)[0];
  }
  for (auto& c : columns_) {
    if (h5::length(c) < keep)
      throw OutputError(
          fmt::format("{}: damaged: a /rounds column holds fewer than {} rows", path, keep));
    h5::set_length(c, keep);
  }
  h5::set_length(run_begin_, runs_done);
  rows_ = keep;
  runs_ = runs_done;
}

void RoundsWriter::open_columns() {
  group_ = h5::open_group(file_, GROUP);
  run_begin_ = open_dataset(group_, path_, INDEX);
  columns_.clear();
  category_values_.clear();
  category_wide_.clear();
  for (const auto& f : layout_.categorical) {
    columns_.push_back(open_dataset(group_, path_, f.name));
    category_values_.push_back(stored_values(f));
    const h5::Handle type(H5Dget_type(columns_.back()));
    category_wide_.push_back(H5Tget_size(type) > 1);
  }
  for (const auto& f : layout_.continuous) columns_.push_back(open_dataset(group_, path_, f.name));
}

void RoundsWriter::append(std::span<const std::uint32_t> sizes,
                          std::span<const std::uint16_t> categories,
                          std::span<const double> values) {
  std::uint64_t n = 0;
  for (const auto s : sizes) n += s;
  const std::size_t nc = layout_.categorical.size();
  const std::size_t nv = layout_.continuous.size();
  if (categories.size() != n * nc || values.size() != n * nv) {
    throw std::invalid_argument("RoundsWriter::append: the rows do not match the runs' sizes");
  }
  // The rows first, then the index that points at them.
  std::vector<std::uint8_t> u8(n);
  std::vector<std::uint16_t> u16;
  for (std::size_t c = 0; c < nc; ++c) {
    const auto& stored = category_values_[c];
    if (category_wide_[c]) {
      u16.resize(n);
      for (std::uint64_t r = 0; r < n; ++r)
        u16[r] = static_cast<std::uint16_t>(stored[categories[r * nc + c]]);
      h5::append(columns_[c], H5T_NATIVE_UINT16, u16.data(), n);
    } else {
      for (std::uint64_t r = 0; r < n; ++r)
        u8[r] = static_cast<std::uint8_t>(stored[categories[r * nc + c]]);
      h5::append(columns_[c], H5T_NATIVE_UINT8, u8.data(), n);
    }
  }
  std::vector<float> f32;
  std::vector<double> f64;
  for (std::size_t v = 0; v < nv; ++v) {
    if (layout_.continuous[v].storage == engine::StorageType::float32) {
      f32.resize(n);
      for (std::uint64_t r = 0; r < n; ++r) f32[r] = static_cast<float>(values[r * nv + v]);
      h5::append(columns_[nc + v], H5T_NATIVE_FLOAT, f32.data(), n);
    } else {
      f64.resize(n);
      for (std::uint64_t r = 0; r < n; ++r) f64[r] = values[r * nv + v];
      h5::append(columns_[nc + v], H5T_NATIVE_DOUBLE, f64.data(), n);
    }
  }
  std::vector<std::uint64_t> begin(sizes.size());
  std::uint64_t at = rows_;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    begin[i] = at;
    at += sizes[i];
  }
  h5::append(run_begin_, H5T_NATIVE_UINT64, begin.data(), begin.size());
  rows_ = at;
  runs_ += sizes.size();
}

void RoundsWriter::close() {
  columns_.clear();
  run_begin_.reset();
  group_.reset();
}

void RoundsWriter::abandon() noexcept {
  // Fenced first (the results file's own, shared): closing the columns writes nothing then.
  h5::fence(file_);
  columns_.clear();
  run_begin_.reset();
  group_.reset();
}

bool has_rounds(const std::string& path, h5::LockCheck lock) {
  h5::quiet_errors();
  const h5::File file(path, false, lock);
  const auto root = file.root();
  return root.has_attr(ROUNDS_ATTRIBUTE) && root.attr_u64(ROUNDS_ATTRIBUTE) == 1;
}

void check_rounds(const std::string& path, std::uint64_t runs, h5::LockCheck lock) {
  h5::quiet_errors();
  const h5::File file(path, false, lock);
  const auto root = file.root();
  if (!root.has(GROUP)) file.damaged("/rounds", "missing (the file's store_rounds is 1)");
  const auto group = root.group(GROUP);  // a hard link to a group
  const std::string size_column = group.attr_string(SIZE_ATTRIBUTE);
  const auto runs_group = file.group("/runs");
  if (!runs_group.has(size_column)) {
    group.damaged(
        fmt::format("its size_column names /runs/{}, which the file does not hold", size_column));
  }
  (void)runs_group.dataset(size_column).length();
  const bool complete = root.has_attr("complete") && root.attr_u64("complete") == 1;
  // A complete file holds exactly its runs_done runs (a shard: its own).
  if (complete) runs = std::max(runs, root.attr_u64("runs_done"));
  std::vector<hsize_t> rows;
  // Every link is a hard link to a checked 1-D dataset (data stored in this file, known filters,
  // numbers): the raw reads below and in merge_rounds then read nothing else.
  for (const auto& name : group.children()) {
    const auto ds = group.dataset(name);
    const hsize_t n = ds.length();
    if (name == INDEX || name == "round") {
      std::vector<std::uint64_t> none;
      ds.read_rows<std::uint64_t>(0, 0, none);  // checks the type: unsigned integers
    }
    if (name == INDEX) {
      if (n < runs ||
          (complete && n != runs))  // (a partial file may hold rows past its checkpoint)
        ds.damaged(fmt::format("holds {} runs, {} runs are done", n, runs));
    } else {
      rows.push_back(n);
    }
  }
  for (const char* name : {INDEX, "round"}) {
    if (!group.has(name)) file.damaged(fmt::format("/{}/{}", GROUP, name), "missing");
  }
  if (complete && std::adjacent_find(rows.begin(), rows.end(), std::not_equal_to<>()) != rows.end())
    group.damaged("its columns hold different numbers of rows");
}

void verify_rounds(const std::string& path, std::uint64_t runs_done, h5::LockCheck lock) {
  check_rounds(path, runs_done, lock);
  h5::quiet_errors();
  const auto file = open_file(path, false, lock);
  try {
    if (!h5::exists(file, GROUP)) throw OutputError("no /rounds group");
    const auto group = h5::open_group(file, GROUP);
    const std::string size_column = attr_string(group, SIZE_ATTRIBUTE);
    const auto index = open_dataset(group, path, INDEX);
    if (h5::length(index) < runs_done) {
      throw OutputError(fmt::format("/rounds/run_begin holds {} runs, fewer than runs_done ({})",
                                    h5::length(index), runs_done));
    }
    const auto size = open_dataset(h5::open_group(file, "runs"), path, size_column);
    if (h5::length(size) < runs_done)
      throw OutputError("/runs/" + size_column + " holds fewer runs than runs_done");
    // run_begin starts at 0 and steps by each run's number of rounds.
    std::uint64_t expected = 0;
    for (std::uint64_t start = 0; start < runs_done; start += STEP) {
      const hsize_t n = std::min<hsize_t>(STEP, runs_done - start);
      const auto begin = read_range<std::uint64_t>(index, start, n, "/rounds/run_begin");
      const auto sizes = read_range<std::uint64_t>(size, start, n, "/runs/" + size_column);
      for (hsize_t i = 0; i < n; ++i) {
        if (begin[i] != expected) {
          throw OutputError(fmt::format(
              "/rounds/run_begin[{}] = {}, expected {} (the rounds of the runs before it)",
              start + i, begin[i], expected));
        }
        expected += sizes[i];
      }
    }
    // Every chunk of the kept rows reads (each read checks the chunk's checksum).
    for (const auto& name : flat_columns(group)) {
      const auto column = open_dataset(group, path, name);
      if (h5::length(column) < expected) {
        throw OutputError(fmt::format("/rounds/{} holds {} rows, the runs done have {}", name,
                                      h5::length(column), expected));
      }
      for (std::uint64_t start = 0; start < expected; start += STEP) {
        (void)read_range<double>(column, start, std::min<hsize_t>(STEP, expected - start),
                                 "/rounds/" + name);
      }
    }
  } catch (const OutputError& err) {
    throw OutputError(fmt::format("{}: damaged: {}", path, err.what()));
  }
}

void merge_rounds(const std::vector<std::string>& shards, const std::string& out_path) {
  h5::quiet_errors();
  if (shards.empty()) return;
  // The shards in the order of their first block, and every block of every shard in the whole
  // run's order (/blocks/sequence), coalesced into ranges of consecutive runs of one shard:
  // the same order as merge_shards gives /runs.
  std::vector<ShardRounds> in;
  struct Entry {
    std::uint64_t sequence;
    std::size_t shard;
    std::uint64_t record, count;
  };
  std::vector<Entry> entries;
  for (const auto& shard : shards) check_rounds(shard, 0, h5::LockCheck::others);
  for (std::size_t k = 0; k < shards.size(); ++k) {
    ShardRounds s;
    s.file = open_file(shards[k], false, h5::LockCheck::others);
    if (!h5::exists(s.file, GROUP))
      throw OutputError(fmt::format("merge: {}: no /rounds", shards[k]));
    s.group = h5::open_group(s.file, GROUP);
    const h5::File checked(shards[k], false, h5::LockCheck::others);
    const auto index = checked.root().group(GROUP).dataset(INDEX);
    s.run_begin = index.read<std::uint64_t>({index.length()});
    const auto names = flat_columns(s.group);
    if (names.empty())
      throw OutputError(fmt::format("merge: {}: /rounds has no columns", shards[k]));
    s.rows = h5::length(open_dataset(s.group, shards[k], names.front()));
    const auto blocks = checked.group("/blocks");
    const auto sequence_ds = blocks.dataset("sequence");
    const auto count_ds = blocks.dataset("count");
    const auto sequence = sequence_ds.read<std::uint64_t>({sequence_ds.length()});
    const auto count = count_ds.read<std::uint32_t>({count_ds.length()});
    std::uint64_t record = 0;
    for (std::size_t b = 0; b < sequence.size() && b < count.size(); ++b) {
      entries.push_back({sequence[b], k, record, count[b]});
      record += count[b];
    }
    if (record != s.run_begin.size()) {
      throw OutputError(fmt::format("merge: {}: /rounds/run_begin holds {} runs, /blocks {}",
                                    shards[k], s.run_begin.size(), record));
    }
    in.push_back(std::move(s));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
  std::vector<Entry> ranges;
  for (const auto& e : entries) {
    if (!ranges.empty() && ranges.back().shard == e.shard &&
        ranges.back().record + ranges.back().count == e.record) {
      ranges.back().count += e.count;
    } else {
      ranges.push_back(e);
    }
  }
  const auto row_end = [&](const Entry& r) {
    const auto& s = in[r.shard];
    return r.record + r.count < s.run_begin.size() ? s.run_begin[r.record + r.count] : s.rows;
  };

  const auto out = open_file(out_path, true, h5::LockCheck::ours);
  // The empty group with the first shard's columns, types and attributes (H5Ocopy of each
  // column's definition would copy its rows too: create them alike instead), the attributes read
  // through the checked layer.
  {
    const h5::File first_file(shards.front(), false, h5::LockCheck::others);
    const auto first = first_file.root().group(GROUP);
    const bool compressed = first_file.root().attr_string("compression") != "none";
    const auto group = h5::create_group(out, GROUP);
    for (const char* attr : {"description", SIZE_ATTRIBUTE})
      h5::set_attr(group, attr, first.attr_string(attr));
    std::vector<std::string> names = flat_columns(first.id());
    names.push_back(INDEX);
    for (const auto& name : names) {
      const auto src = first.dataset(name);
      const h5::Handle type(H5Dget_type(src.id()));
      const auto dst = h5::create_column(group, name, type, CHUNK, compressed);
      for (const char* attr : {"description", "units", "encoding"}) {
        if (src.has_attr(attr)) h5::set_attr(dst, attr, src.attr_string(attr));
      }
      if (src.has_attr("categories"))
        h5::set_attr(dst, "categories", src.attr_strings("categories", 100'000));
    }
  }
  const auto group = h5::open_group(out, GROUP);
  for (const auto& name : flat_columns(group)) {
    const auto dst = open_dataset(group, out_path, name);
    const h5::Handle file_type(H5Dget_type(dst));
    const h5::Handle mem_type(H5Tget_native_type(file_type, H5T_DIR_ASCEND));
    const std::size_t size = H5Tget_size(mem_type);
    std::vector<unsigned char> buffer;
    for (const auto& r : ranges) {
      const auto src = open_dataset(in[r.shard].group, shards[r.shard], name);
      const std::uint64_t begin = in[r.shard].run_begin[r.record];
      const std::uint64_t end = row_end(r);
      for (std::uint64_t at = begin; at < end; at += STEP) {
        hsize_t offset = at;
        hsize_t count = std::min<hsize_t>(STEP, end - at);
        buffer.resize(static_cast<std::size_t>(count) * size);
        const h5::Handle space(H5Dget_space(src));
        h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &offset, nullptr, &count, nullptr),
                  "selection");
        const h5::Handle mem(H5Screate_simple(1, &count, nullptr));
        h5::check(H5Dread(src, mem_type, mem, space, H5P_DEFAULT, buffer.data()),
                  fmt::format("merge: {}: cannot read /rounds/{}", shards[r.shard], name));
        h5::append(dst, mem_type, buffer.data(), count);
      }
    }
  }
  // The index, shifted to where each range's rows now start.
  const auto index = open_dataset(group, out_path, INDEX);
  std::uint64_t rows = 0;
  for (const auto& r : ranges) {
    const auto& s = in[r.shard];
    const std::uint64_t base = s.run_begin[r.record];
    std::vector<std::uint64_t> begin(
        s.run_begin.begin() + static_cast<std::ptrdiff_t>(r.record),
        s.run_begin.begin() + static_cast<std::ptrdiff_t>(r.record + r.count));
    for (auto& b : begin) b = b - base + rows;
    h5::append(index, H5T_NATIVE_UINT64, begin.data(), begin.size());
    rows += row_end(r) - base;
  }
  h5::set_attr(out, ROUNDS_ATTRIBUTE, std::uint64_t{1});
  sync(out, out_path);
}

void write_rounds_dimension_scales(const std::string& path) {
  h5::quiet_errors();
  const auto file = open_file(path, true, h5::LockCheck::ours);
  if (!h5::exists(file, GROUP) || h5::exists(file, "round_row")) return;
  const auto group = h5::open_group(file, GROUP);
  const auto names = flat_columns(group);
  if (names.empty()) return;
  const hsize_t n = h5::length(open_dataset(group, path, names.front()));
  const h5::Handle space(H5Screate_simple(1, &n, nullptr));
  // Contiguous with late allocation (HDF5's default): never written, so it takes no space.
  const h5::Handle row(
      h5::check_id(H5Dcreate2(file, "round_row", H5T_IEEE_F32LE, space, H5P_DEFAULT,
                              h5::untimed_props(H5P_DATASET_CREATE), H5P_DEFAULT),
                   path + ": cannot create /round_row"));
  const std::string name_attr = fmt::format("{}{:10d}", NOT_A_VARIABLE, n);
  h5::check(H5DSset_scale(row, name_attr.c_str()),
            path + ": /round_row: cannot make a dimension scale");
  for (const auto& name : names) {
    const auto ds = open_dataset(group, path, name);
    if (h5::length(ds) != n) {
      throw OutputError(fmt::format("{}: damaged: /rounds/{} has {} rows, /rounds/{} {}", path,
                                    name, h5::length(ds), names.front(), n));
    }
    h5::check(H5DSattach_scale(ds, row, 0),
              fmt::format("{}: cannot attach round_row to /rounds/{}", path, name));
    if (!h5::has_attr(ds, "encoding") || attr_string(ds, "encoding") != "index") continue;
    const auto labels = attr_strings(ds, "categories");
    std::string meanings;
    for (const auto& label : labels) meanings += (meanings.empty() ? "" : " ") + label;
    std::vector<std::uint64_t> codes(labels.size());
    for (std::size_t c = 0; c < codes.size(); ++c) codes[c] = c;
    const h5::Handle type(H5Dget_type(ds));
    const hsize_t count = codes.size();
    const h5::Handle attr_space(H5Screate_simple(1, &count, nullptr));
    const h5::Handle attr(
        h5::check_id(H5Acreate2(ds, "flag_values", type, attr_space, H5P_DEFAULT, H5P_DEFAULT),
                     path + ": /rounds/" + name + ": cannot create flag_values"));
    h5::check(H5Awrite(attr, H5T_NATIVE_UINT64, codes.data()),
              path + ": /rounds/" + name + ": cannot write flag_values");
    h5::set_attr(ds, "flag_meanings", meanings);
  }
  if (H5Lexists(file, "run", H5P_DEFAULT) > 0) {
    const h5::Handle run(
        h5::check_id(H5Dopen2(file, "run", H5P_DEFAULT), path + ": cannot open /run"));
    const auto index = open_dataset(group, path, INDEX);
    h5::check(H5DSattach_scale(index, run, 0), path + ": cannot attach run to /rounds/run_begin");
  }
  sync(file, path);
}

}  // namespace wedge::output
