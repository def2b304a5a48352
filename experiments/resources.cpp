#include "experiments/resources.hpp"

#include "agents/rounds.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "engine/plan.hpp"
#include "engine/summary.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace wedge::experiments {

namespace {

constexpr std::uint64_t GB = 1'000'000'000;

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

}  // namespace

ResourceNeeds estimate_needs(const Experiment& e, const RunShape& shape) {
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  std::uint64_t categories = 0, hist_cells = 0;
  for (const auto& f : layout.categorical) categories += f.categories.size();
  for (const auto& f : layout.continuous) hist_cells += f.hist_bins + 2;
  const std::uint64_t ncat = layout.categorical.size(), ncont = layout.continuous.size();
  const std::uint64_t points =
      std::max<std::uint64_t>(e.points.empty() ? design_points(e) : e.points.size(), 1);
  const std::uint64_t keys = e.sweep.keys.size();
  const std::uint64_t runs = std::max<std::uint64_t>(shape.runs_per_point, 1);

  // Memory: each point's scenario and values, its summary (folded by the runner; with a results
  // file also by the sink, plus the writer's checkpoint buffers), in precision mode a batch's
  // blocks (a fixed plan's are computed a wave at a time) and, if kept, every record.
  const std::uint64_t summary = sizeof(engine::Summary) + 8 * (categories + ncat + hist_cells) +
                                ncont * sizeof(engine::ContinuousStats);
  const std::uint64_t per_point =
      sizeof(agents::Scenario) + 8 * keys + 64 + summary * (shape.writes_file ? 3 : 1);
  const auto blocks_of = [points](std::uint64_t replicates) {
    return saturating_mul(
        points, (std::max<std::uint64_t>(replicates, 1) + engine::DEFAULT_BLOCK_SIZE - 1) /
                    engine::DEFAULT_BLOCK_SIZE);
  };
  const std::uint64_t blocks =
      shape.whole_plan ? blocks_of(shape.plan_runs_per_point > 0 ? shape.plan_runs_per_point : runs)
                       : 0;
  const auto runs_here =
      static_cast<std::uint64_t>(static_cast<double>(saturating_mul(points, runs)) * shape.share);
  const std::uint64_t record_bytes = 8 + 2 * ncat + 8 * ncont;  // wedge.simulate()'s NumPy columns
  ResourceNeeds needs;
  needs.memory_bytes =
      saturating_add(saturating_add(saturating_mul(points, per_point),
                                    saturating_mul(blocks, sizeof(engine::Block))),
                     shape.keeps_records ? saturating_mul(runs_here, record_bytes) : 0);
  needs.memory_bytes =
      saturating_add(needs.memory_bytes, 64'000'000);  // threads, wave buffers, libraries
  needs.memory_detail = fmt::format(
      "{} x {}{}{}", counted(points, "design point"), byte_text(per_point),
      shape.whole_plan
          ? fmt::format(" + {} blocks of a batch x {} bytes", blocks, sizeof(engine::Block))
          : std::string(),
      shape.keeps_records
          ? fmt::format(" + {} x {} bytes", counted(runs_here, "record"), record_bytes)
          : "");
  if (!shape.writes_file) return needs;

  // The results file (docs/output-format.md): per point /summary (counts, p, ci_low, ci_high;
  // six moments and a histogram per continuous field), two /checkpoint slots and the /design row;
  // per block a /blocks row; per run a /runs record.
  const std::uint64_t summary_file = 32 * categories + ncont * 48 + 8 * hist_cells;
  const std::uint64_t checkpoint = 8 + 8 * categories + ncont * 40 + 8 * hist_cells;
  const std::uint64_t file_point = summary_file + 2 * checkpoint + 4 + 8 * keys;
  const std::uint64_t block_row = 24 + ncont * 48;
  const std::uint64_t point_width = points <= 0xFF ? 1 : points <= 0xFFFF ? 2 : 4;
  const std::uint64_t record = point_width + 4 + ncat + 4 * ncont;
  const auto blocks_here =
      static_cast<std::uint64_t>(static_cast<double>(blocks_of(runs)) * shape.share);
  needs.file_bytes =
      saturating_add(saturating_mul(points, file_point), saturating_mul(blocks_here, block_row));
  if (shape.store_runs)
    needs.file_bytes = saturating_add(needs.file_bytes, saturating_mul(runs_here, record));
  needs.file_bytes = saturating_add(
      needs.file_bytes, 600'000);  // metadata, the experiment, HDF5's own (measured: ~0.6 MB)
  needs.file_bytes_min = needs.file_bytes;
  // --store rounds (docs/output-format.md, "/rounds"): a row per round played, 1 to
  // negotiation.rounds a run (the most over the design points; measured: the baseline's 3.57 of
  // 8), and each run's 8-byte run_begin. The rows are the columns of agents::round_fields(),
  // stored as their types: uint8 categories, float32 continuous values.
  std::string rounds_detail;
  if (shape.store_rounds) {
    const auto rounds = engine::FieldLayout::from(agents::round_fields());
    std::uint64_t row = 4 * rounds.continuous.size();
    for (const auto& f : rounds.categorical) row += f.categories.size() <= 256 ? 1u : 2u;
    std::uint64_t most = 0;
    if (!e.points.empty()) {
      for (const auto& p : e.points)
        most = std::max<std::uint64_t>(most, static_cast<std::uint64_t>(p.negotiation.rounds));
    } else {
      // Not resolved: the base's, or a swept key's largest value (its range's maximum, 100, if
      // the key gives none).
      most = static_cast<std::uint64_t>(e.base.negotiation.rounds);
      for (const auto& k : e.sweep.keys) {
        if (k.key != "negotiation.rounds") continue;
        double top = k.has_range ? k.max : 0.0;
        for (double v : k.values) top = std::max(top, v);
        most = std::max<std::uint64_t>(most, top >= 1.0 && top <= 100.0
                                                 ? static_cast<std::uint64_t>(top)
                                                 : std::uint64_t{100});
      }
    }
    most = std::max<std::uint64_t>(most, 1);
    const std::uint64_t least_rows = runs_here, most_rows = saturating_mul(runs_here, most);
    const std::uint64_t index = saturating_mul(runs_here, 8);
    needs.file_bytes_min =
        saturating_add(needs.file_bytes, saturating_add(saturating_mul(least_rows, row), index));
    needs.file_bytes =
        saturating_add(needs.file_bytes, saturating_add(saturating_mul(most_rows, row), index));
    rounds_detail = fmt::format(
        " + {} x 1 to {} rounds (negotiation.rounds bounds the rounds a run plays; the "
        "baseline plays 3.6 on average) x {} bytes per round + 8 bytes of run_begin per run",
        counted(runs_here, "run"), most, row);
  }
  // The /blocks rows (one per 2,048 runs, kept by every store) are named when they are a tenth
  // of the file or more: 10^5 points x 2^32 runs is 25 TB of them, not of summaries.
  const std::uint64_t block_bytes = saturating_mul(blocks_here, block_row);
  needs.file_detail = fmt::format(
      "{} x {} of summaries{}{}{}", counted(points, "point"), byte_text(file_point),
      block_bytes >= needs.file_bytes / 10
          ? fmt::format(" + {} x {} bytes", counted(blocks_here, "/blocks row"), block_row)
          : std::string(),
      shape.store_runs
          ? fmt::format(" + {} x {} bytes per record", counted(runs_here, "run"), record)
          : "",
      rounds_detail);
  needs.records_in_file = shape.store_runs;
  return needs;
}

namespace {

std::uint64_t number_in_file(const char* path) {
  std::ifstream in(path);
  std::uint64_t v = 0;
  if (in >> v) return v;
  return UINT64_MAX;  // "max" or missing: no limit
}

}  // namespace

MachineLimits machine_limits(const std::string& output) {
  MachineLimits limits;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  limits.memory_bytes = pages > 0 && page > 0
                            ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page)
                            : UINT64_MAX;
  limits.memory_bytes = std::min(limits.memory_bytes, number_in_file("/sys/fs/cgroup/memory.max"));
  limits.memory_bytes =
      std::min(limits.memory_bytes, number_in_file("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
  for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit r{};
    if (::getrlimit(resource, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
      limits.memory_bytes = std::min<std::uint64_t>(limits.memory_bytes, r.rlim_cur);
    }
  }
  if (!output.empty()) {
    const std::filesystem::path path(output);
    const std::string dir = path.has_parent_path() ? path.parent_path().string() : std::string(".");
    struct statvfs fs {};
    // A file system of no blocks at all (/proc, sysfs: pseudo file systems report 0 of 0) says
    // nothing of its room: unknown, and the write itself fails, naming the file. A real one with
    // no block free is full: refused up front like one too small.
    if (::statvfs(dir.c_str(), &fs) == 0 && fs.f_blocks > 0)
      limits.disk_free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    // A partial file of the same output is either continued (--resume) or replaced (--force).
    std::error_code ec;
    const auto partial = std::filesystem::file_size(output + ".partial", ec);
    if (!ec && limits.disk_free_bytes) *limits.disk_free_bytes += partial;
  }
  return limits;
}

std::string check_needs(const ResourceNeeds& needs, const MachineLimits& limits) {
  if (needs.memory_bytes > limits.memory_bytes) {
    throw ConfigError(fmt::format(
        "the run needs about {} of memory ({}) but this machine allows {}; "
        "use fewer design points or fewer runs per point",
        byte_text(needs.memory_bytes), needs.memory_detail, byte_text(limits.memory_bytes)));
  }
  // --store rounds: the file's size lies between file_bytes_min (one round per run) and
  // file_bytes (every round); refused when even the least cannot fit, warned when the most
  // cannot.
  const bool ranged = needs.file_bytes_min != needs.file_bytes;
  const auto size_text = [&](std::uint64_t bytes) {
    return ranged ? fmt::format("{} to {}", byte_text(needs.file_bytes_min), byte_text(bytes))
                  : fmt::format("about {}", byte_text(bytes));
  };
  const std::uint64_t least = ranged ? needs.file_bytes_min : needs.file_bytes;
  if (least > 0 && limits.disk_free_bytes && least > *limits.disk_free_bytes) {
    throw OutputError(fmt::format(
        "the results file would take {} ({}) but its file system has {} free; "
        "free space, write elsewhere, or use {}",
        size_text(needs.file_bytes), needs.file_detail, byte_text(*limits.disk_free_bytes),
        ranged                  ? "--store runs, --store summary or fewer runs"
        : needs.records_in_file ? "--store summary or fewer runs"
                                : "fewer points or fewer runs per point"));
  }
  if (ranged && limits.disk_free_bytes && needs.file_bytes > *limits.disk_free_bytes) {
    return fmt::format(
        "the results file will take {} ({}) and its file system has {} free: it fits only if "
        "the runs play fewer rounds than negotiation.rounds allows (a full disk stops the run "
        "at its last checkpoint; --resume continues it)",
        size_text(needs.file_bytes), needs.file_detail, byte_text(*limits.disk_free_bytes));
  }
  if (needs.file_bytes > GB) {
    if (ranged) {
      return fmt::format("the results file will take {} ({})", size_text(needs.file_bytes),
                         needs.file_detail);
    }
    return fmt::format("the results file will take about {} ({})", byte_text(needs.file_bytes),
                       needs.file_detail);
  }
  return "";
}

}  // namespace wedge::experiments
