// Merging the shard files of one experiment into one results file (wedge merge; MPI rank 0).
// Every shard is read through the checked layer and verified (read_results, verify_runs) before
// anything of it is copied.
#include "engine/error.hpp"
#include "engine/runner.hpp"
#include "output/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <map>
#include <memory>

namespace wedge::output {

namespace {

/// Appends rows [start, start + n) of the checked dataset `in` to the column `name` of `out`,
/// a slice at a time, as T (the column's values convert to T and back without loss).
template <class T>
void copy_rows(const h5::Dataset& in, hid_t out, const std::string& name, hsize_t start,
               hsize_t n) {
  if (n == 0) return;
  const h5::Handle column(
      h5::check_id(H5Dopen2(out, name.c_str(), H5P_DEFAULT), "missing output dataset " + name));
  constexpr hsize_t STEP = 1 << 18;
  std::vector<T> buffer;
  for (hsize_t done = 0; done < n; done += STEP) {
    const hsize_t count = std::min(STEP, n - done);
    in.read_rows(start + done, count, buffer);
    h5::append(column, h5::native_type<T>(), buffer.data(), count);
  }
}

/// A run of consecutive blocks of one shard, in the merged order.
struct Range {
  std::size_t shard;
  hsize_t row_begin, rows;        ///< /blocks rows
  hsize_t record_begin, records;  ///< /runs rows
};

}  // namespace

std::vector<engine::Summary> merge_shards(
    const std::vector<std::string>& paths, const std::string& out_path,
    const engine::FieldLayout& layout, const std::string& command_line,
    std::string_view build_commit, const std::function<void(const ResultsInfo&)>& check_shard,
    const std::function<std::string(const ResultsInfo&, const ResultsInfo&)>&
        experiment_difference) {
  if (paths.empty()) throw ConfigError("merge: no shard files given");
  std::vector<ResultsInfo> shards;
  for (const auto& p : paths) {
    shards.push_back(read_results(p, layout));
    if (check_shard) check_shard(shards.back());
    check_arithmetic(shards.back(), "merge", build_commit);  // before any other comparison: exit 3
  }
  const ResultsInfo& first = shards.front();
  std::map<std::uint64_t, std::size_t> by_index;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const auto& s = shards[i];
    auto differs = [&](std::string_view what) {
      return ConfigError(fmt::format("merge: {} and {} are not shards of one run: different {}",
                                     first.path, s.path, what));
    };
    if (!s.complete)
      throw ConfigError(fmt::format("merge: {} is not complete (finish it with --resume)", s.path));
    // Each difference names both values, as --resume's does (the command that wrote each shard
    // can then be rebuilt).
    const auto both = [&](std::string_view what, const auto& a, const auto& b) {
      return differs(fmt::format("{} ({} in {}, {} in {})", what, a, first.path, b, s.path));
    };
    const auto store = [](const ResultsInfo& r) { return r.store_runs ? "runs" : "summary"; };
    const auto compression = [](const ResultsInfo& r) {
      return r.compression == "none" ? "none" : "deflate";
    };
    const auto crn = [](const ResultsInfo& r) { return r.crn ? "with --crn" : "without --crn"; };
    const auto model = [](const ResultsInfo& r) {
      return fmt::format("{} v{}", r.model, r.model_version);
    };
    const auto plan = [](const ResultsInfo& r) {
      return fmt::format("{} replicates in blocks of {}", r.replicates, r.block_size);
    };
    const auto design = [](const ResultsInfo& r) {
      std::string keys;
      for (const auto& k : r.swept_keys) keys += (keys.empty() ? "" : ", ") + k;
      return fmt::format("{} of {} points over [{}]", r.design, r.summaries.size(), keys);
    };
    if (s.seed != first.seed) throw both("seed", first.seed, s.seed);
    if (s.experiment != first.experiment) {
      throw differs("experiment" +
                    (experiment_difference ? experiment_difference(first, s) : std::string()));
    }
    if (s.model != first.model || s.model_version != first.model_version)
      throw both("model", model(first), model(s));
    if (s.shard_count != first.shard_count)
      throw both("shard count", first.shard_count, s.shard_count);
    if (s.store_runs != first.store_runs) throw both("--store", store(first), store(s));
    if (s.compression != first.compression)
      throw both("--compression", compression(first), compression(s));
    if (s.crn != first.crn) throw both("--crn", crn(first), crn(s));
    if (s.replicates != first.replicates || s.block_size != first.block_size)
      throw both("plan", plan(first), plan(s));
    if (s.design != first.design || s.swept_keys != first.swept_keys ||
        s.summaries.size() != first.summaries.size()) {
      throw both("design", design(first), design(s));
    }
    for (std::size_t p = 0; p < s.values.size(); ++p) {
      for (std::size_t k = 0; k < s.values[p].size(); ++k) {
        if (std::bit_cast<std::uint64_t>(s.values[p][k]) !=
            std::bit_cast<std::uint64_t>(first.values[p][k])) {
          throw differs("design (its points' values)");
        }
      }
    }
    if (!by_index.emplace(s.shard_index, i).second) {
      throw ConfigError(fmt::format("merge: shard {} of {} is given twice ({} and {})",
                                    s.shard_index, s.shard_count,
                                    shards[by_index[s.shard_index]].path, s.path));
    }
  }
  std::vector<std::uint64_t> missing;
  for (std::uint64_t k = 0; k < first.shard_count; ++k) {
    if (!by_index.count(k)) missing.push_back(k);
  }
  if (!missing.empty()) {
    // As ranges ("0-4, 6, 8-99999"), at most 20 of them: one shard given of 100,000 would
    // otherwise list 99,999 numbers on one line.
    constexpr std::size_t MAX_RANGES = 20;
    std::string list;
    std::size_t ranges = 0;
    for (std::size_t i = 0; i < missing.size();) {
      std::size_t j = i;
      while (j + 1 < missing.size() && missing[j + 1] == missing[j] + 1) ++j;
      if (++ranges > MAX_RANGES) {
        list += fmt::format(", ... ({} missing in all)", missing.size());
        break;
      }
      list += (list.empty() ? "" : ", ") +
              (j == i ? std::to_string(missing[i]) : fmt::format("{}-{}", missing[i], missing[j]));
      i = j + 1;
    }
    throw ConfigError(fmt::format("merge: missing shard(s) {} of {}", list, first.shard_count));
  }
  std::vector<const ResultsInfo*> ordered;
  for (const auto& [k, i] : by_index) ordered.push_back(&shards[i]);
  const auto points = static_cast<std::uint32_t>(first.summaries.size());

  // Every shard's blocks and records, verified against its own checkpoint; then every block of
  // every shard, in the whole run's order (its sequence number): exactly the plan's blocks, each
  // once, no two covering the same replicates.
  struct Entry {
    std::uint64_t sequence;
    std::size_t shard;
    hsize_t row, record;
    engine::Block block;
  };
  std::vector<Entry> entries;
  std::uint64_t runs = 0;
  for (std::size_t k = 0; k < ordered.size(); ++k) {
    const auto blocks = verify_runs(*ordered[k], layout);
    hsize_t record = 0;
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      entries.push_back({blocks[b].sequence, k, b, record, blocks[b]});
      record += blocks[b].count;
    }
    runs += ordered[k]->runs_done;
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.sequence < b.sequence; });
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].sequence != i) {
      throw OutputError(
          fmt::format("merge: the shards' blocks overlap or leave a gap at block {} ({})", i,
                      ordered[entries[i].shard]->path));
    }
  }
  if (first.replicates > 0 && runs != static_cast<std::uint64_t>(points) * first.replicates) {
    throw OutputError(fmt::format(
        "merge: the shards hold {} runs, the plan {} ({} points x {} replicates)", runs,
        static_cast<std::uint64_t>(points) * first.replicates, points, first.replicates));
  }
  {
    std::vector<const engine::Block*> by_point;
    for (const auto& e : entries) by_point.push_back(&e.block);
    std::sort(by_point.begin(), by_point.end(), [](const engine::Block* a, const engine::Block* b) {
      return a->point != b->point ? a->point < b->point : a->replicate_begin < b->replicate_begin;
    });
    for (std::size_t i = 1; i < by_point.size(); ++i) {
      const auto& a = *by_point[i - 1];
      const auto& b = *by_point[i];
      if (a.point == b.point && a.replicate_begin + a.count > b.replicate_begin) {
        throw OutputError(fmt::format("merge: two blocks hold replicate {} of point {}",
                                      b.replicate_begin, b.point));
      }
    }
  }

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
  {  // the key types of the first shard's /design (all shards hold the same experiment)
    const h5::File file(first.path);
    const auto design = file.group("/design");
    for (const auto& key : meta.swept_keys) {
      const auto ds = design.dataset(key);
      if (!ds.has_attr("value_type")) {
        meta.key_types.clear();
        break;
      }
      meta.key_types.push_back(ds.attr_string("value_type"));
    }
  }
  double wall = 0.0;
  for (const auto* s : ordered) {
    meta.runs_planned += s->runs_planned;
    meta.threads = std::max(meta.threads, s->threads);
    wall = std::max(wall, s->wall_seconds);
  }
  ResultsWriter writer(out_path, meta, layout, points);
  {
    std::vector<Range> ranges;
    for (const auto& e : entries) {
      if (!ranges.empty() && ranges.back().shard == e.shard &&
          ranges.back().row_begin + ranges.back().rows == e.row) {
        ++ranges.back().rows;
        ranges.back().records += e.block.count;
      } else {
        ranges.push_back({e.shard, e.row, 1, e.record, e.block.count});
      }
    }
    std::vector<std::unique_ptr<h5::File>> files;
    for (const auto* s : ordered) files.push_back(std::make_unique<h5::File>(s->path));
    const hid_t out = writer.file_id();
    const auto out_blocks = h5::open_group(out, "blocks");
    const auto copy = [&](const char* group, hid_t out_group, const std::string& column, auto type,
                          bool records) {
      using T = decltype(type);
      for (const auto& r : ranges) {
        const auto in = files[r.shard]->group(group).dataset(column);
        if (records) {
          copy_rows<T>(in, out_group, column, r.record_begin, r.records);
        } else {
          copy_rows<T>(in, out_group, column, r.row_begin, r.rows);
        }
      }
    };
    copy("/blocks", out_blocks, "point", std::uint32_t{}, false);
    copy("/blocks", out_blocks, "replicate_begin", std::uint64_t{}, false);
    copy("/blocks", out_blocks, "count", std::uint32_t{}, false);
    copy("/blocks", out_blocks, "sequence", std::uint64_t{}, false);
    for (const auto& f : layout.continuous) {
      copy("/blocks", out_blocks, f.name + "_n", std::uint64_t{}, false);
      for (const char* part : {"_shift", "_sum", "_sum2", "_min", "_max"})
        copy("/blocks", out_blocks, f.name + part, double{}, false);
    }
    if (meta.store_runs) {
      const auto out_runs = h5::open_group(out, "runs");
      copy("/runs", out_runs, "point", std::uint32_t{}, true);
      copy("/runs", out_runs, "replicate", std::uint32_t{}, true);
      for (const auto& f : layout.categorical)
        copy("/runs", out_runs, f.name, std::uint16_t{}, true);
      for (const auto& f : layout.continuous) copy("/runs", out_runs, f.name, double{}, true);
    }
  }
  // Summaries (engine::SummaryState): the integer parts of the shards' summaries add exactly; the
  // moments are folded block by block in plan order (from the merged /blocks), exactly as one
  // process folds them.
  const auto layout_ptr = std::make_shared<const engine::FieldLayout>(layout);
  std::vector<engine::Summary> summaries(points, engine::Summary(layout_ptr));
  for (const auto* s : ordered) {
    const auto state = engine::SummaryState::pack(s->summaries);
    for (std::uint32_t p = 0; p < points; ++p) state.add_integers(p, summaries[p]);
  }
  {
    const h5::File out(out_path, writer.file_id());
    const auto blocks = out.group("/blocks");
    const auto point_ds = blocks.dataset("point");
    const hsize_t rows = point_ds.length();
    const auto block_point = point_ds.read<std::uint32_t>({rows});
    const std::size_t nv = layout.continuous.size();
    engine::SummaryState moments;
    moments.rows = rows;
    moments.moments.resize(moments.rows * nv);
    for (std::size_t f = 0; f < nv; ++f) {
      const auto& spec = layout.continuous[f];
      const auto bn = blocks.dataset(spec.name + "_n").read<std::uint64_t>({rows});
      const auto shift = blocks.dataset(spec.name + "_shift").read<double>({rows});
      const auto sum = blocks.dataset(spec.name + "_sum").read<double>({rows});
      const auto sum2 = blocks.dataset(spec.name + "_sum2").read<double>({rows});
      const auto mn = blocks.dataset(spec.name + "_min").read<double>({rows});
      const auto mx = blocks.dataset(spec.name + "_max").read<double>({rows});
      for (std::size_t b = 0; b < moments.rows; ++b) {
        moments.moments[b * nv + f] = {bn[b], shift[b], sum[b], sum2[b], mn[b], mx[b]};
      }
    }
    for (std::size_t b = 0; b < moments.rows; ++b) {
      if (block_point[b] >= points)
        point_ds.damaged(fmt::format("block {} names point {}", b, block_point[b]));
      moments.merge_moments(b, summaries[block_point[b]]);
    }
  }
  writer.checkpoint(summaries, runs, wall, true);  // with /summary and the dimension scales
  writer.close();
  return summaries;
}

}  // namespace wedge::output
