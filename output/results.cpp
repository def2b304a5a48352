#include "output/results.hpp"

#include "engine/error.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <chrono>
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
    {WriterProbe::Step::runs_appended, "runs_appended"},     {WriterProbe::Step::blocks_appended, "blocks_appended"},
    {WriterProbe::Step::slot_written, "slot_written"},       {WriterProbe::Step::slot_flushed, "slot_flushed"},
    {WriterProbe::Step::slot_synced, "slot_synced"},         {WriterProbe::Step::slot_named, "slot_named"},
    {WriterProbe::Step::summary_written, "summary_written"}, {WriterProbe::Step::checkpoint_done, "checkpoint_done"}};
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
  file_ = h5::create_file(path);
  const hid_t root = file_;
  h5::set_attr(root, "format", std::string(FORMAT_NAME));
  h5::set_attr(root, "format_version", FORMAT_VERSION);
  h5::set_attr(root, "model", meta.model);
  h5::set_attr(root, "model_version", meta.model_version);
  h5::set_attr(root, "engine_version", meta.engine_version);
  h5::set_attr(root, "git_commit", meta.git_commit);
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
    // Per block: its extent and its continuous fields' exact accumulator state (for merging shards).
    const auto blocks = h5::create_group(file_, "blocks");
    h5::set_attr(blocks, "description",
                 std::string("one row per block of the plan run: point, replicate_begin, count and, for each "
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
  const std::vector<engine::Summary> empty(points, engine::Summary(std::make_shared<const engine::FieldLayout>(layout_)));
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
    h5::Handle point = column("point", points <= 256 ? H5T_STD_U8LE : points <= 65536 ? H5T_STD_U16LE : H5T_STD_U32LE);
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
}

ResultsWriter::ResultsWriter(const std::string& path, const engine::FieldLayout& layout,
                             std::uint64_t runs_done)
    : path_(path), layout_(layout) {
  h5::quiet_errors();
  file_ = h5::open_file(path, true);
  store_runs_ = h5::get_attr_string(file_, "store") == "runs";
  current_slot_ = h5::get_attr_u64(file_, "checkpoint_slot");
  open_columns();
  for (auto& c : columns_) {
    if (h5::length(c) < runs_done) {
      throw OutputError(fmt::format("{}: damaged: a column holds fewer runs than runs_done ({})", path, runs_done));
    }
    h5::set_length(c, runs_done);
  }
  // Keep the blocks whose runs are in.
  const auto counts = h5::read_dataset<std::uint32_t>(h5::open_group(file_, "blocks"), "count");
  std::uint64_t total = 0;
  hsize_t keep = 0;
  while (keep < counts.size() && total < runs_done) total += counts[keep++];
  if (total != runs_done) {
    throw OutputError(fmt::format("{}: damaged: /blocks does not end on runs_done ({})", path, runs_done));
  }
  for (auto& c : block_columns_) h5::set_length(c, keep);
}

void ResultsWriter::open_columns() {
  category_values_.clear();
  category_wide_.clear();
  for (const auto& f : layout_.categorical) {
    const bool numeric = numeric_categories(f);
    category_wide_.push_back(H5Tequal(stored_type(f, numeric), H5T_STD_U16LE) > 0);
    std::vector<std::int64_t> values;
    for (std::size_t c = 0; c < f.categories.size(); ++c) {
      std::int64_t v = static_cast<std::int64_t>(c);
      if (numeric) parse_int(f.categories[c], v);
      values.push_back(v);
    }
    category_values_.push_back(std::move(values));
  }
  {
    const auto blocks = h5::open_group(file_, "blocks");
    block_columns_.clear();
    auto open_block = [&](const std::string& name) {
      return h5::Handle(h5::check_id(H5Dopen2(blocks, name.c_str(), H5P_DEFAULT),
                                     fmt::format("{}: missing dataset /blocks/{}", path_, name)));
    };
    block_columns_.push_back(open_block("point"));
    block_columns_.push_back(open_block("replicate_begin"));
    block_columns_.push_back(open_block("count"));
    block_columns_.push_back(open_block("sequence"));
    for (const auto& f : layout_.continuous) {
      for (const char* part : {"_n", "_shift", "_sum", "_sum2", "_min", "_max"}) block_columns_.push_back(open_block(f.name + part));
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
}

void ResultsWriter::append_blocks(std::span<const engine::Block> blocks,
                                  std::span<const engine::Summary> block_summaries) {
  const std::size_t n = blocks.size();
  std::vector<std::uint32_t> u32(n);
  std::vector<std::uint64_t> u64(n);
  for (std::size_t i = 0; i < n; ++i) u32[i] = blocks[i].point;
  h5::append(block_columns_[0], H5T_NATIVE_UINT32, u32.data(), n);
  for (std::size_t i = 0; i < n; ++i) u64[i] = blocks[i].replicate_begin;
  h5::append(block_columns_[1], H5T_NATIVE_UINT64, u64.data(), n);
  for (std::size_t i = 0; i < n; ++i) u32[i] = blocks[i].count;
  h5::append(block_columns_[2], H5T_NATIVE_UINT32, u32.data(), n);
  for (std::size_t i = 0; i < n; ++i) u64[i] = blocks[i].sequence;
  h5::append(block_columns_[3], H5T_NATIVE_UINT64, u64.data(), n);
  // Each block's moments (engine::SummaryState), as they are: merge replays them in plan order.
  const auto state = engine::SummaryState::pack(block_summaries);
  const std::size_t nv = layout_.continuous.size();
  std::vector<double> f64(n);
  for (std::size_t f = 0; f < nv; ++f) {
    const std::size_t base = 4 + 6 * f;
    for (std::size_t i = 0; i < n; ++i) u64[i] = state.moments[i * nv + f].n;
    h5::append(block_columns_[base], H5T_NATIVE_UINT64, u64.data(), n);
    const auto part = [&](std::size_t column, double engine::ContinuousStats::Raw::*member) {
      for (std::size_t i = 0; i < n; ++i) f64[i] = state.moments[i * nv + f].*member;
      h5::append(block_columns_[base + column], H5T_NATIVE_DOUBLE, f64.data(), n);
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
  const std::size_t nc = layout_.categorical.size();
  const std::size_t nv = layout_.continuous.size();
  std::vector<std::uint32_t> u32(n);
  std::vector<std::uint8_t> u8(n);
  std::vector<std::uint16_t> u16;
  std::size_t i = 0;
  if (point_type_ == H5T_NATIVE_UINT8) {
    for (const auto& b : blocks) std::fill_n(u8.begin() + static_cast<std::ptrdiff_t>(i), b.count, static_cast<std::uint8_t>(b.point)), i += b.count;
    h5::append(columns_[0], H5T_NATIVE_UINT8, u8.data(), n);
  } else if (point_type_ == H5T_NATIVE_UINT16) {
    u16.resize(n);
    for (const auto& b : blocks) std::fill_n(u16.begin() + static_cast<std::ptrdiff_t>(i), b.count, static_cast<std::uint16_t>(b.point)), i += b.count;
    h5::append(columns_[0], H5T_NATIVE_UINT16, u16.data(), n);
  } else {
    for (const auto& b : blocks) std::fill_n(u32.begin() + static_cast<std::ptrdiff_t>(i), b.count, b.point), i += b.count;
    h5::append(columns_[0], H5T_NATIVE_UINT32, u32.data(), n);
  }
  i = 0;
  for (const auto& b : blocks) {
    for (std::uint32_t k = 0; k < b.count; ++k) u32[i++] = static_cast<std::uint32_t>(b.replicate_begin + k);
  }
  h5::append(columns_[1], H5T_NATIVE_UINT32, u32.data(), n);
  // Buffers in exactly the stored types, so HDF5 copies instead of converting element by element.
  for (std::size_t c = 0; c < nc; ++c) {
    const auto& map = category_values_[c];
    if (category_wide_[c]) {
      u16.resize(n);
      for (std::size_t r = 0; r < n; ++r) u16[r] = static_cast<std::uint16_t>(map[categories[r * nc + c]]);
      h5::append(columns_[2 + c], H5T_NATIVE_UINT16, u16.data(), n);
    } else {
      for (std::size_t r = 0; r < n; ++r) u8[r] = static_cast<std::uint8_t>(map[categories[r * nc + c]]);
      h5::append(columns_[2 + c], H5T_NATIVE_UINT8, u8.data(), n);
    }
  }
  std::vector<float> f32;
  std::vector<double> f64;
  for (std::size_t v = 0; v < nv; ++v) {
    if (layout_.continuous[v].storage == engine::StorageType::float32) {
      f32.resize(n);
      for (std::size_t r = 0; r < n; ++r) f32[r] = static_cast<float>(values[r * nv + v]);
      h5::append(columns_[2 + nc + v], H5T_NATIVE_FLOAT, f32.data(), n);
    } else {
      f64.resize(n);
      for (std::size_t r = 0; r < n; ++r) f64[r] = values[r * nv + v];
      h5::append(columns_[2 + nc + v], H5T_NATIVE_DOUBLE, f64.data(), n);
    }
  }
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
    h5::write_dataset(group, layout_.categorical[f].name + "_counts", {points, cats}, integers(at.counts[f], cats).data());
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
    h5::write_dataset(group, name + "_histogram", {points, bins}, integers(at.histograms[f], bins).data());
  }
}

void ResultsWriter::checkpoint(const std::vector<engine::Summary>& summaries, std::uint64_t runs_done,
                               double wall_seconds, bool complete) {
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
  reach(WriterProbe::Step::slot_written);
  h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_ + ": cannot flush");
  reach(WriterProbe::Step::slot_flushed);
  sync_to_disk();
  reach(WriterProbe::Step::slot_synced);
  h5::set_attr(file_, "checkpoint_slot", slot);
  h5::set_attr(file_, "runs_done", runs_done);
  h5::set_attr(file_, "wall_seconds", wall_seconds);
  h5::set_attr(file_, "runs_per_second", wall_seconds > 0 ? static_cast<double>(runs_done) / wall_seconds : 0.0);
  current_slot_ = slot;
  reach(WriterProbe::Step::slot_named);
  if (complete) write_summary(summaries);
  h5::set_attr(file_, "complete", std::uint64_t{complete ? 1u : 0u});
  h5::check(H5Fflush(file_, H5F_SCOPE_GLOBAL), path_ + ": cannot flush");
  sync_to_disk();
  reach(WriterProbe::Step::checkpoint_done);
}

void ResultsWriter::sync_to_disk() {
  // H5Fflush hands the data to the operating system; a checkpoint must survive a power loss too.
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file_, H5P_DEFAULT, &handle) >= 0 && handle != nullptr) {
    if (::fsync(*static_cast<int*>(handle)) != 0) {
      throw OutputError(fmt::format("{}: cannot sync to disk: {}", path_, std::strerror(errno)));
    }
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
      std::copy(st.histogram().begin(), st.histogram().end(), hist.begin() + static_cast<std::ptrdiff_t>(p * bins));
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
  for (auto& c : columns_) c.release();
  for (auto& c : block_columns_) c.release();
  runs_group_.release();
  file_.release();
  columns_.clear();
  block_columns_.clear();
}

void ResultsWriter::close() {
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

/// The summaries stored in a checkpoint slot by ResultsWriter::write_state (its inverse).
std::vector<engine::Summary> read_state(hid_t group, const engine::FieldLayout& layout, std::size_t points) {
  const engine::SummaryState::Offsets at(layout);
  engine::SummaryState state;
  state.rows = points;
  state.integers.resize(points * at.width);
  const auto integers = [&](const std::string& name, std::size_t offset, std::size_t width) {
    std::vector<hsize_t> dims;
    const auto column = h5::read_dataset<std::uint64_t>(group, name, &dims);
    const bool shaped = width == 1 ? dims.size() == 1 && dims[0] == points
                                   : dims.size() == 2 && dims[0] == points && dims[1] == width;
    if (!shaped) throw OutputError("checkpoint dataset " + name + " has the wrong shape");
    for (std::size_t p = 0; p < points; ++p) {
      std::copy_n(column.begin() + static_cast<std::ptrdiff_t>(p * width), width,
                  state.integers.begin() + static_cast<std::ptrdiff_t>(p * at.width + offset));
    }
  };
  integers("runs", at.runs, 1);
  for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
    integers(layout.categorical[f].name + "_counts", at.counts[f], layout.categorical[f].categories.size());
  }
  const std::size_t nv = layout.continuous.size();
  state.moments.resize(points * nv);
  for (std::size_t f = 0; f < nv; ++f) {
    const auto& spec = layout.continuous[f];
    integers(spec.name + "_histogram", at.histograms[f], spec.hist_bins + 2);
    const auto n = h5::read_dataset<std::uint64_t>(group, spec.name + "_n");
    const auto mean = h5::read_dataset<double>(group, spec.name + "_mean");
    const auto m2 = h5::read_dataset<double>(group, spec.name + "_m2");
    const auto mn = h5::read_dataset<double>(group, spec.name + "_min");
    const auto mx = h5::read_dataset<double>(group, spec.name + "_max");
    for (const auto* column : {&mean, &m2, &mn, &mx}) {
      if (column->size() != points || n.size() != points) {
        throw OutputError("checkpoint moments of " + spec.name + " have the wrong length");
      }
    }
    for (std::size_t p = 0; p < points; ++p) state.moments[p * nv + f] = {n[p], mean[p], 0.0, m2[p], mn[p], mx[p]};
  }
  return state.unpack(std::make_shared<const engine::FieldLayout>(layout));
}

}  // namespace

void verify_runs(const ResultsInfo& info, const engine::FieldLayout& layout) {
  if (!info.store_runs) return;
  const auto file = h5::open_file(info.path, false);
  const auto runs = h5::open_group(file, "runs");
  try {
    const auto point = h5::read_dataset<std::uint32_t>(runs, "point");
    if (point.size() < info.runs_done) throw OutputError("fewer records than runs_done");
    // Reading every column checks every chunk's checksum.
    (void)h5::read_dataset<std::uint32_t>(runs, "replicate");
    for (const auto& spec : layout.continuous) (void)h5::read_dataset<double>(runs, spec.name);
    for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
      const auto& spec = layout.categorical[f];
      const auto values = h5::read_dataset<std::uint16_t>(runs, spec.name);
      const bool numeric = numeric_categories(spec);
      std::vector<std::int64_t> index_of;  // stored value -> category index
      for (std::size_t c = 0; c < spec.categories.size(); ++c) {
        std::int64_t v = static_cast<std::int64_t>(c);
        if (numeric) parse_int(spec.categories[c], v);
        if (index_of.size() <= static_cast<std::size_t>(v)) index_of.resize(static_cast<std::size_t>(v) + 1, -1);
        index_of[static_cast<std::size_t>(v)] = static_cast<std::int64_t>(c);
      }
      std::vector<std::vector<std::uint64_t>> counts(info.summaries.size(),
                                                     std::vector<std::uint64_t>(spec.categories.size(), 0));
      for (std::uint64_t r = 0; r < info.runs_done; ++r) {
        const std::uint16_t v = values[r];
        if (point[r] >= counts.size() || v >= index_of.size() || index_of[v] < 0) {
          throw OutputError(fmt::format("record {} of {} is out of range", r, spec.name));
        }
        ++counts[point[r]][static_cast<std::size_t>(index_of[v])];
      }
      for (std::size_t p = 0; p < counts.size(); ++p) {
        const auto expected = info.summaries[p].counts(f);
        if (!std::equal(expected.begin(), expected.end(), counts[p].begin())) {
          throw OutputError(fmt::format("the records of {} disagree with the checkpointed counts", spec.name));
        }
      }
    }
  } catch (const OutputError& err) {
    throw OutputError(fmt::format("{}: damaged: {}", info.path, err.what()));
  }
}

ResultsInfo read_results(const std::string& path, const engine::FieldLayout& layout) {
  h5::quiet_errors();
  ResultsInfo info;
  info.path = path;
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw OutputError(fmt::format("{}: not an HDF5 file (or damaged beyond reading)", path));
  if (is_hdf5 < 0) (void)h5::open_file(path, false);  // throws with the reason (locked, unreadable...)
  const auto file = h5::open_file(path, false);
  if (!h5::has_attr(file, "format") || h5::get_attr_string(file, "format") != FORMAT_NAME) {
    throw OutputError(fmt::format("{}: not a wedge results file (no format = \"{}\" attribute)", path, FORMAT_NAME));
  }
  info.format = FORMAT_NAME;
  info.format_version = h5::get_attr_u64(file, "format_version");
  if (info.format_version > FORMAT_VERSION) {
    throw OutputError(fmt::format("{}: format_version {} is newer than this wedge reads ({}); upgrade wedge",
                                  path, info.format_version, FORMAT_VERSION));
  }
  try {
    info.model = h5::get_attr_string(file, "model");
    info.model_version = h5::get_attr_string(file, "model_version");
    info.engine_version = h5::get_attr_string(file, "engine_version");
    info.git_commit = h5::get_attr_string(file, "git_commit");
    info.created = h5::get_attr_string(file, "created");
    info.rng = h5::get_attr_string(file, "rng");
    info.command_line = h5::get_attr_string(file, "command_line");
    info.experiment = h5::get_attr_string(file, "experiment");
    info.design = h5::get_attr_string(file, "design");
    info.seed = h5::get_attr_u64(file, "seed");
    info.crn = h5::get_attr_u64(file, "crn") != 0;
    info.threads = h5::get_attr_u64(file, "threads");
    info.replicates = h5::get_attr_u64(file, "replicates");
    info.runs_planned = h5::get_attr_u64(file, "runs_planned");
    info.block_size = h5::get_attr_u64(file, "block_size");
    info.store_runs = h5::get_attr_string(file, "store") == "runs";
    info.compression = h5::get_attr_string(file, "compression");
    info.complete = h5::get_attr_u64(file, "complete") != 0;
    info.shard_index = h5::has_attr(file, "shard_index") ? h5::get_attr_u64(file, "shard_index") : 0;
    info.shard_count = h5::has_attr(file, "shard_count") ? h5::get_attr_u64(file, "shard_count") : 1;
    for (const char* lib : {"tbb_version", "boost_version", "hdf5_version", "fmt_version"}) {
      if (h5::has_attr(file, lib)) info.libraries.emplace_back(lib, h5::get_attr_string(file, lib));
    }
    info.runs_done = h5::get_attr_u64(file, "runs_done");
    info.wall_seconds = h5::get_attr_f64(file, "wall_seconds");
    info.runs_per_second = h5::get_attr_f64(file, "runs_per_second");
    const auto design = h5::open_group(file, "design");
    info.swept_keys = h5::get_attr_strings(design, "keys");
    const auto points = h5::read_dataset<std::uint32_t>(design, "point");
    info.values.assign(points.size(), std::vector<double>(info.swept_keys.size()));
    for (std::size_t k = 0; k < info.swept_keys.size(); ++k) {
      const auto column = h5::read_dataset<double>(design, info.swept_keys[k]);
      if (column.size() != points.size()) throw OutputError("/design/" + info.swept_keys[k] + " has the wrong length");
      for (std::size_t p = 0; p < points.size(); ++p) info.values[p][k] = column[p];
    }
    // The authoritative state is the checkpoint slot the root names (written, flushed, then named).
    const std::uint64_t slot = h5::get_attr_u64(file, "checkpoint_slot");
    if (slot > 1) throw OutputError("checkpoint_slot is neither 0 nor 1");
    const auto state = h5::open_group(file, "checkpoint/" + std::to_string(slot));
    // The slot's own runs_done is authoritative: the root's copy is written after it.
    info.runs_done = h5::get_attr_u64(state, "runs_done");
    info.summaries = read_state(state, layout, points.size());
    std::uint64_t total = 0;
    for (const auto& s : info.summaries) total += s.runs();
    if (total != info.runs_done) throw OutputError("the checkpoint's runs do not add up to runs_done");
    if (info.store_runs && h5::exists(file, "runs")) {
      const auto records = h5::open_group(file, "runs");
      const h5::Handle ds(h5::check_id(H5Dopen2(records, "point", H5P_DEFAULT), "missing /runs/point"));
      info.runs_stored = h5::length(ds);
    }
  } catch (const OutputError& err) {
    throw OutputError(fmt::format("{}: damaged or incomplete results file: {}", path, err.what()));
  }
  return info;
}

}  // namespace wedge::output
