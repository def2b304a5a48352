// The results files of the application layer: checks before any work, the output lock, creating,
// resuming and finishing FILE.partial, merging shard files, and reading a file back (inspect).
#include "experiments/session_output.hpp"

#include "output/dimension_scales.hpp"

#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "wedge/version.hpp"

#include <boost/version.hpp>
#include <fmt/format.h>
#include <tbb/version.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace wedge::experiments {

using agents::TugOfWar;
namespace fs = std::filesystem;

OutputLock::OutputLock(std::string path) : path_(std::move(path) + ".lock") {
  fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd_ < 0) throw OutputError(fmt::format("{}: cannot create the lock file: {}", path_, std::strerror(errno)));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw OutputError(fmt::format("another wedge process is writing {} (it holds {}); wait for it or stop it",
                                  path_.substr(0, path_.size() - 5), path_));
  }
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) {
    ::unlink(path_.c_str());
    ::close(fd_);
  }
}

void SeamProbe::at(Step step) {
  if (next_ != nullptr) next_->at(step);
  if (step == Step::slot_named && stop_after_ > 0 && ++named_ >= stop_after_ && stop_ != nullptr) stop_->request();
}

void check_output_path(const std::string& out, bool force, bool resume) {
  std::error_code ec;
  const fs::path path(out);
  if (fs::is_directory(path, ec)) throw OutputError(fmt::format("--out {}: is a directory", out));
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    throw OutputError(fmt::format("--out {}: directory {} does not exist", out, dir.string()));
  }
  if (access(dir.c_str(), W_OK) != 0) {
    throw OutputError(fmt::format("--out {}: directory {} is not writable", out, dir.string()));
  }
  const bool final_exists = fs::exists(path, ec);
  const bool partial_exists = fs::exists(out + ".partial", ec);
  if (resume) {
    if (final_exists) throw OutputError(fmt::format("--resume: {} is already complete; nothing to resume", out));
    if (!partial_exists) throw OutputError(fmt::format("--resume: no partial file {}.partial to continue", out));
    return;
  }
  if (final_exists && !force) throw OutputError(fmt::format("{} exists; use --force to overwrite it", out));
  if (partial_exists && !force) {
    throw OutputError(fmt::format("{}.partial exists (an interrupted run?); use --resume to continue it "
                                  "or --force to start over", out));
  }
}

output::Metadata metadata(const Experiment& e, const std::string& command_line, bool store_runs,
                          bool compress, std::uint64_t threads) {
  output::Metadata m;
  m.model = TugOfWar::NAME;
  m.model_version = std::string(TugOfWar::VERSION);  // (a literal here trips GCC 12's false -Wrestrict)
  m.engine_version = VERSION;
  m.git_commit = GIT_COMMIT;
  m.rng = "Philox4x32-10 (Random123); key = seed; counter = (block, substream, replicate, point); "
          "substream 0 per run, substream r for round r";
  m.command_line = command_line;
  m.experiment = to_toml(e);
  m.design = design_name(e.sweep.design);
  m.seed = e.run.seed;
  m.crn = e.run.crn;
  m.threads = threads;
  m.replicates = e.run.precision ? 0 : e.run.runs;
  m.runs_planned = e.run.precision ? 0 : e.run.runs * e.points.size();
  m.block_size = engine::DEFAULT_BLOCK_SIZE;
  m.store_runs = store_runs;
  m.compress = compress;
  m.libraries = {{"tbb_version", TBB_VERSION_STRING},
                 {"boost_version", fmt::format("{}.{}.{}", BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100)},
                 {"hdf5_version", output::h5::library_version()},
                 {"fmt_version", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)}};
  m.swept_keys = e.swept_keys;
  m.values = e.values;
  for (const auto& key : e.swept_keys) {
    const auto* info = agents::find_parameter(key);
    m.key_types.push_back(info == nullptr || info->type == agents::ParamType::real ? "real"
                          : info->type == agents::ParamType::integer               ? "integer"
                                                                                   : "boolean");
  }
  return m;
}

void Session::Output::create(const Session& session, std::uint64_t threads) {
  const auto& opts = session.options();
  const auto& e = session.experiment();
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  std::error_code ec;
  fs::remove(partial, ec);  // --force, checked by the session
  try {
    auto meta = metadata(e, opts.output.command_line, session.stores_runs(), opts.output.compress, threads);
    meta.shard_index = opts.shard.index;
    meta.shard_count = opts.shard.count;
    meta.runs_planned = session.planned_runs();
    writer.emplace(partial, meta, layout, static_cast<std::uint32_t>(e.points.size()));
  } catch (...) {
    writer.reset();
    fs::remove(partial, ec);  // nothing of value in it yet
    throw;
  }
  writer->set_probe(&*probe);
  sink.emplace(*writer, engine::make_summaries<TugOfWar>(e.points.size()), 0, 0.0, opts.output.checkpoint_seconds);
}

void Session::Output::resume(const Session& session, std::vector<engine::Block>& blocks, double checkpoint_seconds) {
  const auto& e = session.experiment();
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  const auto info = output::read_results(partial, layout);
  if (info.seed != e.run.seed) {
    throw OutputError(fmt::format("--resume: {} was run with seed {}, not {}; use the same seed, "
                                  "or --force to start over", partial, info.seed, e.run.seed));
  }
  if (info.experiment != to_toml(e)) {
    throw OutputError(fmt::format("--resume: {} holds a different experiment (the file's is in its "
                                  "'experiment' attribute); rerun with --force to start over", partial));
  }
  if (info.values != e.values) {
    throw OutputError(fmt::format("--resume: {} holds other design points than this version of wedge resolves "
                                  "(written by another version?); rerun with --force to start over", partial));
  }
  if (info.store_runs != session.stores_runs()) {
    throw OutputError(fmt::format("--resume: {} was written with --store {}", partial, info.store_runs ? "runs" : "summary"));
  }
  output::verify_runs(info, layout);
  std::uint64_t skipped = 0;
  std::size_t first = 0;
  while (first < blocks.size() && skipped < info.runs_done) skipped += blocks[first++].count;
  if (skipped != info.runs_done) {
    throw OutputError(fmt::format("--resume: {} is damaged (runs_done = {} is not a block boundary)", partial,
                                  info.runs_done));
  }
  blocks.erase(blocks.begin(), blocks.begin() + static_cast<std::ptrdiff_t>(first));
  resumed = info.summaries;
  already = info.runs_done;
  writer.emplace(partial, layout, info.runs_done);
  writer->set_probe(&*probe);
  sink.emplace(*writer, resumed, info.runs_done, info.wall_seconds, checkpoint_seconds);
}

std::string Session::Output::finish(bool complete) {
  sink->finish(complete);
  writer->close();
  if (!complete) return partial;
  output::write_dimension_scales(partial);  // netCDF-4 dimension scales (docs/output-format.md)
  if (before_rename) before_rename(partial);
  std::error_code ec;
  fs::rename(partial, path, ec);
  if (ec) throw OutputError(fmt::format("cannot rename {} to {}: {}", partial, path, ec.message()));
  return path;
}

void Session::Output::abandon() noexcept {
  if (writer) writer->abandon();
}

/// A results file to read exists and is not a directory (OutputError in wedge's words, not
/// HDF5's: "no such file"). inspect and merge share it.
static void check_results_input(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw OutputError(fmt::format("{}: no such file{}", path, fs::exists(path + ".partial", ec)
        ? fmt::format(" ({}.partial exists: a run still being written, or interrupted; `wedge inspect {}.partial` tells which)", path, path)
        : std::string()));
  }
  if (fs::is_directory(path, ec)) throw OutputError(fmt::format("{}: is a directory", path));
}

std::vector<engine::Summary> merge_results(const std::vector<std::string>& parts, const std::string& out,
                                           bool force, const std::string& command_line) {
  for (const auto& part : parts) check_results_input(part);
  check_output_path(out, force, false);
  const OutputLock lock(out);
  const std::string partial = out + ".partial";
  std::error_code ec;
  fs::remove(partial, ec);
  std::vector<engine::Summary> summaries;
  try {
    summaries = output::merge_shards(parts, partial, engine::FieldLayout::from(TugOfWar::fields()), command_line);
  } catch (...) {
    fs::remove(partial, ec);  // never leave a half-merged file
    throw;
  }
  fs::rename(partial, out, ec);
  if (ec) throw OutputError(fmt::format("cannot rename {} to {}: {}", partial, out, ec.message()));
  return summaries;
}

Inspection inspect_results(const std::string& path) {
  std::error_code ec;
  // The user knows the --out name; while that run is written (or after it was interrupted) only
  // FILE.partial exists, and inspecting it tells which.
  if (!fs::exists(path, ec) && fs::is_regular_file(path + ".partial", ec)) return inspect_results(path + ".partial");
  check_results_input(path);
  Inspection out;
  out.info = output::read_results(path, engine::FieldLayout::from(TugOfWar::fields()));
  if (out.info.model != TugOfWar::NAME) {
    throw OutputError(fmt::format("{}: results of model '{}', not '{}'", path, out.info.model, TugOfWar::NAME));
  }
  // A stored experiment never makes us read another file (a list design's CSV): the design
  // points are the file's own /design.
  out.experiment = parse_experiment(out.info.experiment, path + " (experiment attribute)", false);
  resolve_design(out.experiment);
  if (out.experiment.points.size() != out.info.summaries.size()) {
    throw OutputError(fmt::format("{}: damaged: {} design points in /design but {} in the experiment", path,
                                  out.info.summaries.size(), out.experiment.points.size()));
  }
  // Show the points the file's results belong to (another version of wedge may resolve others).
  if (!adopt_design(out.experiment, out.info.swept_keys, out.info.values)) {
    throw OutputError(fmt::format("{}: damaged: /design does not match the experiment's swept keys", path));
  }
  return out;
}

}  // namespace wedge::experiments
