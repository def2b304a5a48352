// The results files of the application layer: checks before any work, the output lock, creating,
// resuming and finishing FILE.partial, merging shard files, and reading a file back (inspect).
#include "experiments/session_output.hpp"

#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "output/dimension_scales.hpp"
#include "output/paths.hpp"
#include "output/rounds.hpp"
#include "output/untrusted.hpp"
#include "wedge/version.hpp"

#include <fmt/format.h>
#include <tbb/version.h>
#include <boost/version.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace wedge::experiments {

using agents::TugOfWar;
namespace fs = std::filesystem;

namespace {

/// Why the lock file `lock` (OUT.lock, the first file an output command creates, beside OUT)
/// could not be created, in the user's terms: the output, its directory and what is wrong with
/// it, then the system's own words (`/proc/version --force` had said only "cannot create the lock
/// file: No such file or directory").
std::string cannot_create_message(const std::string& lock, int err) {
  const std::string out = lock.substr(0, lock.size() - 5);
  const fs::path path(out);
  const std::string dir = path.has_parent_path() ? path.parent_path().string() : ".";
  std::error_code ec;
  std::string why;
  switch (err) {
    case ENOENT:
      why = fs::is_directory(dir, ec) ? "its file system does not accept new files (a virtual "
                                        "file system such as /proc or /sys?)"
                                      : "the directory does not exist";
      break;
    case EACCES:
    case EPERM:
      // The lock is opened without O_EXCL: an existing lock file of another user gives EACCES
      // in a writable directory.
      why = fs::symlink_status(lock, ec).type() != fs::file_type::not_found
                ? "its lock file exists and is not writable by you (another user's run, or "
                  "left behind: remove it if no run writes this output)"
                : "permission denied (the directory is not writable, or a directory on the way "
                  "cannot be searched)";
      break;
    case EROFS:
      why = "the directory is on a read-only file system";
      break;
    case ENOSPC:
    case EDQUOT:
      why = "no space or quota is left on its file system";
      break;
    case ENOTDIR:
      why = "it is not a directory";
      break;
    default:
      why = "the system refused";
      break;
  }
  return fmt::format("{}: cannot create files in directory {}: {}; creating {}: {}", out, dir, why,
                     lock, std::strerror(err));
}

}  // namespace

OutputLock::OutputLock(std::string path) : path_(std::move(path) + ".lock") {
  // A holder removes the lock file as it releases it; one opened just before that removal would
  // be locked in vain: retry until the file locked is the one the name refers to.
  for (int attempt = 0;; ++attempt) {
    take();
    struct stat held {};
    struct stat named {};
    if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      break;
    }
    ::close(fd_);
    fd_ = -1;
    if (attempt == 100) {
      throw OutputError(
          fmt::format("{}: the lock file keeps being replaced; is another wedge "
                      "process writing {}?",
                      path_, path_.substr(0, path_.size() - 5)));
    }
  }
  output::h5::note_own_write_lock(fd_, true);
}

void OutputLock::take() {
  // Never through a symbolic link, never a FIFO or device: the lock is a regular file of its own.
  fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd_ < 0) {
    const int err = errno;
    if (err == ELOOP && output::symlink_loop(path_))
      throw OutputError(output::symlink_loop_message(path_));
    if (err == ELOOP) {
      throw OutputError(fmt::format(
          "{}: is a symbolic link; wedge creates its lock file itself and follows no link "
          "(remove it)",
          path_));
    }
    throw OutputError(cannot_create_message(path_, err));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw OutputError(
        fmt::format("{}: is not a regular file; wedge's lock file must be one (remove it)", path_));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const bool ours = output::h5::holds_own_write_lock(fd_);
    ::close(fd_);
    fd_ = -1;
    if (ours) {
      throw OutputError(fmt::format("{} is already being written by this process (it holds {})",
                                    path_.substr(0, path_.size() - 5), path_));
    }
    throw OutputError(
        fmt::format("another wedge process is writing {} (it holds {}); wait for it or stop it",
                    path_.substr(0, path_.size() - 5), path_));
  }
}

OutputLock::~OutputLock() {
  if (fd_ >= 0) {
    output::h5::note_own_write_lock(fd_, false);
    ::unlink(path_.c_str());
    ::close(fd_);
  }
}

void SeamProbe::at(Step step) {
  if (next_ != nullptr) next_->at(step);
  if (step == Step::slot_named && stop_after_ > 0 && ++named_ >= stop_after_ && stop_ != nullptr)
    stop_->request();
}

namespace {

/// Refuses to replace (or continue) `path` unless it is a regular file: --force never removes a
/// device, FIFO, socket, directory or symbolic link (as root, `--out /dev/null --force` would
/// otherwise replace the device node).
void require_regular(const fs::path& path, const std::string& what) {
  std::error_code ec;
  const auto st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st) || fs::is_regular_file(st)) return;
  if (fs::is_symlink(st) && output::symlink_loop(path.string()))
    throw OutputError(output::symlink_loop_message(path.string()));
  const char* kind = fs::is_symlink(st)                                   ? "a symbolic link"
                     : fs::is_directory(st)                               ? "a directory"
                     : fs::is_character_file(st) || fs::is_block_file(st) ? "a device"
                     : fs::is_fifo(st)                                    ? "a FIFO"
                     : fs::is_socket(st)                                  ? "a socket"
                                                                          : "not a regular file";
  throw OutputError(fmt::format("{} {}: is {}; wedge replaces or continues regular files only",
                                what, path.string(), kind));
}

}  // namespace

bool resume_from_zero(const std::string& out) {
  std::error_code ec;
  return !fs::exists(fs::symlink_status(out, ec)) &&
         !fs::exists(fs::symlink_status(out + ".partial", ec)) &&
         fs::is_regular_file(fs::symlink_status(out + ".partial.new", ec));
}

namespace {

/// True when `path` begins with HDF5's signature at offset 0 (how wedge writes its files).
bool is_hdf5_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char head[8] = {};
  const std::size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  return n == sizeof head && std::memcmp(head, "\x89HDF\r\n\x1a\n", sizeof head) == 0;
}

}  // namespace

void check_output_path(const std::string& out, bool force, bool resume) {
  std::error_code ec;
  const fs::path path(out);
  if (fs::is_directory(path, ec)) throw OutputError(fmt::format("--out {}: is a directory", out));
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    if (output::symlink_loop(dir.string()))
      throw OutputError(output::symlink_loop_message(dir.string()));
    throw OutputError(fmt::format("--out {}: directory {} does not exist", out, dir.string()));
  }
  if (access(dir.c_str(), W_OK) != 0) {
    throw OutputError(fmt::format("--out {}: directory {} is not writable", out, dir.string()));
  }
  require_regular(path, "--out");
  require_regular(out + ".partial", "--out");
  require_regular(out + ".lock", "--out");
  const bool final_exists = fs::exists(fs::symlink_status(path, ec));
  const bool partial_exists = fs::exists(fs::symlink_status(out + ".partial", ec));
  if (resume) {
    if (final_exists) {
      // Nothing to resume; but a damaged file is named as `wedge inspect` names it, with what to
      // do (a run can write it again), rather than called complete alone.
      std::string damage;
      try {
        (void)inspect_results(out);
      } catch (const OutputError& err) {
        damage = err.what();
      }
      if (!damage.empty()) {
        // Not a results file at all (no HDF5 signature): not "complete", just not ours.
        if (!is_hdf5_file(out)) {
          throw OutputError(fmt::format(
              "--resume: {} exists and is not a results file ({}); --resume continues a "
              "FILE.partial; choose another --out, or --force to replace it",
              out, damage));
        }
        throw OutputError(fmt::format(
            "--resume: {} is already complete, so there is nothing to resume, but `wedge "
            "inspect` refuses it ({}); run the same command with --force "
            "instead of --resume to write it again",
            out, damage));
      }
      throw OutputError(fmt::format("--resume: {} is already complete; nothing to resume", out));
    }
    if (!partial_exists)
      throw OutputError(fmt::format("--resume: no partial file {}.partial to continue", out));
    return;
  }
  if (final_exists && !force)
    throw OutputError(fmt::format("{} exists; use --force to overwrite it", out));
  if (partial_exists && !force) {
    throw OutputError(
        fmt::format("{}.partial exists (an interrupted run?); use --resume to continue it "
                    "or --force to start over",
                    out));
  }
}

output::Metadata metadata(const Experiment& e, const std::string& command_line, bool store_runs,
                          bool compress, std::uint64_t threads) {
  output::Metadata m;
  m.model = TugOfWar::NAME;
  m.model_version =
      std::string(TugOfWar::VERSION);  // (a literal here trips GCC 12's false -Wrestrict)
  m.engine_version = VERSION;
  m.git_commit = GIT_COMMIT;
  m.rng =
      "Philox4x32-10 (Random123); key = seed; counter = (block, substream, replicate, point); "
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
                 {"boost_version", fmt::format("{}.{}.{}", BOOST_VERSION / 100000,
                                               BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100)},
                 {"hdf5_version", output::h5::library_version()},
                 {"fmt_version", fmt::format("{}.{}.{}", FMT_VERSION / 10000,
                                             FMT_VERSION / 100 % 100, FMT_VERSION % 100)}};
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
  fs::remove(partial, ec);           // --force, checked by the session
  fs::remove(partial + ".new", ec);  // a file whose creation was killed (ResultsWriter)
  try {
    auto meta =
        metadata(e, opts.output.command_line, session.stores_runs(), opts.output.compress, threads);
    meta.shard_index = opts.shard.index;
    meta.shard_count = opts.shard.count;
    meta.runs_planned = session.planned_runs();
    writer.emplace(partial, meta, layout, static_cast<std::uint32_t>(e.points.size()));
    writer->set_probe(&*probe);
    inject_fault(session);
    sink.emplace(*writer, engine::make_summaries<TugOfWar>(e.points.size()), 0, 0.0,
                 opts.output.checkpoint_seconds);
    rounds.create(e, opts.output.store, *writer, opts.output.compress, *sink);
  } catch (...) {
    writer.reset();
    fs::remove(partial, ec);  // nothing of value in it yet
    fs::remove(partial + ".new", ec);
    throw;
  }
}

void Session::Output::resume(const Session& session, engine::BlockRange& blocks,
                             double checkpoint_seconds) {
  const auto& e = session.experiment();
  const auto& opts = session.options();
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  // This process holds the file's lock: a file HDF5 cannot open is damaged, not busy. The partial
  // may come from elsewhere (a copy, a crashed machine's disk): read first in a child process,
  // which may crash or run out of memory in the HDF5 library (output/untrusted.hpp).
  output::untrusted::probe(
      partial, [&] { (void)output::read_results(partial, layout, output::h5::LockCheck::ours); });
  const auto info = output::read_results(partial, layout, output::h5::LockCheck::ours);
  // Every option that defines the plan (which runs, with which streams, stored how) must be the
  // file's; the messages name the file's value so that the right command can be rebuilt.
  const auto refuse = [&](const std::string& what) {
    throw OutputError(
        fmt::format("--resume: {} {}; resume with the same options, or use --force to start over",
                    partial, what));
  };
  // What the file alone rules out, whatever the command (`wedge inspect` advises from the same).
  if (auto problem = resume_refusal(info); !problem.empty()) throw OutputError(std::move(problem));
  // A stored experiment that contradicts the file's attributes matches no command: said as
  // `wedge inspect` says it (a stored experiment that does not resolve is left to the checks
  // below, which name what differs from this run).
  std::optional<Experiment> stored;
  try {
    stored = stored_experiment(info);
  } catch (const OutputError&) {
  }
  if (stored) {
    if (auto conflict = stored_settings_conflict(info, *stored); !conflict.empty())
      throw OutputError(std::move(conflict));
  }
  if (info.seed != e.run.seed) {
    throw OutputError(
        fmt::format("--resume: {} was run with seed {}, not {}; use the same seed, "
                    "or --force to start over",
                    partial, info.seed, e.run.seed));
  }
  if (info.shard_index != opts.shard.index || info.shard_count != opts.shard.count) {
    const auto shard = [](std::uint64_t i, std::uint64_t k) {
      return k == 1 ? std::string("as a whole run (no --shard)")
                    : fmt::format("as --shard {}/{}", i, k);
    };
    refuse(fmt::format("was written {}, not {}", shard(info.shard_index, info.shard_count),
                       shard(opts.shard.index, opts.shard.count)));
  }
  if (info.replicates != e.run.runs)
    refuse(fmt::format("was run with --runs {}, not {}", info.replicates, e.run.runs));
  if (info.crn != e.run.crn)
    refuse(fmt::format("was run {}--crn", info.crn ? "with " : "without "));
  if (info.store_runs != session.stores_runs()) {
    refuse(fmt::format("was written with --store {}", info.store_runs ? "runs" : "summary"));
  }
  if ((info.compression != "none") != opts.output.compress) {
    refuse(fmt::format("was written with --compression {}",
                       info.compression == "none" ? "none" : "deflate"));
  }
  if (info.block_size != engine::DEFAULT_BLOCK_SIZE ||
      info.runs_planned != session.planned_runs() || info.summaries.size() != e.points.size()) {
    refuse(
        fmt::format("plans {} runs of {} points in blocks of {}, this run {} of {} in blocks of {}",
                    info.runs_planned, info.summaries.size(), info.block_size,
                    session.planned_runs(), e.points.size(), engine::DEFAULT_BLOCK_SIZE));
  }
  if (const std::string ours = to_toml(e); info.experiment != ours) {
    // The keys that differ, the file's value and this run's: enough to rebuild the command.
    const auto differences = experiment_differences(info.experiment, ours, "the file", "this run");
    throw OutputError(fmt::format(
        "--resume: {} holds a different experiment (the file's is in its 'experiment' "
        "attribute){}; resume with the file's experiment, or rerun with --force to start over",
        partial,
        differences.empty() ? std::string("; no key this build can name differs: the attribute is "
                                          "written otherwise (by another version of wedge) or "
                                          "damaged (`wedge inspect` checks it)")
                            : experiment_differences_text(differences)));
  }
  if (info.values != e.values) {
    throw OutputError(
        fmt::format("--resume: {} holds other design points than this version of wedge resolves "
                    "(written by another version?); rerun with --force to start over",
                    partial));
  }
  // The records and blocks agree with the checkpoint, and its blocks are the first of this plan.
  const auto done = output::verify_runs(info, layout, output::h5::LockCheck::ours);
  if (done.size() > blocks.size() || !std::equal(done.begin(), done.end(), blocks.begin())) {
    throw OutputError(fmt::format(
        "{}: damaged: /blocks: the blocks done are not the first blocks of this run's plan",
        partial));
  }
  RoundsOutput::check_resume(session.options().output.store, partial,
                             info.runs_done);  // --store rounds
  blocks = blocks.drop(done.size());
  resumed = info.summaries;
  already = info.runs_done;
  writer.emplace(partial, layout, info.runs_done);
  writer->set_probe(&*probe);
  inject_fault(session);
  sink.emplace(*writer, resumed, info.runs_done, info.wall_seconds, checkpoint_seconds);
  rounds.resume(e, session.options().output.store, *writer, info.runs_done, *sink);
}

std::string Session::Output::finish(bool complete) {
  sink->finish(
      complete);   // a complete file gets its /summary and dimension scales, then `complete`
  rounds.close();  // --store rounds: its datasets, flushed by the checkpoints above
  writer->close();
  if (!complete) return partial;
  rounds.complete(partial);  // /rounds' dimension scales (before the rename makes FILE.h5 appear)
  if (before_rename) before_rename(partial);
  std::error_code ec;
  fs::rename(partial, path, ec);
  if (ec) throw OutputError(fmt::format("cannot rename {} to {}: {}", partial, path, ec.message()));
  return path;
}

void Session::Output::inject_fault(const Session& session) {
  const auto& fault = session.options().testing.disk_fault;
  if (fault.full_at_bytes != 0 || fault.io_error_at_bytes != 0 || fault.io_error_at_write != 0)
    output::h5::inject_disk_fault(writer->file_id(), fault);
}

void Session::Output::abandon() noexcept {
  rounds.abandon();
  if (writer) writer->abandon();
}

/// A results file to read exists and is not a directory (OutputError in wedge's words, not
/// HDF5's: "no such file", naming FILE.partial when only it exists: a shard still being written).
static void check_results_input(const std::string& path) {
  if (output::symlink_loop(path)) throw OutputError(output::symlink_loop_message(path));
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw OutputError(
        fmt::format("{}: no such file{}", path,
                    fs::exists(path + ".partial", ec)
                        ? fmt::format(" ({}.partial exists: a run still being written, or "
                                      "interrupted; `wedge inspect {}.partial` tells which)",
                                      path, path)
                        : std::string()));
  }
  if (fs::is_directory(path, ec)) throw OutputError(fmt::format("{}: is a directory", path));
}

std::vector<engine::Summary> merge_results(const std::vector<std::string>& parts,
                                           const std::string& out, bool force,
                                           const std::string& command_line) {
  for (const auto& part : parts) check_results_input(part);
  // No input may be what the merge writes, replaces or locks (--force removes out.partial and
  // replaces out): the inputs would be lost.
  for (const auto& part : parts) {
    for (const std::string& target : {out, out + ".partial", out + ".lock"}) {
      std::error_code ec;
      if (fs::equivalent(part, target, ec)) {  // (false when either does not exist)
        throw ConfigError(
            fmt::format("merge: the input {} is {}, which the merge writes; choose another --out",
                        part, target == out ? "the output file" : target));
      }
    }
  }
  check_output_path(out, force, false);
  // Each input as merge_shards and merge_rounds_of will read it, first in a child process (a
  // damaged file may crash or exhaust the HDF5 library itself: output/untrusted.hpp), before
  // anything is written.
  for (const auto& part : parts) {
    output::untrusted::probe(part, [&] {
      const auto info = output::read_results(part, engine::FieldLayout::from(TugOfWar::fields()));
      if (info.model != TugOfWar::NAME) {
        throw OutputError(fmt::format("{}: results of model '{}', not '{}'", info.path, info.model,
                                      TugOfWar::NAME));
      }
      (void)stored_experiment(info);
      // The netCDF coordinates too, as inspect and wedge.open check them: merge writes its own,
      // but a shard whose coordinates were damaged is damaged, and is refused before anything
      // is written.
      if (output::has_rounds(part, output::h5::LockCheck::others))
        output::check_rounds(part, 0, output::h5::LockCheck::others);
      output::verify_dimension_scales(part);  // after /rounds' own checks, as inspect
    });
  }
  const OutputLock lock(out);
  const std::string partial = out + ".partial";
  std::error_code ec;
  fs::remove(partial, ec);
  std::vector<engine::Summary> summaries;
  try {
    // Each shard's stored experiment must resolve (without reading any other file) to its design.
    const auto check = [](const output::ResultsInfo& info) {
      if (info.model != TugOfWar::NAME) {
        throw OutputError(fmt::format("{}: results of model '{}', not '{}'", info.path, info.model,
                                      TugOfWar::NAME));
      }
      (void)stored_experiment(info);
    };
    summaries = output::merge_shards(
        parts, partial, engine::FieldLayout::from(TugOfWar::fields()), command_line, GIT_COMMIT,
        check, [](const output::ResultsInfo& a, const output::ResultsInfo& b) {
          return experiment_differences_text(
              experiment_differences(a.experiment, b.experiment, a.path, b.path));
        });
    merge_rounds_of(parts, partial);  // --store rounds: /rounds too
  } catch (...) {
    fs::remove(partial, ec);  // never leave a half-merged file
    throw;
  }
  fs::rename(partial, out, ec);
  if (ec) throw OutputError(fmt::format("cannot rename {} to {}: {}", partial, out, ec.message()));
  return summaries;
}

}  // namespace wedge::experiments
