// Merging the shard files of one experiment into one results file (wedge merge; MPI rank 0).
#include "engine/error.hpp"
#include "output/dimension_scales.hpp"
#include "output/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>

namespace wedge::output {

namespace {

/// Appends rows [start, start + n) of dataset `name` of `src` to the same-named column of `dst`.
void copy_rows(hid_t src, hid_t dst, const std::string& name, hsize_t start, hsize_t n) {
  if (n == 0) return;
  const h5::Handle out(h5::check_id(H5Dopen2(dst, name.c_str(), H5P_DEFAULT), "missing output dataset " + name));
  const h5::Handle in(h5::check_id(H5Dopen2(src, name.c_str(), H5P_DEFAULT), "missing dataset " + name));
  const h5::Handle file_type(H5Dget_type(in));
  const h5::Handle mem_type(H5Tget_native_type(file_type, H5T_DIR_ASCEND));
  const std::size_t size = H5Tget_size(mem_type);
  constexpr hsize_t STEP = 1 << 20;
  std::vector<unsigned char> buffer(static_cast<std::size_t>(std::min(n, STEP)) * size);
  for (hsize_t done = 0; done < n; done += STEP) {
    const hsize_t offset = start + done;
    const hsize_t count = std::min(STEP, n - done);
    const h5::Handle space(H5Dget_space(in));
    h5::check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &offset, nullptr, &count, nullptr), "selection");
    const h5::Handle mem(H5Screate_simple(1, &count, nullptr));
    h5::check(H5Dread(in, mem_type, mem, space, H5P_DEFAULT, buffer.data()), "cannot read " + name);
    h5::append(out, mem_type, buffer.data(), count);
  }
}

/// A run of consecutive blocks of one shard, in the merged order.
struct Range {
  std::size_t shard;
  hsize_t row_begin, rows;     ///< /blocks rows
  hsize_t record_begin, records;  ///< /runs rows
};

}  // namespace

std::vector<engine::Summary> merge_shards(const std::vector<std::string>& paths, const std::string& out_path,
                  const engine::FieldLayout& layout, const std::string& command_line) {
  if (paths.empty()) throw ConfigError("merge: no shard files given");
  std::vector<ResultsInfo> shards;
  for (const auto& p : paths) shards.push_back(read_results(p, layout));
  const ResultsInfo& first = shards.front();
  std::map<std::uint64_t, std::size_t> by_index;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const auto& s = shards[i];
    auto differs = [&](const char* what) {
      return ConfigError(fmt::format("merge: {} and {} are not shards of one run: different {}", first.path, s.path, what));
    };
    if (!s.complete) throw ConfigError(fmt::format("merge: {} is not complete (finish it with --resume)", s.path));
    if (s.seed != first.seed) throw differs("seed");
    if (s.experiment != first.experiment) throw differs("experiment");
    if (s.model != first.model || s.model_version != first.model_version) throw differs("model");
    if (s.shard_count != first.shard_count) throw differs("shard count");
    if (s.store_runs != first.store_runs) throw differs("--store");
    if (s.compression != first.compression) throw differs("--compression");
    if (!by_index.emplace(s.shard_index, i).second) {
      throw ConfigError(fmt::format("merge: shard {} of {} is given twice ({} and {})", s.shard_index,
                                    s.shard_count, shards[by_index[s.shard_index]].path, s.path));
    }
  }
  std::vector<std::uint64_t> missing;
  for (std::uint64_t k = 0; k < first.shard_count; ++k) {
    if (!by_index.count(k)) missing.push_back(k);
  }
  if (!missing.empty()) {
    std::string list;
    for (auto k : missing) list += (list.empty() ? "" : ", ") + std::to_string(k);
    throw ConfigError(fmt::format("merge: missing shard(s) {} of {}", list, first.shard_count));
  }
  std::vector<const ResultsInfo*> ordered;
  for (const auto& [k, i] : by_index) ordered.push_back(&shards[i]);

  Metadata meta;
  meta.model = first.model;
  meta.model_version = first.model_version;
  meta.engine_version = first.engine_version;
  meta.git_commit = first.git_commit;
  meta.rng = first.rng;
  meta.command_line = command_line;
  meta.experiment = first.experiment;
  meta.design = first.design;
  meta.seed = first.seed;
  meta.crn = first.crn;
  meta.threads = 0;
  meta.replicates = first.replicates;
  meta.block_size = first.block_size;
  meta.store_runs = first.store_runs;
  meta.compress = first.compression != "none";
  meta.libraries = first.libraries;
  meta.swept_keys = first.swept_keys;
  meta.values = first.values;
  {  // the key types of the first shard's /design (all shards have the same experiment)
    const auto file = h5::open_file(first.path, false);
    const auto design = h5::open_group(file, "design");
    for (const auto& key : meta.swept_keys) {
      const h5::Handle ds(H5Dopen2(design, key.c_str(), H5P_DEFAULT));
      if (!ds.valid() || !h5::has_attr(ds, "value_type")) {
        meta.key_types.clear();
        break;
      }
      meta.key_types.push_back(h5::get_attr_string(ds, "value_type"));
    }
  }
  std::uint64_t runs = 0;
  double wall = 0.0;
  for (const auto* s : ordered) {
    runs += s->runs_done;
    meta.runs_planned += s->runs_planned;
    meta.threads = std::max(meta.threads, s->threads);
    wall = std::max(wall, s->wall_seconds);
  }
  const auto points = static_cast<std::uint32_t>(first.summaries.size());
  ResultsWriter writer(out_path, meta, layout, points);
  {
    std::vector<h5::Handle> files, runs_groups, block_groups;
    for (const auto* s : ordered) {
      files.push_back(h5::open_file(s->path, false));
      block_groups.push_back(h5::open_group(files.back(), "blocks"));
      if (meta.store_runs) runs_groups.push_back(h5::open_group(files.back(), "runs"));
    }
    // Every block of every shard, in the whole run's order (its sequence number), coalesced into
    // ranges of consecutive blocks of one shard.
    struct Entry {
      std::uint64_t sequence;
      std::size_t shard;
      hsize_t row, record, count;
    };
    std::vector<Entry> entries;
    for (std::size_t k = 0; k < block_groups.size(); ++k) {
      const auto sequence = h5::read_dataset<std::uint64_t>(block_groups[k], "sequence");
      const auto count = h5::read_dataset<std::uint32_t>(block_groups[k], "count");
      hsize_t record = 0;
      for (std::size_t b = 0; b < sequence.size(); ++b) {
        entries.push_back({sequence[b], k, b, record, count[b]});
        record += count[b];
      }
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].sequence != i) {
        throw OutputError(fmt::format("merge: the shards' blocks overlap or leave a gap at block {}", i));
      }
    }
    std::vector<Range> ranges;
    for (const auto& e : entries) {
      if (!ranges.empty() && ranges.back().shard == e.shard && ranges.back().row_begin + ranges.back().rows == e.row) {
        ++ranges.back().rows;
        ranges.back().records += e.count;
      } else {
        ranges.push_back({e.shard, e.row, 1, e.record, e.count});
      }
    }
    const h5::Handle out(h5::open_file(out_path, true));
    const auto out_blocks = h5::open_group(out, "blocks");
    std::vector<std::string> block_columns{"point", "replicate_begin", "count", "sequence"};
    for (const auto& f : layout.continuous) {
      for (const char* part : {"_n", "_shift", "_sum", "_sum2", "_min", "_max"}) block_columns.push_back(f.name + part);
    }
    for (const auto& c : block_columns) {
      for (const auto& r : ranges) copy_rows(block_groups[r.shard], out_blocks, c, r.row_begin, r.rows);
    }
    if (meta.store_runs) {
      const auto out_runs = h5::open_group(out, "runs");
      std::vector<std::string> columns{"point", "replicate"};
      for (const auto& f : layout.categorical) columns.push_back(f.name);
      for (const auto& f : layout.continuous) columns.push_back(f.name);
      for (const auto& c : columns) {
        for (const auto& r : ranges) copy_rows(runs_groups[r.shard], out_runs, c, r.record_begin, r.records);
      }
    }
  }
  // Summaries (engine::SummaryState): the integer parts of the shards' summaries add exactly; the
  // moments are folded block by block in plan order (from /blocks), exactly as one process folds them.
  const auto layout_ptr = std::make_shared<const engine::FieldLayout>(layout);
  std::vector<engine::Summary> summaries(points, engine::Summary(layout_ptr));
  for (const auto* s : ordered) {
    const auto state = engine::SummaryState::pack(s->summaries);
    for (std::uint32_t p = 0; p < points; ++p) state.add_integers(p, summaries[p]);
  }
  {
    const h5::Handle out(h5::open_file(out_path, false));
    const auto blocks = h5::open_group(out, "blocks");
    const auto block_point = h5::read_dataset<std::uint32_t>(blocks, "point");
    const std::size_t nv = layout.continuous.size();
    engine::SummaryState moments;
    moments.rows = block_point.size();
    moments.moments.resize(moments.rows * nv);
    for (std::size_t f = 0; f < nv; ++f) {
      const auto& spec = layout.continuous[f];
      const auto bn = h5::read_dataset<std::uint64_t>(blocks, spec.name + "_n");
      const auto shift = h5::read_dataset<double>(blocks, spec.name + "_shift");
      const auto sum = h5::read_dataset<double>(blocks, spec.name + "_sum");
      const auto sum2 = h5::read_dataset<double>(blocks, spec.name + "_sum2");
      const auto mn = h5::read_dataset<double>(blocks, spec.name + "_min");
      const auto mx = h5::read_dataset<double>(blocks, spec.name + "_max");
      for (const auto* column : {&shift, &sum, &sum2, &mn, &mx}) {
        if (column->size() != moments.rows || bn.size() != moments.rows) {
          throw OutputError(fmt::format("merge: {}: /blocks/{} columns differ in length", out_path, spec.name));
        }
      }
      for (std::size_t b = 0; b < moments.rows; ++b) {
        moments.moments[b * nv + f] = {bn[b], shift[b], sum[b], sum2[b], mn[b], mx[b]};
      }
    }
    for (std::size_t b = 0; b < moments.rows; ++b) {
      if (block_point[b] >= points) throw OutputError(fmt::format("merge: /blocks/point {} is out of range", block_point[b]));
      moments.merge_moments(b, summaries[block_point[b]]);
    }
  }
  writer.checkpoint(summaries, runs, wall, true);
  writer.close();
  write_dimension_scales(out_path);
  return summaries;
}

}  // namespace wedge::output
