#include "output/results.hpp"

#include "engine/error.hpp"
#include "engine/runner.hpp"
#include "output/dimension_scales.hpp"
#include "output/file_driver.hpp"
#include "output/fletcher32.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace wedge::output {

namespace {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool parse_int(const std::string& s, std::int64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

hid_t stored_type(const engine::FieldSpec& f, bool numeric) {
  if (f.kind == engine::FieldKind::continuous) {
    return f.storage == engine::StorageType::float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
  }
  std::int64_t largest = static_cast<std::int64_t>(f.categories.size()) - 1;
  if (numeric) {
    for (const auto& c : f.categories) {
      std::int64_t v = 0;
      parse_int(c, v);
      largest = std::max(largest, v);
    }
  }
  return largest <= 255 ? H5T_STD_U8LE : H5T_STD_U16LE;
}

}  // namespace

namespace {
constexpr std::pair<WriterProbe::Step, const char*> STEP_NAMES[] = {
    {WriterProbe::Step::runs_appended, "runs_appended"},
    {WriterProbe::Step::blocks_appended, "blocks_appended"},
    {WriterProbe::Step::slot_written, "slot_written"},
    {WriterProbe::Step::slot_flushed, "slot_flushed"},
    {WriterProbe::Step::slot_synced, "slot_synced"},
    {WriterProbe::Step::slot_named, "slot_named"},
    {WriterProbe::Step::summary_written, "summary_written"},
    {WriterProbe::Step::scales_written, "scales_written"},
    {WriterProbe::Step::checkpoint_done, "checkpoint_done"}};
}  // namespace

const char* step_name(WriterProbe::Step step) {
  for (const auto& [s, name] : STEP_NAMES) {
    if (s == step) return name;
  }
  return "?";
}

std::optional<WriterProbe::Step> parse_step(std::string_view name) {
  for (const auto& [s, n] : STEP_NAMES) {
    if (name == n) return s;
  }
  return std::nullopt;
}

bool numeric_categories(const engine::FieldSpec& field) {
  if (field.kind != engine::FieldKind::categorical || field.categories.empty()) return false;
  for (const auto& c : field.categories) {
    std::int64_t v = 0;
    if (!parse_int(c, v) || v < 0 || v > 65535) return false;
  }
  return true;
}

ResultsWriter::ResultsWriter(const std::string& path, const Metadata& meta,
                             const engine::FieldLayout& layout, std::uint32_t points)
    : path_(path), layout_(layout), store_runs_(meta.store_runs) {
  h5::quiet_errors();
  install_fast_fletcher32();  // the same checksums, computed faster (output/fletcher32.hpp)
  // Created under PATH.new and named PATH only once its skeleton is flushed and synced (below):
  // a process killed while creating the file leaves PATH.new, never a PATH that HDF5 cannot
  // open (a --resume then starts from zero: nothing was run).
  const std::string creating = path + ".new";
  if (::access(path.c_str(), F_OK) == 0) {  // never replaces a file (as H5F_ACC_EXCL would not)
    throw OutputError(fmt::format("{}: cannot create: {}", path, std::strerror(EEXIST)));
  }
  file_ = h5::create_file(creating);
  const hid_t root = file_;
  h5::set_attr(root, "format", std::string(FORMAT_NAME));
  h5::set_attr(root, "format_version", FORMAT_VERSION);
  h5::set_attr(root, "model", meta.model);
  h5::set_attr(root, "model_version", meta.model_version);
  h5::set_attr(root, "engine_version", meta.engine_version);
  h5::set_attr(root, "git_commit", meta.git_commit);
  h5::set_attr(root, "arithmetic_version", ARITHMETIC_VERSION);  // always this build's
  h5::set_attr(root, "created", utc_now());
  h5::set_attr(root, "seed", meta.seed);
  h5::set_attr(root, "rng", meta.rng);
  h5::set_attr(root, "crn", std::uint64_t{meta.crn ? 1u : 0u});
  h5::set_attr(root, "threads", meta.threads);
  h5::set_attr(root, "command_line", meta.command_line);
  h5::set_attr(root, "experiment", meta.experiment);
  h5::set_attr(root, "design", meta.design);
  h5::set_attr(root, "points", std::uint64_t{points});
  h5::set_attr(root, "replicates", meta.replicates);
  h5::set_attr(root, "runs_planned", meta.runs_planned);
  h5::set_attr(root, "block_size", meta.block_size);
  h5::set_attr(root, "store", std::string(meta.store_runs ? "runs" : "summary"));
  h5::set_attr(root, "compression", std::string(meta.compress ? "shuffle+deflate" : "none"));
  for (const auto& [name, version] : meta.libraries) h5::set_attr(root, name, version);
  h5::set_attr(root, "shard_index", meta.shard_index);
  h5::set_attr(root, "shard_count", meta.shard_count);
  h5::set_attr(root, "complete", std::uint64_t{0});
  h5::set_attr(root, "runs_done", std::uint64_t{0});
  h5::set_attr(root, "wall_seconds", 0.0);
  h5::set_attr(root, "runs_per_second", 0.0);

  const auto design = h5::create_group(file_, "design");
  h5::set_attr(design, "keys", meta.swept_keys);
  h5::set_attr(design, "design", meta.design);
  std::vector<std::uint32_t> index(points);
  for (std::uint32_t p = 0; p < points; ++p) index[p] = p;
  h5::write_dataset(design, "point", {points}, index.data());
  for (std::size_t k = 0; k < meta.swept_keys.size(); ++k) {
    std::vector<double> column(points);
    for (std::uint32_t p = 0; p < points; ++p) column[p] = meta.values[p][k];
    h5::write_dataset(design, meta.swept_keys[k], {points}, column.data());
    if (k < meta.key_types.size()) {
      const h5::Handle ds(h5::check_id(H5Dopen2(design, meta.swept_keys[k].c_str(), H5P_DEFAULT),
                                       "cannot open /design/" + meta.swept_keys[k]));
      h5::set_attr(ds, "value_type", meta.key_types[k]);
    }
  }

  {
    // Per block: its extent and its continuous fields' exact accumulator state (for merging
    // shards).
    const auto blocks = h5::create_group(file_, "blocks");
    h5::set_attr(
        blocks, "description",
        std::string(
            "one row per block of the plan run: point, replicate_begin, count and, for each "
            "continuous field, the block's accumulator (n, shift, sum, sum2, min, max)"));
    constexpr hsize_t BCHUNK = 4096;
    h5::create_column(blocks, "point", H5T_STD_U32LE, BCHUNK, false);
    h5::create_column(blocks, "replicate_begin", H5T_STD_U64LE, BCHUNK, false);
    h5::create_column(blocks, "count", H5T_STD_U32LE, BCHUNK, false);
    h5::create_column(blocks, "sequence", H5T_STD_U64LE, BCHUNK, false);
    for (const auto& f : layout_.continuous) {
      h5::create_column(blocks, f.name + "_n", H5T_STD_U64LE, BCHUNK, false);
      for (const char* part : {"_shift", "_sum", "_sum2", "_min", "_max"}) {
        h5::create_column(blocks, f.name + part, H5T_IEEE_F64LE, BCHUNK, false);
      }
    }
  }
  const auto checkpoints = h5::create_group(file_, "checkpoint");
  h5::set_attr(checkpoints, "description",
               std::string("two alternating checkpoint slots of the mergeable summary state; root "
                           "attribute checkpoint_slot names the valid one"));
  const std::vector<engine::Summary> empty(
      points, engine::Summary(std::make_shared<const engine::FieldLayout>(layout_)));
  for (const char* slot : {"0", "1"}) {
    const auto g = h5::create_group(checkpoints, slot);
    write_state(g, empty);
    h5::set_attr(g, "runs_done", std::uint64_t{0});
    h5::set_attr(g, "wall_seconds", 0.0);
  }
  h5::set_attr(root, "checkpoint_slot", std::uint64_t{0});  // slot 0 holds the empty state
  current_slot_ = 0;

  const auto summary = h5::create_group(file_, "summary");
  for (const auto& f : layout_.categorical) {
    const auto g = h5::create_group(summary, f.name);
    h5::set_attr(g, "categories", f.categories);
    h5::set_attr(g, "kind", std::string("categorical"));
    h5::set_attr(g, "description", f.description);
  }
  for (const auto& f : layout_.continuous) {
    const auto g = h5::create_group(summary, f.name);
    h5::set_attr(g, "kind", std::string("continuous"));
    h5::set_attr(g, "description", f.description);
    h5::set_attr(g, "units", f.units);
    h5::set_attr(g, "hist_min", f.hist_min);
    h5::set_attr(g, "hist_max", f.hist_max);
    h5::set_attr(g, "hist_bins", std::uint64_t{f.hist_bins});
  }

  if (store_runs_) {
    const auto runs = h5::create_group(file_, "runs");
    constexpr hsize_t CHUNK = 1 << 16;
    auto column = [&](const std::string& name, hid_t type) {
      return h5::create_column(runs, name, type, CHUNK, meta.compress);
    };
    // The smallest unsigned type that holds every point index.
    h5::Handle point = column("point", points <= 256     ? H5T_STD_U8LE
                                       : points <= 65536 ? H5T_STD_U16LE
                                                         : H5T_STD_U32LE);
    h5::set_attr(point, "description", std::string("design point of the run"));
    h5::Handle rep = column("replicate", H5T_STD_U32LE);
    h5::set_attr(rep, "description", std::string("replicate of the run within its design point"));
    for (const auto& f : layout_.categorical) {
      const bool numeric = numeric_categories(f);
      h5::Handle c = column(f.name, stored_type(f, numeric));
      h5::set_attr(c, "categories", f.categories);
      h5::set_attr(c, "encoding", std::string(numeric ? "value" : "index"));
      h5::set_attr(c, "description", f.description);
    }
    for (const auto& f : layout_.continuous) {
      h5::Handle c = column(f.name, stored_type(f, false));
      h5::set_attr(c, "description", f.description);
      h5::set_attr(c, "units", f.units);
    }
  }
  open_columns();
  // On disk and consistent from the start: a crash before the first checkpoint leaves a valid,
  // empty, resumable file.
  h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_ + ": cannot flush");
  sync_to_disk();
  // Named without ever replacing a file that appeared meanwhile (RENAME_NOREPLACE; a file system
  // without it gets the check above and a plain rename).
  int renamed = ::renameat2(AT_FDCWD, creating.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (renamed != 0 && errno == EINVAL) renamed = ::rename(creating.c_str(), path.c_str());
  if (renamed != 0) {
    const int err = errno;
    ::unlink(creating.c_str());
    throw OutputError(fmt::format("{}: cannot create: {}", path, std::strerror(err)));
  }
}

ResultsWriter::ResultsWriter(const std::string& path, const engine::FieldLayout& layout,
                             std::uint64_t runs_done)
    : path_(path), layout_(layout) {
  h5::quiet_errors();
  install_fast_fletcher32();
  std::vector<std::uint32_t> counts;
  {
    // Opened through the checked layer (the caller has read and verified the file; this process
    // holds its lock), then kept open for writing.
    h5::File checked(path, true, h5::LockCheck::ours);
    const auto root = checked.root();
    store_runs_ = root.attr_string("store") == "runs";
    current_slot_ = root.attr_u64("checkpoint_slot");
    if (current_slot_ > 1) root.damaged("checkpoint_slot is neither 0 nor 1");
    const auto count = checked.group("/blocks").dataset("count");
    counts = count.read<std::uint32_t>({count.length()});
    file_ = checked.take();
  }
  open_columns();
  for (auto& c : columns_) {
    if (h5::length(c) < runs_done) {
      throw OutputError(fmt::format("{}: damaged: a column holds fewer runs than runs_done ({})",
                                    path, runs_done));
    }
    h5::set_length(c, runs_done);
  }
  // Keep the blocks whose runs are in.
  std::uint64_t total = 0;
  hsize_t keep = 0;
  while (keep < counts.size() && total < runs_done) total += counts[keep++];
  if (total != runs_done) {
    throw OutputError(
        fmt::format("{}: damaged: /blocks does not end on runs_done ({})", path, runs_done));
  }
  for (auto& c : block_columns_) {
    if (h5::length(c) < keep)
      throw OutputError(
          fmt::format("{}: damaged: a /blocks column holds fewer than {} blocks", path, keep));
    h5::set_length(c, keep);
  }
}

void ResultsWriter::open_columns() {
  category_values_.clear();
  category_wide_.clear();
  category_identity_.clear();
  category_scale_.clear();
  category_offset_.clear();
  for (const auto& f : layout_.categorical) {
    const bool numeric = numeric_categories(f);
    category_wide_.push_back(H5Tequal(stored_type(f, numeric), H5T_STD_U16LE) > 0);
    std::vector<std::int64_t> values;
    for (std::size_t c = 0; c < f.categories.size(); ++c) {
      std::int64_t v = static_cast<std::int64_t>(c);
      if (numeric) parse_int(f.categories[c], v);
      values.push_back(v);
    }
    bool identity = true;
    for (std::size_t c = 0; c < values.size(); ++c)
      identity = identity && values[c] == static_cast<std::int64_t>(c);
    category_identity_.push_back(identity);
    // An affine map onto bytes (the identity, 2 x index, index + 1, ...)?
    std::int64_t scale = values.size() > 1 ? values[1] - values[0] : 1;
    const std::int64_t offset = values.empty() ? 0 : values[0];
    bool affine = !category_wide_.back() && scale >= 0 && scale <= 255;
    for (std::size_t c = 0; c < values.size() && affine; ++c) {
      affine = values[c] == scale * static_cast<std::int64_t>(c) + offset && values[c] >= 0 &&
               values[c] <= 255;
    }
    if (!affine) scale = -1;
    category_scale_.push_back(static_cast<std::int32_t>(scale));
    category_offset_.push_back(static_cast<std::int32_t>(affine ? offset : 0));
    category_values_.push_back(std::move(values));
  }
  {
    const auto blocks = h5::open_group(file_, "blocks");
    block_columns_.clear();
    auto open_block = [&](const std::string& name) {
      // (The cache of a /blocks column: two chunks of 4096 rows of at most 8 bytes, as created.)
      return h5::Handle(h5::check_id(H5Dopen2(blocks, name.c_str(), h5::append_access(4096 * 8)),
                                     fmt::format("{}: missing dataset /blocks/{}", path_, name)));
    };
    block_columns_.push_back(open_block("point"));
    block_columns_.push_back(open_block("replicate_begin"));
    block_columns_.push_back(open_block("count"));
    block_columns_.push_back(open_block("sequence"));
    for (const auto& f : layout_.continuous) {
      for (const char* part : {"_n", "_shift", "_sum", "_sum2", "_min", "_max"})
        block_columns_.push_back(open_block(f.name + part));
    }
  }
  if (!store_runs_) return;
  runs_group_ = h5::open_group(file_, "runs");
  auto open = [&](const std::string& name) {
    return h5::Handle(h5::check_id(H5Dopen2(runs_group_, name.c_str(), H5P_DEFAULT),
                                   fmt::format("{}: missing dataset /runs/{}", path_, name)));
  };
  columns_.clear();
  columns_.push_back(open("point"));
  {
    const h5::Handle type(H5Dget_type(columns_.back()));
    const std::size_t size = H5Tget_size(type);
    point_type_ = size == 1 ? H5T_NATIVE_UINT8 : size == 2 ? H5T_NATIVE_UINT16 : H5T_NATIVE_UINT32;
  }
  columns_.push_back(open("replicate"));
  for (const auto& f : layout_.categorical) columns_.push_back(open(f.name));
  for (const auto& f : layout_.continuous) columns_.push_back(open(f.name));
  direct_chunk_.assign(columns_.size(), 0);
  if (!install_fast_fletcher32()) return;
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    // Full chunks go to the file directly (H5Dwrite_chunk) when the column's only filter is
    // Fletcher-32 and its stored type is the memory type's bytes (little-endian here): the
    // bytes HDF5 itself would store, without its chunk cache's copies.
    const h5::Handle dcpl(H5Dget_create_plist(columns_[k]));
    hsize_t chunk = 0;
    unsigned flags = 0;
    std::size_t nelmts = 0;
    if (H5Pget_chunk(dcpl, 1, &chunk) != 1 || H5Pget_nfilters(dcpl) != 1 ||
        H5Pget_filter2(dcpl, 0, &flags, &nelmts, nullptr, 0, nullptr, nullptr) !=
            H5Z_FILTER_FLETCHER32) {
      continue;
    }
    const h5::Handle stored(H5Dget_type(columns_[k]));
    const std::size_t size = H5Tget_size(stored);
    const hid_t memory = k == 0   ? point_type_
                         : k == 1 ? H5T_NATIVE_UINT32
                         : k < 2 + layout_.categorical.size()
                             ? (category_wide_[k - 2] ? H5T_NATIVE_UINT16 : H5T_NATIVE_UINT8)
                         : layout_.continuous[k - 2 - layout_.categorical.size()].storage ==
                                 engine::StorageType::float32
                             ? H5T_NATIVE_FLOAT
                             : H5T_NATIVE_DOUBLE;
    if (H5Tequal(stored, memory) > 0 && H5Tget_size(memory) == size) direct_chunk_[k] = chunk;
  }
  tail_rows_.assign(columns_.size(), 0);
  tail_start_.assign(columns_.size(), 0);
  tail_offset_.assign(columns_.size(), 0);
  tail_written_.assign(columns_.size(), true);
  std::size_t bytes = 0;
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    if (direct_chunk_[k] == 0) continue;
    const h5::Handle stored(H5Dget_type(columns_[k]));
    tail_offset_[k] = bytes;
    bytes += (direct_chunk_[k] * H5Tget_size(stored) + 4 + 63) / 64 * 64;
  }
  tails_.ensure(bytes);  // (untouched until a run's last chunk is partly filled)
}

void ResultsWriter::append_column(std::size_t k, hid_t memory, void* data, std::size_t n) {
  const hsize_t chunk = direct_chunk_[k];
  if (chunk == 0) {
    h5::append(columns_[k], memory, data, n);
    return;
  }
  if (n == 0) return;
  const hid_t column = columns_[k];
  const std::size_t size = H5Tget_size(memory);
  const std::size_t nbytes = chunk * size;
  auto* bytes = static_cast<unsigned char*>(data);
  unsigned char* tail = tails_.data() + tail_offset_[k];
  const hsize_t old = h5::length(column);
  // A checksummed chunk, written directly (H5Dwrite_chunk): `p` holds the chunk and 4 bytes of
  // room after it for its Fletcher-32 (HDF5's function, output/fletcher32.hpp), saved and
  // restored (they may be the next values, or slack).
  const auto write_chunk = [&](unsigned char* p, hsize_t offset) {
    const std::uint32_t sum = fletcher32(p, nbytes);
    unsigned char saved[4];
    std::memcpy(saved, p + nbytes, 4);
    for (std::size_t b = 0; b < 4; ++b) p[nbytes + b] = static_cast<unsigned char>(sum >> (8 * b));
    const herr_t written = H5Dwrite_chunk(column, H5P_DEFAULT, 0, &offset, nbytes + 4, p);
    std::memcpy(p + nbytes, saved, 4);
    h5::check(written, "cannot append records");
  };
  std::size_t done = 0;
  if (tail_rows_[k] == 0) {
    // Up to the next chunk boundary through HDF5's chunk cache: only where the column ends inside
    // a chunk this writer did not fill (a resumed file's last chunk).
    done = std::min<std::size_t>(n, (chunk - old % chunk) % chunk);
    if (done > 0) h5::append(column, memory, bytes, done);
    if (done == n) return;
  }
  const hsize_t total = old + n;
  h5::check(H5Dset_extent(column, &total), "cannot extend a dataset");
  if (tail_rows_[k] > 0) {
    // The tail first (old is its end); a full one is written and emptied.
    done = std::min<std::size_t>(n, chunk - tail_rows_[k]);
    std::memcpy(tail + tail_rows_[k] * size, bytes, done * size);
    tail_rows_[k] += done;
    tail_written_[k] = false;
    if (tail_rows_[k] == chunk) {
      write_chunk(tail, tail_start_[k]);
      tail_rows_[k] = 0;
      tail_written_[k] = true;
    }
  }
  // Every full chunk from the caller's buffer; the rest becomes the tail.
  for (; n - done >= chunk; done += chunk) write_chunk(bytes + done * size, old + done);
  if (done < n) {
    std::memcpy(tail, bytes + done * size, (n - done) * size);
    tail_start_[k] = old + done;
    tail_rows_[k] = n - done;
    tail_written_[k] = false;
  }
}

void ResultsWriter::write_tails() {
  for (std::size_t k = 0; k < columns_.size(); ++k) {
    if (tail_written_[k] || tail_rows_[k] == 0) continue;
    const hsize_t chunk = direct_chunk_[k];
    const h5::Handle stored(H5Dget_type(columns_[k]));
    const std::size_t size = H5Tget_size(stored);
    const std::size_t nbytes = chunk * size;
    unsigned char* tail = tails_.data() + tail_offset_[k];
    // Past the rows, what HDF5 stores in an edge chunk: its fill value, 0 (h5::create_column).
    std::memset(tail + tail_rows_[k] * size, 0, nbytes - tail_rows_[k] * size);
    const std::uint32_t sum = fletcher32(tail, nbytes);
    for (std::size_t b = 0; b < 4; ++b)
      tail[nbytes + b] = static_cast<unsigned char>(sum >> (8 * b));
    const hsize_t offset = tail_start_[k];
    // (Reported as the flush's failure it is part of, as when HDF5's chunk cache wrote it.)
    h5::check(H5Dwrite_chunk(columns_[k], H5P_DEFAULT, 0, &offset, nbytes + 4, tail),
              path_ + ": cannot flush");
    tail_written_[k] = true;
  }
}

void ResultsWriter::append_blocks(std::span<const engine::Block> blocks,
                                  std::span<const engine::Summary> block_summaries) {
  const std::size_t n = blocks.size();
  // Buffers kept from wave to wave (one allocation for the run, not 2 + 6 per continuous field
  // and a packed copy of every block's counts and histograms per wave: ~0.3 MB each wave that
  // malloc mapped, the kernel zero-filled and unmapped again).
  block_u32_.resize(n);
  block_u64_.resize(n);
  block_f64_.resize(n);
  std::uint32_t* const u32 = block_u32_.data();
  std::uint64_t* const u64 = block_u64_.data();
  double* const f64 = block_f64_.data();
  for (std::size_t i = 0; i < n; ++i) u32[i] = blocks[i].point;
  h5::append(block_columns_[0], H5T_NATIVE_UINT32, u32, n);
  for (std::size_t i = 0; i < n; ++i) u64[i] = blocks[i].replicate_begin;
  h5::append(block_columns_[1], H5T_NATIVE_UINT64, u64, n);
  for (std::size_t i = 0; i < n; ++i) u32[i] = blocks[i].count;
  h5::append(block_columns_[2], H5T_NATIVE_UINT32, u32, n);
  for (std::size_t i = 0; i < n; ++i) u64[i] = blocks[i].sequence;
  h5::append(block_columns_[3], H5T_NATIVE_UINT64, u64, n);
  // Each block's moments (engine::ContinuousStats::Raw, as engine::SummaryState packs them), as
  // they are: merge replays them in plan order.
  const std::size_t nv = layout_.continuous.size();
  for (std::size_t i = 0; i < n && nv > 0; ++i) {
    if (block_summaries[i].layout().continuous.size() != nv)
      throw std::invalid_argument("ResultsWriter::append_blocks: layouts differ");
  }
  for (std::size_t f = 0; f < nv; ++f) {
    const std::size_t base = 4 + 6 * f;
    for (std::size_t i = 0; i < n; ++i) u64[i] = block_summaries[i].continuous(f).raw().n;
    h5::append(block_columns_[base], H5T_NATIVE_UINT64, u64, n);
    const auto part = [&](std::size_t column, double engine::ContinuousStats::Raw::*member) {
      for (std::size_t i = 0; i < n; ++i) f64[i] = block_summaries[i].continuous(f).raw().*member;
      h5::append(block_columns_[base + column], H5T_NATIVE_DOUBLE, f64, n);
    };
    part(1, &engine::ContinuousStats::Raw::shift);
    part(2, &engine::ContinuousStats::Raw::sum);
    part(3, &engine::ContinuousStats::Raw::sum2);
    part(4, &engine::ContinuousStats::Raw::min);
    part(5, &engine::ContinuousStats::Raw::max);
  }
  reach(WriterProbe::Step::blocks_appended);
}

void ResultsWriter::append_runs(std::span<const engine::Block> blocks,
                                const std::vector<std::uint16_t>& categories,
                                const std::vector<double>& values) {
  if (!store_runs_) return;
  std::size_t n = 0;
  for (const auto& b : blocks) n += b.count;
  begin_runs(n);
  convert_runs(0, n, categories.data(), values.data());
  write_runs(blocks);
}

namespace {
/// Elements past each column buffer's last column: append_column borrows the 4 bytes after a
/// chunk for its checksum.
constexpr std::size_t SLACK = 8;

#if defined(__SSE2__)
/// Transposes 16 rows of 16 bytes (r[k] = row k) into t[j] = column j (byte k of t[j] = byte j
/// of r[k]): four rounds of unpacks, each doubling the width of the units that hold one column.
inline void transpose16(const __m128i (&r)[16], __m128i (&t)[16]) noexcept {
  __m128i a[16], b[16], c[16];
  // a[8h + k]: rows 2k, 2k + 1; unit j (2 bytes) is column 8h + j.
  for (int k = 0; k < 8; ++k) {
    a[k] = _mm_unpacklo_epi8(r[2 * k], r[2 * k + 1]);
    a[8 + k] = _mm_unpackhi_epi8(r[2 * k], r[2 * k + 1]);
  }
  // b[8h + 2m + q]: rows 4m .. 4m + 3; unit j (4 bytes) is column 8h + 4q + j.
  for (int h = 0; h < 2; ++h) {
    for (int m = 0; m < 4; ++m) {
      b[8 * h + 2 * m] = _mm_unpacklo_epi16(a[8 * h + 2 * m], a[8 * h + 2 * m + 1]);
      b[8 * h + 2 * m + 1] = _mm_unpackhi_epi16(a[8 * h + 2 * m], a[8 * h + 2 * m + 1]);
    }
  }
  // c[8h + 4q + 2p + s]: rows 8p .. 8p + 7; unit j (8 bytes) is column 8h + 4q + 2s + j.
  for (int h = 0; h < 2; ++h) {
    for (int q = 0; q < 2; ++q) {
      for (int p = 0; p < 2; ++p) {
        const __m128i x = b[8 * h + 2 * (2 * p) + q], y = b[8 * h + 2 * (2 * p + 1) + q];
        c[8 * h + 4 * q + 2 * p] = _mm_unpacklo_epi32(x, y);
        c[8 * h + 4 * q + 2 * p + 1] = _mm_unpackhi_epi32(x, y);
      }
    }
  }
  // t[8h + 4q + 2s + j]: all 16 rows of that column.
  for (int h = 0; h < 2; ++h) {
    for (int q = 0; q < 2; ++q) {
      for (int s = 0; s < 2; ++s) {
        const __m128i x = c[8 * h + 4 * q + s], y = c[8 * h + 4 * q + 2 + s];
        t[8 * h + 4 * q + 2 * s] = _mm_unpacklo_epi64(x, y);
        t[8 * h + 4 * q + 2 * s + 1] = _mm_unpackhi_epi64(x, y);
      }
    }
  }
}
#endif

/// out[r] = value(in[r * stride]) for r in [0, rows): one column of a row-major tile, four rows
/// per step (independent loads and stores, a quarter of the loop's own instructions).
template <class Out, class In, class Value>
inline void gather_column(Out* out, const In* in, std::size_t stride, std::size_t rows,
                          Value value) {
  std::size_t r = 0;
  for (; r + 4 <= rows; r += 4, in += 4 * stride) {
    const In a = in[0], b = in[stride], c = in[2 * stride], d = in[3 * stride];
    out[r] = value(a);
    out[r + 1] = value(b);
    out[r + 2] = value(c);
    out[r + 3] = value(d);
  }
  for (; r < rows; ++r, in += stride) out[r] = value(*in);
}
}  // namespace

void ResultsWriter::begin_runs(std::size_t n) { begin_runs(pending_, n); }

void ResultsWriter::convert_runs(std::size_t row0, std::size_t rows,
                                 const std::uint16_t* categories, const double* values) {
  convert_runs(pending_, row0, rows, categories, values);
}

void ResultsWriter::write_runs(std::span<const engine::Block> blocks) {
  write_runs(pending_, blocks);
}

void ResultsWriter::begin_runs(RunColumns& columns, std::size_t n) const {
  if (!store_runs_) return;
  // The buffers keep their size from wave to wave (no allocation per wave), are never
  // zero-filled (convert_runs writes every row), and only the stored types in use get one.
  columns.n = n;
  const std::size_t nc = layout_.categorical.size(), nv = layout_.continuous.size();
  bool narrow = false, wide = false, f32 = false, f64 = false;
  for (std::size_t c = 0; c < nc; ++c) (category_wide_[c] ? wide : narrow) = true;
  for (const auto& f : layout_.continuous)
    (f.storage == engine::StorageType::float32 ? f32 : f64) = true;
  const auto ready = [](auto& buffer, bool used, std::size_t size) {
    if (used) buffer.ensure(size);
  };
  ready(columns.narrow, narrow, nc * n + SLACK);
  ready(columns.wide, wide, nc * n + SLACK);
  ready(columns.f32, f32, nv * n + SLACK);
  ready(columns.f64, f64, nv * n + SLACK);
}

void ResultsWriter::convert_runs(RunColumns& columns, std::size_t row0, std::size_t rows,
                                 const std::uint16_t* categories, const double* values) const {
  if (!store_runs_) return;
  if (row0 + rows > columns.n) {
    throw std::logic_error("ResultsWriter::convert_runs: rows beyond begin_runs(n)");
  }
  // Buffers in exactly the stored types, so HDF5 copies instead of converting element by element;
  // filled a tile of rows at a time (the tile's records stay in the L1 cache while every column
  // takes its values), with no table lookup for columns that store category indices as they are.
  const std::size_t n = columns.n;
  const std::size_t nc = layout_.categorical.size();
  const std::size_t nv = layout_.continuous.size();
  // Narrow columns of an affine map (most: the identity, 2 x index, index + 1) 16 rows at a time
  // with SSE2: the rows' indices packed to bytes, transposed in registers, mapped, and each
  // column's 16 bytes stored at once (~10 instructions per run for 12 columns, against ~45 one
  // element at a time); their last rows % 16, and the other columns, element by element below.
  std::size_t simd_rows = 0;
#if defined(__SSE2__)
  bool any_affine = false;
  for (std::size_t c = 0; c < nc; ++c) any_affine = any_affine || category_scale_[c] >= 0;
  if (any_affine) {
    simd_rows = rows / 16 * 16;
    // (Locals: the byte stores below may alias any member, which would then be reloaded.)
    const std::int32_t* const scales = category_scale_.data();
    const std::int32_t* const offsets = category_offset_.data();
    std::uint8_t* const narrow = columns.narrow.data() + row0;
    // A row's 16 columns from c0 are read as two vectors of 8 indices (past the row's end into
    // the next row's: unused); a group whose reads would pass the input's end is copied first.
    alignas(16) std::uint16_t last[16 * engine::MAX_FIELDS + 16];
    const __m128i zero = _mm_setzero_si128();
    for (std::size_t r = 0; r < simd_rows; r += 16) {
      const std::uint16_t* in = categories + r * nc;
      if ((r + 16) * nc + 16 > rows * nc) {
        std::memcpy(last, in, 16 * nc * sizeof(std::uint16_t));
        std::memset(last + 16 * nc, 0, 16 * sizeof(std::uint16_t));
        in = last;
      }
      for (std::size_t c0 = 0; c0 < nc; c0 += 16) {
        // 16 rows of 16 indices as bytes (packus saturates: a narrow column's values are < 256).
        __m128i row[16], column[16];
        for (std::size_t k = 0; k < 16; ++k) {
          const auto* at = reinterpret_cast<const __m128i*>(in + k * nc + c0);
          row[k] = _mm_packus_epi16(_mm_loadu_si128(at), _mm_loadu_si128(at + 1));
        }
        transpose16(row, column);
        for (std::size_t j = 0; j < 16 && c0 + j < nc; ++j) {
          const std::size_t c = c0 + j;
          const std::int32_t scale = scales[c];
          if (scale < 0) continue;
          __m128i v = column[j];
          if (scale != 1 || offsets[c] != 0) {
            const __m128i m = _mm_set1_epi16(static_cast<std::int16_t>(scale));
            const __m128i b = _mm_set1_epi16(static_cast<std::int16_t>(offsets[c]));
            const __m128i lo = _mm_add_epi16(_mm_mullo_epi16(_mm_unpacklo_epi8(v, zero), m), b);
            const __m128i hi = _mm_add_epi16(_mm_mullo_epi16(_mm_unpackhi_epi8(v, zero), m), b);
            v = _mm_packus_epi16(lo, hi);
          }
          _mm_storeu_si128(reinterpret_cast<__m128i*>(narrow + c * n + r), v);
        }
      }
    }
  }
#endif
  constexpr std::size_t TILE = 512;
  for (std::size_t t0 = 0; t0 < rows; t0 += TILE) {
    const std::size_t tile = std::min(rows - t0, TILE);
    for (std::size_t c = 0; c < nc; ++c) {
      const std::uint16_t* in = categories + t0 * nc + c;
      const std::size_t at = c * n + row0 + t0;
      if (category_scale_[c] >= 0) {
        // Rows from simd_rows on (all of them without SSE2).
        if (t0 + tile <= simd_rows) continue;
        const std::size_t skip = simd_rows > t0 ? simd_rows - t0 : 0;
        const std::int64_t* map = category_values_[c].data();
        gather_column(columns.narrow.data() + at + skip, in + skip * nc, nc, tile - skip,
                      [map](std::uint16_t x) { return static_cast<std::uint8_t>(map[x]); });
      } else if (category_identity_[c]) {
        // (A narrow identity column is affine: scale 1, offset 0, handled above.)
        gather_column(columns.wide.data() + at, in, nc, tile, [](std::uint16_t x) { return x; });
      } else if (category_wide_[c]) {
        const std::int64_t* map = category_values_[c].data();
        gather_column(columns.wide.data() + at, in, nc, tile,
                      [map](std::uint16_t x) { return static_cast<std::uint16_t>(map[x]); });
      } else {
        const std::int64_t* map = category_values_[c].data();
        gather_column(columns.narrow.data() + at, in, nc, tile,
                      [map](std::uint16_t x) { return static_cast<std::uint8_t>(map[x]); });
      }
    }
    for (std::size_t v = 0; v < nv; ++v) {
      const double* in = values + t0 * nv + v;
      const std::size_t at = v * n + row0 + t0;
      if (layout_.continuous[v].storage == engine::StorageType::float32) {
        gather_column(columns.f32.data() + at, in, nv, tile,
                      [](double x) { return static_cast<float>(x); });
      } else {
        gather_column(columns.f64.data() + at, in, nv, tile, [](double x) { return x; });
      }
    }
  }
}

void ResultsWriter::write_runs(RunColumns& columns, std::span<const engine::Block> blocks) {
  if (!store_runs_) return;
  const std::size_t n = columns.n;
  std::size_t total = 0;
  for (const auto& b : blocks) total += b.count;
  if (total != n) {
    throw std::logic_error("ResultsWriter::write_runs: blocks and begin_runs(n) differ");
  }
  const std::size_t nc = layout_.categorical.size();
  const std::size_t nv = layout_.continuous.size();
  ids_.ensure(n + SLACK);
  std::size_t i = 0;
  if (point_type_ == H5T_NATIVE_UINT8) {
    narrow_ids_.ensure(n + SLACK);
    for (const auto& b : blocks) {
      std::fill_n(narrow_ids_.data() + i, b.count, static_cast<std::uint8_t>(b.point));
      i += b.count;
    }
    append_column(0, H5T_NATIVE_UINT8, narrow_ids_.data(), n);
  } else if (point_type_ == H5T_NATIVE_UINT16) {
    wide_ids_.ensure(n + SLACK);
    for (const auto& b : blocks) {
      std::fill_n(wide_ids_.data() + i, b.count, static_cast<std::uint16_t>(b.point));
      i += b.count;
    }
    append_column(0, H5T_NATIVE_UINT16, wide_ids_.data(), n);
  } else {
    for (const auto& b : blocks) {
      std::fill_n(ids_.data() + i, b.count, b.point);
      i += b.count;
    }
    append_column(0, H5T_NATIVE_UINT32, ids_.data(), n);
  }
  i = 0;
  for (const auto& b : blocks) {
    for (std::uint32_t k = 0; k < b.count; ++k)
      ids_.data()[i++] = static_cast<std::uint32_t>(b.replicate_begin + k);
  }
  append_column(1, H5T_NATIVE_UINT32, ids_.data(), n);
  for (std::size_t c = 0; c < nc; ++c) {
    if (category_wide_[c]) {
      append_column(2 + c, H5T_NATIVE_UINT16, columns.wide.data() + c * n, n);
    } else {
      append_column(2 + c, H5T_NATIVE_UINT8, columns.narrow.data() + c * n, n);
    }
  }
  for (std::size_t v = 0; v < nv; ++v) {
    if (layout_.continuous[v].storage == engine::StorageType::float32) {
      append_column(2 + nc + v, H5T_NATIVE_FLOAT, columns.f32.data() + v * n, n);
    } else {
      append_column(2 + nc + v, H5T_NATIVE_DOUBLE, columns.f64.data() + v * n, n);
    }
  }
  columns.n = 0;
  reach(WriterProbe::Step::runs_appended);
}

void ResultsWriter::write_state(hid_t group, const std::vector<engine::Summary>& summaries) const {
  // The summaries' engine::SummaryState: each part under its documented name, every point's
  // moments normalised (shift = mean, sum = 0, sum2 = m2), hence stored as _mean and _m2.
  const auto state = engine::SummaryState::pack(summaries);
  const engine::SummaryState::Offsets at(layout_);
  const hsize_t points = summaries.size();
  const auto integers = [&](std::size_t offset, hsize_t width) {
    std::vector<std::uint64_t> out(points * width);
    for (std::size_t p = 0; p < points; ++p) {
      const auto* row = state.integers.data() + p * at.width + offset;
      std::copy(row, row + width, out.begin() + static_cast<std::ptrdiff_t>(p * width));
    }
    return out;
  };
  h5::write_dataset(group, "runs", {points}, integers(at.runs, 1).data());
  for (std::size_t f = 0; f < layout_.categorical.size(); ++f) {
    const hsize_t cats = layout_.categorical[f].categories.size();
    h5::write_dataset(group, layout_.categorical[f].name + "_counts", {points, cats},
                      integers(at.counts[f], cats).data());
  }
  const std::size_t nv = layout_.continuous.size();
  for (std::size_t f = 0; f < nv; ++f) {
    const std::string& name = layout_.continuous[f].name;
    const hsize_t bins = layout_.continuous[f].hist_bins + 2;
    std::vector<std::uint64_t> n(points);
    std::vector<double> mean(points), m2(points), mn(points), mx(points);
    for (std::size_t p = 0; p < points; ++p) {
      const auto m = state.moments[p * nv + f].normalised();
      n[p] = m.n;
      mean[p] = m.shift;
      m2[p] = m.sum2;
      mn[p] = m.min;
      mx[p] = m.max;
    }
    h5::write_dataset(group, name + "_n", {points}, n.data());
    h5::write_dataset(group, name + "_mean", {points}, mean.data());
    h5::write_dataset(group, name + "_m2", {points}, m2.data());
    h5::write_dataset(group, name + "_min", {points}, mn.data());
    h5::write_dataset(group, name + "_max", {points}, mx.data());
    h5::write_dataset(group, name + "_histogram", {points, bins},
                      integers(at.histograms[f], bins).data());
  }
}

void ResultsWriter::checkpoint(const std::vector<engine::Summary>& summaries,
                               std::uint64_t runs_done, double wall_seconds, bool complete) {
  // 1. The state goes to the slot not in use, in place; 2. flush and fsync; 3. only then the root
  // names it. A crash at any point, or a power loss (the operating system may write pages in any
  // order until fsync), leaves the slot the root names intact.
  const std::uint64_t slot = 1 - current_slot_;
  {
    const auto g = h5::open_group(file_, "checkpoint/" + std::to_string(slot));
    write_state(g, summaries);
    h5::set_attr(g, "runs_done", runs_done);
    h5::set_attr(g, "wall_seconds", wall_seconds);
  }
  write_tails();
  reach(WriterProbe::Step::slot_written);
  h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_ + ": cannot flush");
  reach(WriterProbe::Step::slot_flushed);
  sync_to_disk();
  reach(WriterProbe::Step::slot_synced);
  h5::set_attr(file_, "checkpoint_slot", slot);
  h5::set_attr(file_, "runs_done", runs_done);
  h5::set_attr(file_, "wall_seconds", wall_seconds);
  h5::set_attr(file_, "runs_per_second",
               wall_seconds > 0 ? static_cast<double>(runs_done) / wall_seconds : 0.0);
  current_slot_ = slot;
  reach(WriterProbe::Step::slot_named);
  if (complete) {
    // Everything of a complete file is written before `complete` says so: a crash until then
    // leaves a partial file that --resume finishes (it has no runs left to do).
    write_summary(summaries);
    write_dimension_scales(h5::File(path_, file_));
    reach(WriterProbe::Step::scales_written);
  }
  h5::set_attr(file_, "complete", std::uint64_t{complete ? 1u : 0u});
  h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_ + ": cannot flush");
  sync_to_disk();
  reach(WriterProbe::Step::checkpoint_done);
}

ResultsWriter::~ResultsWriter() { (void)background_.stop(); }

void ResultsWriter::start_writeback() noexcept {
  void* handle = nullptr;
  if (!file_.valid() || H5Fget_vfd_handle(file_, H5P_DEFAULT, &handle) < 0 || handle == nullptr) {
    return;
  }
  // A sync each writeback_bytes_ appended (8 MiB): each costs a journal commit and a disk flush
  // (system CPU: one a wave cost ~20 ms more for 8M runs, ~50 of them), and the next checkpoint's
  // fsync waits for about that much (~1 ms per MB on this session's disk).
  haddr_t eoa = 0;
  if (H5Fget_eoa(file_, &eoa) >= 0 && eoa < requested_eoa_ + writeback_bytes_) return;
  requested_eoa_ = eoa;
  const int fd = *static_cast<int*>(handle);
  try {
    background_.request(fd);  // the descriptor stays open until close() or abandon() stop it
  } catch (...) {
#ifdef __linux__
    (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
  }
}

void ResultsWriter::sync_to_disk() {
  // H5Fflush hands the data to the operating system; a checkpoint must survive a power loss too.
  // A background sync (start_writeback) under way is waited for first, and its error reported:
  // the kernel reports a writeback error to one sync only, which may have been that one.
  const int background = background_.wait_idle();
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file_, H5P_DEFAULT, &handle) >= 0 && handle != nullptr) {
    if (::fsync(*static_cast<int*>(handle)) != 0) {
      throw OutputError(fmt::format("{}: cannot sync to disk: {}", path_, std::strerror(errno)));
    }
  }
  if (background != 0) {
    throw OutputError(fmt::format("{}: cannot sync to disk: {}", path_, std::strerror(background)));
  }
}

void ResultsWriter::write_summary(const std::vector<engine::Summary>& summaries) {
  write_summary_datasets(summaries);
  reach(WriterProbe::Step::summary_written);
}

void ResultsWriter::write_summary_datasets(const std::vector<engine::Summary>& summaries) {
  const auto group = h5::open_group(file_, "summary");
  const hsize_t points = summaries.size();
  std::vector<std::uint64_t> runs(points);
  for (std::size_t p = 0; p < points; ++p) runs[p] = summaries[p].runs();
  h5::write_dataset(group, "runs", {points}, runs.data());
  for (std::size_t f = 0; f < layout_.categorical.size(); ++f) {
    const auto g = h5::open_group(group, layout_.categorical[f].name);
    const hsize_t cats = layout_.categorical[f].categories.size();
    std::vector<std::uint64_t> counts(points * cats);
    std::vector<double> prob(points * cats), low(points * cats), high(points * cats);
    for (std::size_t p = 0; p < points; ++p) {
      const auto c = summaries[p].counts(f);
      const std::uint64_t n = summaries[p].runs();
      for (std::size_t k = 0; k < cats; ++k) {
        const std::size_t at = p * cats + k;
        counts[at] = c[k];
        prob[at] = n > 0 ? static_cast<double>(c[k]) / static_cast<double>(n) : 0.0;
        const auto ci = engine::wilson(c[k], n);
        low[at] = ci.low;
        high[at] = ci.high;
      }
    }
    h5::write_dataset(g, "counts", {points, cats}, counts.data());
    h5::write_dataset(g, "p", {points, cats}, prob.data());
    h5::write_dataset(g, "ci_low", {points, cats}, low.data());
    h5::write_dataset(g, "ci_high", {points, cats}, high.data());
  }
  for (std::size_t f = 0; f < layout_.continuous.size(); ++f) {
    const auto g = h5::open_group(group, layout_.continuous[f].name);
    const hsize_t bins = layout_.continuous[f].hist_bins + 2;
    std::vector<std::uint64_t> n(points), hist(points * bins);
    std::vector<double> mean(points), m2(points), var(points), mn(points), mx(points);
    for (std::size_t p = 0; p < points; ++p) {
      const auto& st = summaries[p].continuous(f);
      n[p] = st.n();
      mean[p] = st.mean();
      m2[p] = st.m2();
      var[p] = st.variance();
      mn[p] = st.min();
      mx[p] = st.max();
      std::copy(st.histogram().begin(), st.histogram().end(),
                hist.begin() + static_cast<std::ptrdiff_t>(p * bins));
    }
    h5::write_dataset(g, "n", {points}, n.data());
    h5::write_dataset(g, "mean", {points}, mean.data());
    h5::write_dataset(g, "m2", {points}, m2.data());
    h5::write_dataset(g, "variance", {points}, var.data());
    h5::write_dataset(g, "min", {points}, mn.data());
    h5::write_dataset(g, "max", {points}, mx.data());
    h5::write_dataset(g, "histogram", {points, bins}, hist.data());
  }
}

void ResultsWriter::abandon() noexcept {
  // Whatever failed (a write, an fsync, a check), nothing more reaches the file: HDF5 still holds
  // dirty metadata that may point past what the failed writes never stored. Fenced, the file can
  // then be closed (every write of the close refused), which releases it and its lock, so that
  // this process can open the partial again (a resume, a reader in the same process).
  h5::fence(file_.get());
  (void)background_.stop();  // (its error, if any, changes nothing: the file is left as it is)
  columns_.clear();
  block_columns_.clear();
  runs_group_.reset();
  file_.reset();
}

void ResultsWriter::close() {
  // (Every start_writeback is followed by a checkpoint, whose sync reported the background ones.)
  (void)background_.stop();
  if (file_.valid()) write_tails();
  columns_.clear();
  block_columns_.clear();
  runs_group_.reset();
  if (file_.valid()) {
    const hid_t id = file_.get();
    h5::check(H5Fflush(id, H5F_SCOPE_GLOBAL), path_ + ": cannot flush");
    file_.reset();
  }
}

namespace {

/// Plausible limits of what a results file may declare (beyond them it is damaged, not big).
constexpr std::uint64_t MAX_POINTS = 0xFFFFFFFFull;  ///< design points are uint32 (docs/design.md)
constexpr std::size_t MAX_KEYS = 10'000;             ///< swept keys
constexpr std::size_t MAX_STRINGS = 1'000'000;       ///< category labels of a field

std::uint64_t checked_add(const h5::Object& o, std::uint64_t a, std::uint64_t b,
                          const std::string& what) {
  std::uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) o.damaged(what + " overflows 64 bits");
  return sum;
}

/// The bits of a double, so that stored and expected values compare exactly (NaN included).
std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

/// The summaries of a checkpoint slot (ResultsWriter::write_state's inverse), after checking every
/// dataset's type and shape and, per point, that each categorical field's counts sum to the
/// point's runs and each continuous field saw one value per run (n = runs, histogram sums to n).
std::vector<engine::Summary> read_state(const h5::Group& g, const engine::FieldLayout& layout,
                                        hsize_t points) {
  const engine::SummaryState::Offsets at(layout);
  const std::size_t nv = layout.continuous.size();
  // Every dataset is checked (shape, type, stored size) before the state is allocated.
  struct Part {
    h5::Dataset ds;
    std::size_t offset, width;
  };
  std::vector<Part> parts;
  parts.push_back({g.dataset("runs"), at.runs, 1});
  for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
    parts.push_back({g.dataset(layout.categorical[f].name + "_counts"), at.counts[f],
                     layout.categorical[f].categories.size()});
  }
  for (std::size_t f = 0; f < nv; ++f) {
    parts.push_back({g.dataset(layout.continuous[f].name + "_histogram"), at.histograms[f],
                     layout.continuous[f].hist_bins + 2u});
  }
  engine::SummaryState state;
  state.rows = points;
  std::vector<std::vector<std::uint64_t>> columns;
  for (const auto& part : parts) {
    columns.push_back(part.ds.read<std::uint64_t>(
        part.width == 1 ? std::vector<hsize_t>{points} : std::vector<hsize_t>{points, part.width}));
  }
  state.integers.resize(points * at.width);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& column = columns[i];
    const std::size_t width = parts[i].width;
    for (std::size_t p = 0; p < points; ++p) {
      std::copy_n(
          column.begin() + static_cast<std::ptrdiff_t>(p * width), width,
          state.integers.begin() + static_cast<std::ptrdiff_t>(p * at.width + parts[i].offset));
    }
    std::vector<std::uint64_t>().swap(columns[i]);
  }
  const auto row_sum = [&](std::size_t p, std::size_t offset, std::size_t width,
                           const h5::Dataset& ds) {
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < width; ++k) {
      sum = checked_add(ds, sum, state.integers[p * at.width + offset + k],
                        fmt::format("point {}'s sum", p));
    }
    return sum;
  };
  for (std::size_t p = 0; p < points; ++p) {
    const std::uint64_t runs = state.integers[p * at.width + at.runs];
    for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
      const auto& part = parts[1 + f];
      const std::uint64_t sum = row_sum(p, part.offset, part.width, part.ds);
      if (sum != runs)
        part.ds.damaged(fmt::format("point {}: sums to {}, expected {} runs", p, sum, runs));
    }
    for (std::size_t f = 0; f < nv; ++f) {
      const auto& part = parts[1 + layout.categorical.size() + f];
      const std::uint64_t sum = row_sum(p, part.offset, part.width, part.ds);
      if (sum != runs)
        part.ds.damaged(fmt::format("point {}: sums to {}, expected {} runs", p, sum, runs));
    }
  }
  state.moments.resize(points * nv);
  for (std::size_t f = 0; f < nv; ++f) {
    const auto& spec = layout.continuous[f];
    const std::vector<hsize_t> shape{points};
    const auto n_ds = g.dataset(spec.name + "_n");
    const auto n = n_ds.read<std::uint64_t>(shape);
    const auto mean = g.dataset(spec.name + "_mean").read<double>(shape);
    const auto m2 = g.dataset(spec.name + "_m2").read<double>(shape);
    const auto mn = g.dataset(spec.name + "_min").read<double>(shape);
    const auto mx = g.dataset(spec.name + "_max").read<double>(shape);
    for (std::size_t p = 0; p < points; ++p) {
      const std::uint64_t runs = state.integers[p * at.width + at.runs];
      if (n[p] != runs)
        n_ds.damaged(fmt::format("point {}: {} values, expected one per run ({})", p, n[p], runs));
      state.moments[p * nv + f] = {n[p], mean[p], 0.0, m2[p], mn[p], mx[p]};
    }
  }
  return state.unpack(std::make_shared<const engine::FieldLayout>(layout));
}

/// Refuses `obj`'s attribute categories (/summary/<field> or /runs/<field>) unless it holds the
/// model's categories of `spec`, in order: the one check and wording of read_results and
/// categories_problem.
void check_categories(const h5::Object& obj, const engine::FieldSpec& spec) {
  if (obj.attr_strings("categories", MAX_STRINGS) != spec.categories)
    obj.damaged("attribute categories: the categories differ from the model's");
}

/// Checks that a complete file's /summary says what its checkpoint says (the checkpoint slot is
/// authoritative; /summary is derived from it and must agree number for number).
void check_summary(const h5::Group& summary, const engine::FieldLayout& layout,
                   const std::vector<engine::Summary>& state, bool complete) {
  // The fields' descriptions (what readers label the numbers with) are there from the start.
  for (const auto& spec : layout.categorical) {
    const auto g = summary.group(spec.name);
    if (g.attr_string("kind") != "categorical") g.damaged("attribute kind: expected 'categorical'");
    check_categories(g, spec);
  }
  for (const auto& spec : layout.continuous) {
    const auto g = summary.group(spec.name);
    if (g.attr_string("kind") != "continuous") g.damaged("attribute kind: expected 'continuous'");
    if (g.attr_u64("hist_bins") != spec.hist_bins ||
        bits(g.attr_f64("hist_min")) != bits(spec.hist_min) ||
        bits(g.attr_f64("hist_max")) != bits(spec.hist_max)) {
      g.damaged("the histogram's range differs from the model's");
    }
  }
  if (!complete) return;  // a partial file's /summary may be an earlier session's
  const hsize_t points = state.size();
  const auto equal = [&](const h5::Dataset& ds, std::size_t p, std::size_t k, bool same) {
    if (!same)
      ds.damaged(fmt::format("point {}{} disagrees with the checkpoint", p,
                             k == SIZE_MAX ? "" : fmt::format(", column {}", k)));
  };
  {
    const auto ds = summary.dataset("runs");
    const auto runs = ds.read<std::uint64_t>({points});
    for (std::size_t p = 0; p < points; ++p) equal(ds, p, SIZE_MAX, runs[p] == state[p].runs());
  }
  for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
    const auto& spec = layout.categorical[f];
    const auto g = summary.group(spec.name);
    const hsize_t cats = spec.categories.size();
    const auto counts_ds = g.dataset("counts");
    const auto counts = counts_ds.read<std::uint64_t>({points, cats});
    const auto p_ds = g.dataset("p");
    const auto prob = p_ds.read<double>({points, cats});
    const auto low_ds = g.dataset("ci_low");
    const auto low = low_ds.read<double>({points, cats});
    const auto high_ds = g.dataset("ci_high");
    const auto high = high_ds.read<double>({points, cats});
    for (std::size_t p = 0; p < points; ++p) {
      const auto c = state[p].counts(f);
      const std::uint64_t n = state[p].runs();
      for (std::size_t k = 0; k < cats; ++k) {
        const std::size_t at = p * cats + k;
        equal(counts_ds, p, k, counts[at] == c[k]);
        // The same operations as ResultsWriter::write_summary_datasets, so the same bits.
        equal(p_ds, p, k,
              bits(prob[at]) ==
                  bits(n > 0 ? static_cast<double>(c[k]) / static_cast<double>(n) : 0.0));
        const auto ci = engine::wilson(c[k], n);
        equal(low_ds, p, k, bits(low[at]) == bits(ci.low));
        equal(high_ds, p, k, bits(high[at]) == bits(ci.high));
      }
    }
  }
  for (std::size_t f = 0; f < layout.continuous.size(); ++f) {
    const auto& spec = layout.continuous[f];
    const auto g = summary.group(spec.name);
    const std::vector<hsize_t> shape{points};
    const auto n_ds = g.dataset("n");
    const auto n = n_ds.read<std::uint64_t>(shape);
    const hsize_t bins = spec.hist_bins + 2u;
    const auto hist_ds = g.dataset("histogram");
    const auto hist = hist_ds.read<std::uint64_t>({points, bins});
    for (std::size_t p = 0; p < points; ++p) {
      const auto& st = state[p].continuous(f);
      equal(n_ds, p, SIZE_MAX, n[p] == st.n());
      for (std::size_t k = 0; k < bins; ++k)
        equal(hist_ds, p, k, hist[p * bins + k] == st.histogram()[k]);
    }
    const std::pair<const char*, double (engine::ContinuousStats::*)() const noexcept> moments[] = {
        {"mean", &engine::ContinuousStats::mean},
        {"m2", &engine::ContinuousStats::m2},
        {"variance", &engine::ContinuousStats::variance},
        {"min", &engine::ContinuousStats::min},
        {"max", &engine::ContinuousStats::max}};
    for (const auto& [name, get] : moments) {
      const auto ds = g.dataset(name);
      const auto values = ds.read<double>(shape);
      for (std::size_t p = 0; p < points; ++p)
        equal(ds, p, SIZE_MAX, bits(values[p]) == bits((state[p].continuous(f).*get)()));
    }
  }
}

/// The stored value of each category (its index, or its number for numeric categories), and the
/// inverse map from a stored value to the category index (-1: no category).
std::vector<std::int64_t> category_index_of(const engine::FieldSpec& spec) {
  const bool numeric = numeric_categories(spec);
  std::vector<std::int64_t> index_of;
  for (std::size_t c = 0; c < spec.categories.size(); ++c) {
    std::int64_t v = static_cast<std::int64_t>(c);
    if (numeric) parse_int(spec.categories[c], v);
    if (index_of.size() <= static_cast<std::size_t>(v))
      index_of.resize(static_cast<std::size_t>(v) + 1, -1);
    index_of[static_cast<std::size_t>(v)] = static_cast<std::int64_t>(c);
  }
  return index_of;
}

}  // namespace

std::optional<engine::Block> planned_block(std::uint64_t points, std::uint64_t replicates,
                                           std::uint64_t block_size, std::uint64_t sequence) {
  if (points == 0 || replicates == 0 || block_size == 0) return std::nullopt;
  const std::uint64_t per_point = replicates / block_size + (replicates % block_size != 0 ? 1 : 0);
  if (sequence / per_point >= points) return std::nullopt;
  engine::Block b;
  b.point = static_cast<std::uint32_t>(sequence / per_point);
  b.replicate_begin = (sequence % per_point) * block_size;
  b.count = static_cast<std::uint32_t>(std::min(block_size, replicates - b.replicate_begin));
  b.sequence = sequence;
  return b;
}

namespace {

/// The accumulator of continuous field f of every block in the file (/blocks, `rows` rows).
std::vector<std::vector<engine::ContinuousStats::Raw>> read_block_moments(
    const h5::Group& blocks_group, const engine::FieldLayout& layout, hsize_t rows) {
  std::vector<std::vector<engine::ContinuousStats::Raw>> moments;
  for (const auto& spec : layout.continuous) {
    const auto n = blocks_group.dataset(spec.name + "_n").read<std::uint64_t>({rows});
    const auto shift = blocks_group.dataset(spec.name + "_shift").read<double>({rows});
    const auto sum = blocks_group.dataset(spec.name + "_sum").read<double>({rows});
    const auto sum2 = blocks_group.dataset(spec.name + "_sum2").read<double>({rows});
    const auto lo = blocks_group.dataset(spec.name + "_min").read<double>({rows});
    const auto hi = blocks_group.dataset(spec.name + "_max").read<double>({rows});
    auto& field = moments.emplace_back(rows);
    for (hsize_t b = 0; b < rows; ++b) field[b] = {n[b], shift[b], sum[b], sum2[b], lo[b], hi[b]};
  }
  return moments;
}

bool same_bits(double a, double b) noexcept {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

/// A block's continuous field recomputed from its records (verify_runs), in the engine's order of
/// additions, with what bounds the difference from the block's float64 accumulator when the
/// records are float32: the engine summed the float64 values x, the records hold y = float32(x), |x
/// - y| <= 2^-24 |x| (plus 2^-150 below float32's normal range), and both sums round once per
/// addition (Higham, "Accuracy and Stability of Numerical Algorithms", 2002, §4.2: |error| <= (n -
/// 1) u sum |terms|, u = 2^-53).
struct BlockRecount {
  std::uint64_t seen = 0;
  double shift = 0.0, sum = 0.0, sum2 = 0.0, lo = 0.0, hi = 0.0;
  double conversion = 0.0;   ///< sum of |x - y| bounds, e_i = 2^-23 |y| + 2^-149
  double abs_d = 0.0;        ///< sum |y - shift|
  double conversion2 = 0.0;  ///< sum e_i (2 |y - shift| + e_i): bounds |d^2 - d'^2|
  double abs_d2 = 0.0;       ///< sum (|y - shift| + e_i)^2

  void add(double y) noexcept {
    if (seen == 0) lo = hi = y;
    lo = std::min(lo, y);
    hi = std::max(hi, y);
    const double d = y - shift;
    sum += d;
    sum2 += d * d;
    const double e = 0x1p-23 * std::abs(y) + 0x1p-149;
    const double ad = std::abs(d);
    conversion += e;
    abs_d += ad;
    conversion2 += e * (2.0 * ad + e);
    abs_d2 += (ad + e) * (ad + e);
    ++seen;
  }
  /// Tolerances on sum and sum2 (each rounding bound doubled for the rounding of the sums
  /// computed here, and 1% more for the rounding of these bounds themselves).
  double sum_tolerance() const noexcept {
    const double n = static_cast<double>(seen);
    return 1.01 * (conversion + 2.0 * (n + 2.0) * 0x1p-53 * (abs_d + conversion));
  }
  double sum2_tolerance() const noexcept {
    const double n = static_cast<double>(seen);
    return 1.01 * (conversion2 + 2.0 * (n + 4.0) * 0x1p-53 * abs_d2 * 1.01);
  }
};

/// Refuses block b's stored `part` of field `name` (`stored`) against what its records give.
[[noreturn]] void check_block_recount(const h5::Dataset& column, const std::string& name,
                                      const char* part, const engine::Block& block, std::size_t b,
                                      double stored, double records) {
  column.damaged(fmt::format(
      "block {} (point {}, replicates {} + {}): /blocks/{}_{} is {}, but its records give {}", b,
      block.point, block.replicate_begin, block.count, name, part, stored, records));
}

/// `v` as a record of `storage` holds it: rounded to float32, or itself (float64).
double as_stored(double v, engine::StorageType storage) noexcept {
  return storage == engine::StorageType::float32 ? static_cast<double>(static_cast<float>(v)) : v;
}

/// Compares block b's stored accumulator `m` of field `name` with its records' recount `acc`:
/// records stored as float64 are the values the engine summed, so everything must agree bit for
/// bit (the same additions in the same order); float32 records within BlockRecount's bounds.
void verify_block_recount(const h5::Dataset& column, const std::string& name,
                          engine::StorageType storage, const engine::Block& block, std::size_t b,
                          const engine::ContinuousStats::Raw& m, const BlockRecount& acc) {
  if (!same_bits(as_stored(m.min, storage), acc.lo))
    check_block_recount(column, name, "min", block, b, m.min, acc.lo);
  if (!same_bits(as_stored(m.max, storage), acc.hi))
    check_block_recount(column, name, "max", block, b, m.max, acc.hi);
  const bool exact = storage != engine::StorageType::float32;
  const auto outside = [&](const char* part, double stored, double recomputed, double tolerance) {
    if (exact && !same_bits(stored, recomputed))
      check_block_recount(column, name, part, block, b, stored, recomputed);
    if (!exact && !(std::abs(stored - recomputed) <= tolerance)) {
      column.damaged(fmt::format(
          "block {} (point {}, replicates {} + {}): /blocks/{}_{} is {}, but its records give "
          "{} (float32 records allow a difference of at most {:.3g})",
          b, block.point, block.replicate_begin, block.count, name, part, stored, recomputed,
          tolerance));
    }
  };
  outside("sum", m.sum, acc.sum, acc.sum_tolerance());
  outside("sum2", m.sum2, acc.sum2, acc.sum2_tolerance());
}

}  // namespace

std::vector<engine::Block> verify_blocks(const ResultsInfo& info, const engine::FieldLayout& layout,
                                         h5::LockCheck lock) {
  const h5::File file(info.path, false, lock);
  const std::uint64_t points = info.summaries.size();
  // The blocks whose runs are in: a prefix of /blocks (every column as long as /blocks/count).
  const auto blocks_group = file.group("/blocks");
  const auto count_ds = blocks_group.dataset("count");
  const hsize_t rows = count_ds.length();
  const auto count = count_ds.read<std::uint32_t>({rows});
  std::vector<engine::Block> blocks;
  {
    std::uint64_t total = 0;
    hsize_t keep = 0;
    while (keep < rows && total < info.runs_done) total += count[keep++];
    if (total != info.runs_done) {
      count_ds.damaged(fmt::format("the blocks hold {} runs where the checkpoint has {}", total,
                                   info.runs_done));
    }
    const auto point = blocks_group.dataset("point").read<std::uint32_t>({rows});
    const auto begin = blocks_group.dataset("replicate_begin").read<std::uint64_t>({rows});
    const auto sequence = blocks_group.dataset("sequence").read<std::uint64_t>({rows});
    std::vector<std::uint64_t> runs(points, 0);
    for (hsize_t b = 0; b < keep; ++b) {
      if (point[b] >= points || count[b] == 0 || begin[b] > engine::MAX_REPLICATES ||
          count[b] > engine::MAX_REPLICATES - begin[b]) {
        blocks_group.damaged(
            fmt::format("block {} (point {}, replicates {} + {}) is outside the plan of {} points",
                        b, point[b], begin[b], count[b], points));
      }
      if (info.runs_planned > 0) {
        // A fixed plan: every block is the plan's block of its sequence number.
        const auto planned = planned_block(points, info.replicates, info.block_size, sequence[b]);
        const engine::Block stored{point[b], begin[b], count[b], sequence[b]};
        if (!planned || !(*planned == stored)) {
          blocks_group.damaged(fmt::format(
              "block {} (point {}, replicates {} + {}, sequence {}) is not a block of the "
              "plan ({} points x {} replicates in blocks of {})",
              b, point[b], begin[b], count[b], sequence[b], points, info.replicates,
              info.block_size));
        }
      }
      runs[point[b]] += count[b];
      blocks.push_back({point[b], begin[b], count[b], sequence[b]});
    }
    for (std::size_t p = 0; p < points; ++p) {
      if (runs[p] != info.summaries[p].runs()) {
        count_ds.damaged(fmt::format("the blocks of point {} hold {} runs, the checkpoint {}", p,
                                     runs[p], info.summaries[p].runs()));
      }
    }
    // Each block's moments: one value per run, and folded point by point in the order of the
    // blocks (Chan's merges, as the writer and wedge merge fold them), exactly the checkpoint's
    // state, bit for bit: a block's sums edited (even with its chunk's checksum recomputed) would
    // otherwise make wedge merge write a wrong mean.
    const auto moments = read_block_moments(blocks_group, layout, rows);
    for (std::size_t f = 0; f < layout.continuous.size(); ++f) {
      const auto& spec = layout.continuous[f];
      const auto n_ds = blocks_group.dataset(spec.name + "_n");
      for (hsize_t b = 0; b < keep; ++b) {
        if (moments[f][b].n != count[b]) {
          n_ds.damaged(
              fmt::format("block {}: {} values for {} runs", b, moments[f][b].n, count[b]));
        }
      }
      std::vector<engine::ContinuousStats> folded(points);
      for (hsize_t b = 0; b < keep; ++b) folded[point[b]].merge_moments(moments[f][b]);
      for (std::size_t p = 0; p < points; ++p) {
        const auto got = folded[p].raw().normalised();
        const auto want = info.summaries[p].continuous(f).raw().normalised();
        if (got.n == 0 && want.n == 0) continue;
        const auto differs = [&](const char* part, double a, double c) {
          if (same_bits(a, c)) return;
          blocks_group.damaged(fmt::format(
              "the blocks of point {} give {} {} {}, the checkpoint {} (a block's {}_n, "
              "_shift, _sum, _sum2, _min or _max, or the checkpoint, was changed)",
              p, spec.name, part, a, c, spec.name));
        };
        differs("mean", got.shift, want.shift);
        differs("m2", got.sum2, want.sum2);
        differs("min", got.min, want.min);
        differs("max", got.max, want.max);
      }
    }
  }
  return blocks;
}

std::vector<engine::Block> verify_runs(const ResultsInfo& info, const engine::FieldLayout& layout,
                                       h5::LockCheck lock, const std::function<bool()>& stop) {
  const auto blocks = verify_blocks(info, layout, lock);
  if (!info.store_runs) return blocks;
  const h5::File file(info.path, false, lock);
  const std::uint64_t points = info.summaries.size();
  // The records, a slice at a time: each is its block's (point and replicate), each category is
  // one of its field's, and the categories of each point add up to the checkpoint's counts.
  const auto runs = file.group("/runs");
  const auto point_ds = runs.dataset("point");
  const auto replicate_ds = runs.dataset("replicate");
  std::vector<h5::Dataset> categorical, continuous;
  std::vector<std::vector<std::int64_t>> index_of;
  for (const auto& spec : layout.categorical) {
    categorical.push_back(runs.dataset(spec.name));
    index_of.push_back(category_index_of(spec));
  }
  for (const auto& spec : layout.continuous) continuous.push_back(runs.dataset(spec.name));
  const engine::SummaryState::Offsets at(layout);
  auto remaining = engine::SummaryState::pack(info.summaries).integers;  // counts still to be seen
  constexpr hsize_t STEP = 1 << 16;
  std::vector<std::uint32_t> point, replicate;
  std::vector<std::uint16_t> values;
  std::vector<double> reals;
  // Each block's continuous fields recomputed from its records (BlockRecount): its shift (the
  // block's first value), min and max are the records' own, exactly, once rounded to the column's
  // type; its sums are the records' bit for bit (float64 columns) or within the rounding bound of
  // float32 records (the engine summed the float64 values; the Tug of War's columns keep float32).
  const auto blocks_group = file.group("/blocks");
  const auto moments =
      read_block_moments(blocks_group, layout, blocks_group.dataset("count").length());
  std::vector<BlockRecount> recount(continuous.size());
  std::vector<std::size_t> row_block;
  std::size_t block = 0;
  std::uint64_t in_block = 0;
  for (hsize_t start = 0; start < info.runs_done; start += STEP) {
    if (stop && stop()) throw Interrupted(fmt::format("interrupted while reading {}", info.path));
    const hsize_t n = std::min<hsize_t>(STEP, info.runs_done - start);
    point_ds.read_rows(start, n, point);
    replicate_ds.read_rows(start, n, replicate);
    row_block.resize(n);
    for (hsize_t r = 0; r < n; ++r) {
      while (in_block == blocks[block].count) ++block, in_block = 0;
      row_block[r] = block;
      const auto& b = blocks[block];
      if (point[r] != b.point || replicate[r] != b.replicate_begin + in_block) {
        point_ds.damaged(fmt::format(
            "record {} is (point {}, replicate {}), its block says (point {}, replicate {})",
            start + r, point[r], replicate[r], b.point, b.replicate_begin + in_block));
      }
      ++in_block;
    }
    for (std::size_t f = 0; f < categorical.size(); ++f) {
      categorical[f].read_rows(start, n, values);
      const auto& map = index_of[f];
      for (hsize_t r = 0; r < n; ++r) {
        const std::uint16_t v = values[r];
        if (v >= map.size() || map[v] < 0) {
          categorical[f].damaged(fmt::format("record {} holds {}, which is no category of {}",
                                             start + r, v, layout.categorical[f].name));
        }
        auto& left =
            remaining[point[r] * at.width + at.counts[f] + static_cast<std::size_t>(map[v])];
        if (left == 0) {
          categorical[f].damaged(fmt::format(
              "the records of point {} hold more '{}' than the checkpoint counts", point[r],
              layout.categorical[f].categories[static_cast<std::size_t>(map[v])]));
        }
        --left;
      }
    }
    for (std::size_t f = 0; f < continuous.size(); ++f) {
      continuous[f].read_rows(start, n, reals);  // every chunk's checksum
      auto& acc = recount[f];
      for (hsize_t r = 0; r < n; ++r) {
        const std::size_t b = row_block[r];
        const auto& m = moments[f][b];
        if (acc.seen == 0) {
          acc.shift = m.shift;
          if (!same_bits(as_stored(m.shift, layout.continuous[f].storage), reals[r])) {
            check_block_recount(continuous[f], layout.continuous[f].name, "shift", blocks[b], b,
                                m.shift, reals[r]);
          }
        }
        acc.add(reals[r]);
        if (acc.seen == blocks[b].count) {
          verify_block_recount(continuous[f], layout.continuous[f].name,
                               layout.continuous[f].storage, blocks[b], b, m, acc);
          acc = BlockRecount{};
        }
      }
    }
  }
  for (std::size_t f = 0; f < categorical.size(); ++f) {
    for (std::size_t p = 0; p < points; ++p) {
      for (std::size_t k = 0; k < layout.categorical[f].categories.size(); ++k) {
        if (remaining[p * at.width + at.counts[f] + k] != 0) {
          categorical[f].damaged(
              fmt::format("the records of point {} hold fewer '{}' than the checkpoint counts", p,
                          layout.categorical[f].categories[k]));
        }
      }
    }
  }
  return blocks;
}

void check_arithmetic(const ResultsInfo& info, std::string_view what,
                      std::string_view build_commit) {
  if (auto problem = arithmetic_problem(info, what, build_commit); !problem.empty())
    throw OutputError(std::move(problem));
}

std::string arithmetic_problem(const ResultsInfo& info, std::string_view what,
                               std::string_view build_commit) {
  if (info.arithmetic_version == ARITHMETIC_VERSION) return {};
  const std::string advice =
      what == "merge"
          ? fmt::format(
                "rerun that shard with this build, or merge with the build that wrote it "
                "(git {})",
                info.git_commit)
          : fmt::format(
                "start the run over with this build (--force), or resume it with the "
                "build that wrote it (git {})",
                info.git_commit);
  if (!info.arithmetic_version) {
    return fmt::format(
        "{}: {} was written by a build (git {}) that did not record its results arithmetic "
        "version, so it cannot be proven to compute runs as this build (arithmetic_version {}, "
        "git {}) does: their results may differ in their last digits and would mix silently; {}",
        what, info.path, info.git_commit, ARITHMETIC_VERSION, build_commit, advice);
  }
  return fmt::format(
      "{}: {} was written by a build whose results arithmetic differs (arithmetic_version {}, git "
      "{}) from this build's (arithmetic_version {}, git {}): their runs differ in their last "
      "digits and would mix silently; {}",
      what, info.path, *info.arithmetic_version, info.git_commit, ARITHMETIC_VERSION, build_commit,
      advice);
}

ResultsInfo read_results(const std::string& path, const engine::FieldLayout& layout,
                         h5::LockCheck lock) {
  h5::quiet_errors();
  ResultsInfo info;
  info.path = path;
  const h5::File file(path, false, lock);
  const auto root = file.root();
  std::string format;
  try {
    if (root.has_attr("format")) format = root.attr_string("format");
  } catch (const OutputError&) {
    format.clear();
  }
  if (format != FORMAT_NAME) {
    throw OutputError(fmt::format("{}: not a wedge results file (no format = \"{}\" attribute)",
                                  path, FORMAT_NAME));
  }
  info.format = FORMAT_NAME;
  info.format_version = root.attr_u64("format_version");
  if (info.format_version > FORMAT_VERSION) {
    throw OutputError(
        fmt::format("{}: format_version {} is newer than this wedge reads ({}); upgrade wedge",
                    path, info.format_version, FORMAT_VERSION));
  }
  if (info.format_version < 1) root.damaged("format_version 0 does not exist");
  const auto flag = [&](const char* name) {
    const std::uint64_t v = root.attr_u64(name);
    if (v > 1)
      file.damaged(std::string("attribute ") + name, fmt::format("is {}, expected 0 or 1", v));
    return v == 1;
  };
  info.model = root.attr_string("model");
  info.model_version = root.attr_string("model_version");
  info.engine_version = root.attr_string("engine_version");
  info.git_commit = root.attr_string("git_commit");
  if (root.has_attr("arithmetic_version"))
    info.arithmetic_version = root.attr_u64("arithmetic_version");
  info.created = root.attr_string("created");
  info.rng = root.attr_string("rng");
  info.command_line = root.attr_string("command_line");
  info.experiment = root.attr_string("experiment");
  info.design = root.attr_string("design");
  info.seed = root.attr_u64("seed");
  info.crn = flag("crn");
  info.threads = root.attr_u64("threads");
  info.replicates = root.attr_u64("replicates");
  info.runs_planned = root.attr_u64("runs_planned");
  info.block_size = root.attr_u64("block_size");
  const std::string store = root.attr_string("store");
  if (store != "runs" && store != "summary")
    file.damaged("attribute store", "is '" + store + "', expected runs or summary");
  info.store_runs = store == "runs";
  info.compression = root.attr_string("compression");
  if (info.compression != "none" && info.compression != "shuffle+deflate") {
    file.damaged("attribute compression",
                 "is '" + info.compression + "', expected none or shuffle+deflate");
  }
  info.complete = flag("complete");
  info.shard_index = root.has_attr("shard_index") ? root.attr_u64("shard_index") : 0;
  info.shard_count = root.has_attr("shard_count") ? root.attr_u64("shard_count") : 1;
  if (info.shard_count == 0 || info.shard_index >= info.shard_count) {
    file.damaged("attribute shard_index",
                 fmt::format("shard {} of {} does not exist", info.shard_index, info.shard_count));
  }
  for (const char* lib : {"tbb_version", "boost_version", "hdf5_version", "fmt_version"}) {
    if (root.has_attr(lib)) info.libraries.emplace_back(lib, root.attr_string(lib));
  }
  info.wall_seconds = root.attr_f64("wall_seconds");
  info.runs_per_second = root.attr_f64("runs_per_second");
  // The root's runs_done is a copy of the slot's (read below, authoritative), written after it;
  // it is still one integer, as Python's reader requires (one rule for both readers).
  (void)root.attr_u64("runs_done");
  if (info.block_size == 0 || info.block_size > engine::MAX_REPLICATES) {
    file.damaged("attribute block_size",
                 fmt::format("is {}, expected 1 to {}", info.block_size, engine::MAX_REPLICATES));
  }
  if (info.replicates > engine::MAX_REPLICATES) {
    file.damaged("attribute replicates",
                 fmt::format("is {}, more than {}", info.replicates, engine::MAX_REPLICATES));
  }

  // The design: `points` points (0 ... P-1), one column per swept key.
  const std::uint64_t points = root.attr_u64("points");
  if (points == 0 || points > MAX_POINTS)
    file.damaged("attribute points", fmt::format("is {}, expected 1 to {}", points, MAX_POINTS));
  if (info.replicates > 0) {
    std::uint64_t planned = 0;
    if (__builtin_mul_overflow(points, info.replicates, &planned) ||
        (info.shard_count == 1 ? info.runs_planned != planned : info.runs_planned > planned)) {
      file.damaged("attribute runs_planned",
                   fmt::format("is {}, but {} points x {} replicates make {}", info.runs_planned,
                               points, info.replicates, planned));
    }
  }
  const auto design = file.group("/design");
  info.swept_keys = design.attr_strings("keys", MAX_KEYS);
  {
    const auto point_ds = design.dataset("point");
    const auto index = point_ds.read<std::uint32_t>({points});
    for (std::uint64_t p = 0; p < points; ++p) {
      if (index[p] != p)
        point_ds.damaged(fmt::format("entry {} is {}, expected {}", p, index[p], p));
    }
  }
  info.values.assign(points, std::vector<double>(info.swept_keys.size()));
  for (std::size_t k = 0; k < info.swept_keys.size(); ++k) {
    const std::string& key = info.swept_keys[k];
    if (key == "point" ||
        std::find(info.swept_keys.begin(), info.swept_keys.begin() + static_cast<std::ptrdiff_t>(k),
                  key) != info.swept_keys.begin() + static_cast<std::ptrdiff_t>(k)) {
      design.damaged(fmt::format("swept key '{}' is named twice or is reserved", key));
    }
    const auto column = design.dataset(key).read<double>({points});
    for (std::size_t p = 0; p < points; ++p) info.values[p][k] = column[p];
  }

  // The authoritative state is the checkpoint slot the root names (written, flushed, then named);
  // the slot's own runs_done is authoritative too (the root's copy is written after it).
  const std::uint64_t slot = root.attr_u64("checkpoint_slot");
  if (slot > 1)
    file.damaged("attribute checkpoint_slot", fmt::format("is {}, expected 0 or 1", slot));
  const auto state = file.group("/checkpoint/" + std::to_string(slot));
  info.runs_done = state.attr_u64("runs_done");
  info.summaries = read_state(state, layout, points);
  std::uint64_t total = 0;
  for (const auto& s : info.summaries)
    total = checked_add(state, total, s.runs(), "the runs of all points");
  if (total != info.runs_done) {
    state.damaged(fmt::format("the points' runs add up to {}, the slot's runs_done is {}", total,
                              info.runs_done));
  }
  if (info.runs_planned > 0 && info.runs_done > info.runs_planned) {
    state.damaged(fmt::format("runs_done {} is more than the {} runs planned", info.runs_done,
                              info.runs_planned));
  }
  if (info.complete && info.runs_planned > 0 && info.runs_done != info.runs_planned) {
    state.damaged(fmt::format("the file says complete but holds {} of {} planned runs",
                              info.runs_done, info.runs_planned));
  }
  check_summary(file.group("/summary"), layout, info.summaries, info.complete);

  if (info.store_runs) {
    // Every column holds the runs done (a complete file exactly those).
    const auto runs = file.group("/runs");
    std::vector<std::string> columns{"point", "replicate"};
    for (const auto& f : layout.categorical) columns.push_back(f.name);
    for (const auto& f : layout.continuous) columns.push_back(f.name);
    for (const auto& name : columns) {
      const auto ds = runs.dataset(name);
      const hsize_t n = ds.length();
      if (name == "point") info.runs_stored = n;
      if (n < info.runs_done || (info.complete && n != info.runs_done)) {
        ds.damaged(fmt::format("holds {} records, {} runs are done", n, info.runs_done));
      }
    }
    // How the categorical columns say they are encoded is what readers decode them by.
    for (const auto& spec : layout.categorical) {
      const auto ds = runs.dataset(spec.name);
      const std::string encoding = numeric_categories(spec) ? "value" : "index";
      if (ds.attr_string("encoding") != encoding)
        ds.damaged("attribute encoding: expected '" + encoding + "'");
      check_categories(ds, spec);
    }
  }
  return info;
}

std::string categories_problem(const std::string& path, const engine::FieldLayout& layout) {
  // The problem of one object's list, or "" (also when the attribute is missing or cannot be
  // read as strings: read_results words those, for every reader alike).
  const auto problem_of = [](const h5::Object& obj, const engine::FieldSpec& spec) -> std::string {
    try {
      if (!obj.has_attr("categories") ||
          obj.attr_strings("categories", MAX_STRINGS) == spec.categories)
        return {};
    } catch (const OutputError&) {
      return {};
    }
    try {
      check_categories(obj, spec);
    } catch (const OutputError& err) {
      return err.what();
    }
    return {};
  };
  try {
    h5::quiet_errors();
    const h5::File file(path, false, h5::LockCheck::others);
    const auto root = file.root();
    if (root.has_group("summary")) {
      const auto summary = file.group("/summary");
      for (const auto& spec : layout.categorical) {
        if (!summary.has_group(spec.name)) continue;
        if (auto problem = problem_of(summary.group(spec.name), spec); !problem.empty())
          return problem;
      }
    }
    if (root.has_group("runs")) {
      const auto runs = file.group("/runs");
      for (const auto& spec : layout.categorical) {
        if (!runs.has(spec.name)) continue;
        if (auto problem = problem_of(runs.dataset(spec.name), spec); !problem.empty())
          return problem;
      }
    }
  } catch (const OutputError&) {
    // Not a results file, locked, or damaged elsewhere: read_results says so.
  }
  return {};
}

}  // namespace wedge::output
