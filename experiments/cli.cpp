#include "experiments/cli.hpp"

#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/cancel.hpp"
#include "engine/error.hpp"
#include "engine/precision.hpp"
#include "engine/runner.hpp"
#include "experiments/execute.hpp"
#include "experiments/loader.hpp"
#include "experiments/mpi.hpp"
#include "experiments/report.hpp"
#include "experiments/resources.hpp"
#include "experiments/trace_report.hpp"
#include "output/results_sink.hpp"
#include "wedge/version.hpp"

#include <CLI/CLI.hpp>
#include <Random123/features/compilerfeatures.h>
#include <boost/version.hpp>
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <tbb/version.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <csignal>
#include <filesystem>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace wedge::experiments {

namespace {

using agents::TugOfWar;

constexpr const char* EXIT_CODES_HELP =
    "Exit codes: 0 success, 2 bad input (including command-line errors), 3 output problem, "
    "130 interrupted (SIGINT/SIGTERM).";

/// Options shared by the commands that resolve an experiment.
struct ExperimentArgs {
  std::string file;
  std::vector<std::string> sets;
  std::optional<std::uint64_t> runs;
  std::optional<std::uint64_t> seed;
  bool crn = false;
};

struct RunArgs {
  ExperimentArgs exp;
  std::string out;
  bool force = false;
  bool resume = false;
  std::string store;
  std::string compression = "none";
  std::string shard;
  unsigned threads = 0;
  bool json = false;
  bool quiet = false;
  std::optional<double> precision;
  std::optional<std::uint64_t> max_runs;
  std::vector<std::string> precision_outcomes{"format", "alliance"};
  std::size_t grain = 1;
  std::size_t wave = 0;
  double checkpoint_seconds = 2.0;
};

struct TraceArgs {
  ExperimentArgs exp;
  std::uint32_t point = 0;
  std::uint64_t replicate = 0;
  bool json = false;
};

/// A check of a numeric option against the range files and wedge.simulate() use too
/// (experiments/experiment.hpp): "--seed: -1 is out of range; must be an integer in [0, ...]".
template <class Range>
CLI::Validator in_range(const Range& range) {
  return CLI::Validator(
      [range](std::string& text) {
        if constexpr (std::is_same_v<Range, IntegerRange>) return integer_problem(text, range);
        else return real_problem(text, range);
      },
      range_text(range));
}

void add_experiment_options(CLI::App* cmd, ExperimentArgs& a, bool with_runs) {
  cmd->add_option("experiment", a.file,
                  "Experiment file (TOML); without one, the baseline scenario of MODEL.md");
  cmd->add_option("--set", a.sets, "Override a parameter, e.g. --set dulles.tact=0.9 (repeatable; "
                                   "`wedge params` lists the keys)")
      ->take_last()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--seed", a.seed, "Master seed (default 1)")->check(in_range(SEED_RANGE));
  if (with_runs) {
    cmd->add_option("--runs", a.runs, "Replicates per design point (default 1000000)")->check(in_range(RUNS_RANGE));
  }
  cmd->add_flag("--crn", a.crn,
                "Common random numbers: replicate r draws the same stream at every design point");
}

Experiment resolve(const ExperimentArgs& a) {
  Experiment e = a.file.empty() ? Experiment{} : load_experiment(a.file);
  apply_overrides(e, a.sets);
  if (a.runs) e.run.runs = *a.runs;
  if (a.seed) e.run.seed = *a.seed;
  e.run.crn = e.run.crn || a.crn;
  resolve_design(e);
  return e;
}

/// `text` with invalid UTF-8 and control characters escaped as \xHH, so an error is one clean line.
std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k) valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (valid && len == 1 && (c < 0x20 || c == 0x7F)) valid = false;
    if (valid) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    }
  }
  return out;
}

std::string command_line_text(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    const bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?[]{}()<>|;&!#~") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    out += (i ? " " : "") + a;
  }
  return out;
}

/// An exclusive lock on FILE.lock while FILE (or FILE.partial) is being written, so that a second
/// wedge process writing the same results fails at once instead of clobbering the first.
class OutputLock {
 public:
  explicit OutputLock(std::string path) : path_(std::move(path) + ".lock") {
    fd_ = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ < 0) throw OutputError(fmt::format("{}: cannot create the lock file: {}", path_, std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw OutputError(fmt::format("another wedge process is writing {} (it holds {}); wait for it or stop it",
                                    path_.substr(0, path_.size() - 5), path_));
    }
  }
  ~OutputLock() {
    if (fd_ >= 0) {
      ::unlink(path_.c_str());
      ::close(fd_);
    }
  }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

/// Checks the output path before any work starts (nothing runs if it cannot be written).
void check_output_path(const std::string& out, bool force, bool resume) {
  namespace fs = std::filesystem;
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
    if (!partial_exists) {
      throw OutputError(fmt::format("--resume: no partial file {}.partial to continue", out));
    }
    return;
  }
  if (final_exists && !force) {
    throw OutputError(fmt::format("{} exists; use --force to overwrite it", out));
  }
  if (partial_exists && !force) {
    throw OutputError(fmt::format("{}.partial exists (an interrupted run?); use --resume to continue it "
                                  "or --force to start over", out));
  }
}

output::Metadata metadata(const Experiment& e, const std::string& command_line, bool store_runs,
                          bool compress, std::uint64_t threads) {
  output::Metadata m;
  m.model = TugOfWar::NAME;
  m.model_version = TugOfWar::VERSION;
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
  return m;
}

int command_merge(const std::vector<std::string>& parts, const std::string& out, bool force,
                  const std::string& command_line, bool quiet = false);

/// Rank 0 merges the ranks' parts into the results file and prints the table; other ranks return.
int distributed_finish(const mpi::World& world, const std::string& out, const RunArgs& args,
                       const Experiment& e, const std::string& command_line) {
  if (world.rank != 0) return EXIT_OK;
  std::vector<std::string> parts;
  for (int r = 0; r < world.size; ++r) parts.push_back(fmt::format("{}.shards/part-{}-of-{}.h5", out, r, world.size));
  command_merge(parts, out, true, command_line, args.quiet);
  std::error_code ec;
  std::filesystem::remove_all(out + ".shards", ec);
  const auto info = output::read_results(out, engine::FieldLayout::from(TugOfWar::fields()));
  if (args.json) {
    write_results_json(stdout, e, info.summaries, {engine::cancel_requested, {}});
  } else {
    print_table(stdout, e, info.summaries);
  }
  return EXIT_OK;
}

int command_run(const RunArgs& run_args, const std::string& command_line, const mpi::World& world) {
  RunArgs args = run_args;
  Experiment e = resolve(args.exp);
  // Under mpirun: rank r runs shard r/K into FILE.h5.shards/, then rank 0 merges into FILE.h5.
  const bool distributed = world.size > 1;
  const std::string final_out = args.out;
  if (distributed) {
    if (args.out.empty()) throw ConfigError("under mpirun, --out FILE.h5 is needed (the ranks' results are merged into it)");
    if (!args.shard.empty()) throw ConfigError("--shard and mpirun cannot be combined");
    if (args.resume && (args.precision || e.run.precision)) {
      throw ConfigError("--resume does not support precision mode (--precision) yet; rerun with --force");
    }
    if (!args.resume) check_output_path(final_out, args.force, false);
    const std::string dir = final_out + ".shards";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    args.shard = fmt::format("{}/{}", world.rank, world.size);
    args.out = fmt::format("{}/part-{}-of-{}.h5", dir, world.rank, world.size);
    if (args.resume && std::filesystem::exists(args.out, ec)) args.shard = "done";
    if (!args.resume) args.force = true;  // a rank's own part, under a directory checked above
    if (world.rank != 0) args.quiet = true;
    // Tests inject a failing rank to check that the whole job stops with no merged file.
    if (const char* fail = std::getenv("WEDGE_TEST_FAIL_RANK"); fail != nullptr && std::atoi(fail) == world.rank) {
      throw OutputError(fmt::format("rank {}: injected failure (WEDGE_TEST_FAIL_RANK)", world.rank));
    }
  }
  if (args.precision) e.run.precision = args.precision;
  if (args.max_runs) e.run.max_runs = *args.max_runs;
  check_run_settings(e.run);
  outcome_fields(args.precision_outcomes);  // validate before any work
  if (!args.quiet) {
    for (const auto& w : e.warnings) fmt::print(stderr, "warning: {}\n", w);
  }
  const std::uint64_t points = e.points.size();
  std::uint64_t planned = e.run.precision ? 0 : e.run.runs * points;
  if (!e.run.precision && e.run.runs > engine::MAX_REPLICATES) {
    throw ConfigError(fmt::format("runs = {}: at most 2^32 replicates per point", e.run.runs));
  }
  const std::uint64_t worst = e.run.precision ? e.run.max_runs * points : planned;
  bool store_runs = worst <= 10'000'000;
  if (args.store == "runs") store_runs = true;
  if (args.store == "summary") store_runs = false;
  if (args.resume && e.run.precision) {
    throw ConfigError("--resume does not support precision mode (--precision) yet; rerun with --force");
  }
  if ((args.resume || args.force || !args.store.empty()) && args.out.empty()) {
    throw ConfigError("--resume, --force and --store need --out FILE.h5");
  }
  std::uint64_t shard_index = 0, shard_count = 1;
  if (args.shard == "done") {
    // Resuming under mpirun: this rank's part is already complete.
    if (!mpi::all_ok(world, true)) return EXIT_OUTPUT;
    return distributed_finish(world, final_out, args, e, command_line);
  }
  if (!args.shard.empty()) {
    const auto slash = args.shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no slash");
      std::size_t used = 0;
      shard_index = std::stoull(args.shard.substr(0, slash), &used);
      if (used != slash) throw std::invalid_argument("index");
      const std::string count = args.shard.substr(slash + 1);
      shard_count = std::stoull(count, &used);
      if (used != count.size()) throw std::invalid_argument("count");
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("--shard {}: expected i/K with integers 0 <= i < K, e.g. --shard 0/4", args.shard));
    }
    if (shard_count == 0 || shard_index >= shard_count || shard_count > 1'000'000) {
      throw ConfigError(fmt::format("--shard {}: need 0 <= i < K <= 1000000", args.shard));
    }
    if (args.out.empty()) throw ConfigError("--shard needs --out FILE.h5 (one file per shard, then `wedge merge`)");
    if (e.run.precision && !distributed) throw ConfigError("--shard does not support precision mode (--precision)");
  }
  if (!args.out.empty()) check_output_path(args.out, args.force, args.resume);
  // Memory and file size, estimated before anything is built or written.
  const auto needs = estimate_needs(e, {e.run.precision ? e.run.max_runs : e.run.runs,
                                        1.0 / static_cast<double>(shard_count), !args.out.empty(), store_runs, false,
                                        e.run.runs});
  if (const auto note = check_needs(needs, machine_limits(args.out)); !note.empty() && !args.quiet) {
    fmt::print(stderr, "warning: {}\n", note);
  }
  std::optional<OutputLock> lock;
  if (!args.out.empty()) lock.emplace(args.out);

  std::optional<tbb::global_control> threads;
  if (args.threads > 0) threads.emplace(tbb::global_control::max_allowed_parallelism, args.threads);
  const auto thread_count = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);

  engine::RunOptions options;
  options.seed = e.run.seed;
  options.crn = e.run.crn;
  options.grain = args.grain;
  options.wave_blocks = args.wave;
  auto summaries = engine::make_summaries<TugOfWar>(points);
  auto blocks = engine::make_blocks(engine::full_plan(static_cast<std::uint32_t>(points), e.run.runs));
  if (shard_count > 1 && !e.run.precision) {
    // Shard i takes the i-th of K contiguous, balanced ranges of the plan's blocks.
    const std::size_t total_blocks = blocks.size();
    const auto begin = static_cast<std::ptrdiff_t>(total_blocks * shard_index / shard_count);
    const auto end = static_cast<std::ptrdiff_t>(total_blocks * (shard_index + 1) / shard_count);
    blocks = std::vector<engine::Block>(blocks.begin() + begin, blocks.begin() + end);
  }
  std::uint64_t shard_runs = 0;
  for (const auto& b : blocks) shard_runs += b.count;

  if (shard_count > 1) planned = shard_runs;
  // The results file, new or resumed.
  const std::string partial = args.out + ".partial";
  std::optional<output::ResultsWriter> writer;
  std::optional<output::ResultsSink<TugOfWar>> sink;
  std::uint64_t already = 0;
  if (!args.out.empty()) {
    const auto layout = summaries.front().layout();
    if (args.resume) {
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
      if (info.store_runs != store_runs) {
        throw OutputError(fmt::format("--resume: {} was written with --store {}", partial,
                                      info.store_runs ? "runs" : "summary"));
      }
      output::verify_runs(info, layout);
      std::uint64_t skipped = 0;
      std::size_t first = 0;
      while (first < blocks.size() && skipped < info.runs_done) skipped += blocks[first++].count;
      if (skipped != info.runs_done) {
        throw OutputError(fmt::format("--resume: {} is damaged (runs_done = {} is not a block boundary)",
                                      partial, info.runs_done));
      }
      blocks.erase(blocks.begin(), blocks.begin() + static_cast<std::ptrdiff_t>(first));
      summaries = info.summaries;
      already = info.runs_done;
      writer.emplace(partial, layout, info.runs_done);
      sink.emplace(*writer, summaries, info.runs_done, info.wall_seconds, args.checkpoint_seconds);
      if (!args.quiet) fmt::print(stderr, "resuming {}: {} of {} runs already done\n", partial, already, planned);
    } else {
      std::error_code ec;
      std::filesystem::remove(partial, ec);  // --force, checked above
      try {
        auto meta = metadata(e, command_line, store_runs, args.compression == "deflate", thread_count);
        meta.shard_index = shard_index;
        meta.shard_count = shard_count;
        meta.runs_planned = planned;
        writer.emplace(partial, meta, layout, static_cast<std::uint32_t>(points));
      } catch (...) {
        writer.reset();
        std::filesystem::remove(partial, ec);  // nothing of value in it yet
        throw;
      }
      sink.emplace(*writer, summaries, 0, 0.0, args.checkpoint_seconds);
    }
  }

  engine::SignalGuard signals;
  engine::Progress progress(planned, args.quiet);
  options.progress = &progress;
  options.progress_offset = already;
  ExecuteOptions exec;
  if (distributed && e.run.precision) {
    // Every batch is shared among the ranks; integer state is summed and each block's moment
    // state gathered in rank (= plan) order, so every rank folds the same summaries as one
    // process would and chooses the same next batch.
    options.honour_cancel = false;  // all ranks must finish every batch together
    exec.batch_executor = [&, sink_ptr = sink ? &*sink : nullptr](std::span<const engine::Block> batch,
                                                                 std::vector<engine::Summary>& global,
                                                                 const engine::RunOptions& opts) {
      const std::size_t nb = batch.size();
      const std::size_t first = nb * static_cast<std::size_t>(world.rank) / static_cast<std::size_t>(world.size);
      const std::size_t last = nb * static_cast<std::size_t>(world.rank + 1) / static_cast<std::size_t>(world.size);
      const auto mine = batch.subspan(first, last - first);
      struct Tee : engine::RecordSink<agents::RunRecord> {
        engine::RecordSink<agents::RunRecord>* next = nullptr;
        std::vector<double> moments;  // per block: point, then 6 numbers per continuous field
        void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
                     std::span<const engine::Summary> sums) override {
          for (std::size_t b = 0; b < blocks.size(); ++b) {
            moments.push_back(blocks[b].point);
            for (std::size_t f = 0; f < sums[b].layout().continuous.size(); ++f) {
              const auto r = sums[b].continuous(f).raw();
              moments.insert(moments.end(), {static_cast<double>(r.n), r.shift, r.sum, r.sum2, r.min, r.max});
            }
          }
          if (next != nullptr) next->consume(blocks, records, sums);
        }
      } tee;
      tee.next = sink_ptr;
      auto local = engine::make_summaries<TugOfWar>(global.size());
      engine::RunReport report = engine::run_blocks<TugOfWar>(e.points, mine, local, opts, &tee);
      const auto& lay = global.front().layout();
      std::vector<std::uint64_t> ints;
      for (const auto& s : local) {
        ints.push_back(s.runs());
        for (std::size_t f = 0; f < lay.categorical.size(); ++f) ints.insert(ints.end(), s.counts(f).begin(), s.counts(f).end());
        for (std::size_t f = 0; f < lay.continuous.size(); ++f) {
          const auto& h = s.continuous(f).histogram();
          ints.insert(ints.end(), h.begin(), h.end());
        }
      }
      mpi::sum(world, ints);
      std::size_t at = 0;
      for (auto& s : global) {
        s.set_runs(s.runs() + ints[at++]);
        for (std::size_t f = 0; f < lay.categorical.size(); ++f) {
          for (auto& c : s.counts(f)) c += ints[at++];
        }
        for (std::size_t f = 0; f < lay.continuous.size(); ++f) {
          auto h = s.continuous(f).histogram();
          for (auto& c : h) c += ints[at++];
          s.continuous(f).set_histogram(std::move(h));
        }
      }
      const auto all = mpi::gather_all(world, tee.moments);
      const std::size_t stride = 1 + 6 * lay.continuous.size();
      for (std::size_t b = 0; b + stride <= all.size(); b += stride) {
        auto& s = global.at(static_cast<std::size_t>(all[b]));
        for (std::size_t f = 0; f < lay.continuous.size(); ++f) {
          const double* m = &all[b + 1 + 6 * f];
          const auto& spec = lay.continuous[f];
          engine::ContinuousStats block(spec.hist_min, spec.hist_max, spec.hist_bins);
          block.set_raw({static_cast<std::uint64_t>(m[0]), m[1], m[2], m[3], m[4], m[5]});
          s.continuous(f).merge(block);
        }
      }
      std::uint64_t batch_runs = 0;
      for (const auto& b : batch) batch_runs += b.count;
      report.runs_done = batch_runs;
      report.blocks_done = nb;
      return report;
    };
  }
  exec.run = options;
  exec.precision_outcomes = args.precision_outcomes;
  exec.first_batch = args.exp.runs ? *args.exp.runs : std::min<std::uint64_t>(10'000, e.run.max_runs);
  engine::PrecisionReport executed;
  try {
    executed = execute(e, exec, blocks, summaries, sink ? &*sink : nullptr);
  } catch (const OutputError&) {
    // A write failed (disk full...): keep the file exactly as its last checkpoint left it.
    if (writer) writer->abandon();
    throw;
  }
  const engine::RunReport report = executed.run;
  const bool met = executed.met;
  progress.finish();
  const std::uint64_t done = already + report.runs_done;
  if (report.interrupted) {
    const int sig = engine::cancel_signal();
    std::string where = "nothing was written";
    if (sink) {
      sink->finish(false);
      writer->close();
      where = fmt::format("partial results are in {}; continue with --resume", partial);
    }
    fmt::print(stderr, "error: interrupted by {} after {} of {} runs; {}\n",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", done,
               planned > 0 ? fmt::format("{}", planned) : std::string("the planned"), where);
    return EXIT_INTERRUPTED;
  }
  if (sink) {
    sink->finish(true);
    writer->close();
    std::error_code ec;
    std::filesystem::rename(partial, args.out, ec);
    if (ec) throw OutputError(fmt::format("cannot rename {} to {}: {}", partial, args.out, ec.message()));
  }
  if (distributed) {
    if (!mpi::all_ok(world, true)) return EXIT_OUTPUT;
    return distributed_finish(world, final_out, args, e, command_line);
  }
  if (!met && !args.quiet) {
    fmt::print(stderr, "warning: precision {} not reached at every point within --max-runs {}\n",
               *e.run.precision, e.run.max_runs);
  }
  if (args.json) {
    write_results_json(stdout, e, summaries, {engine::cancel_requested, {}});
  } else {
    print_table(stdout, e, summaries);
  }
  if (!args.quiet) {
    const double secs = progress.elapsed_seconds();
    fmt::print(stderr, "{} runs in {:.2f} s ({:.3g} runs/s){}\n", report.runs_done, secs,
               static_cast<double>(report.runs_done) / secs,
               args.out.empty() ? "" : fmt::format("; wrote {}", args.out));
  }
  return EXIT_OK;
}

int command_merge(const std::vector<std::string>& parts, const std::string& out, bool force,
                  const std::string& command_line, bool quiet) {
  check_output_path(out, force, false);
  const OutputLock lock(out);
  const std::string partial = out + ".partial";
  std::error_code ec;
  std::filesystem::remove(partial, ec);
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  try {
    output::merge_shards(parts, partial, layout, command_line);
  } catch (...) {
    std::filesystem::remove(partial, ec);  // never leave a half-merged file
    throw;
  }
  std::filesystem::rename(partial, out, ec);
  if (ec) throw OutputError(fmt::format("cannot rename {} to {}: {}", partial, out, ec.message()));
  if (!quiet) fmt::print(stderr, "merged {} shard files into {}\n", parts.size(), out);
  return EXIT_OK;
}

int command_inspect(const std::string& path, bool json) {
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw OutputError(fmt::format("{}: no such file", path));
  if (std::filesystem::is_directory(path, ec)) throw OutputError(fmt::format("{}: is a directory", path));
  const auto info = output::read_results(path, layout);
  if (info.model != TugOfWar::NAME) {
    throw OutputError(fmt::format("{}: results of model '{}', not '{}'", path, info.model, TugOfWar::NAME));
  }
  Experiment e = parse_experiment(info.experiment, path + " (experiment attribute)", false);
  resolve_design(e);
  if (e.points.size() != info.summaries.size()) {
    throw OutputError(fmt::format("{}: damaged: {} design points in /design but {} in the experiment",
                                  path, info.summaries.size(), e.points.size()));
  }
  // Show the points the file's results belong to (another version of wedge may resolve others).
  if (!adopt_design(e, info.swept_keys, info.values)) {
    throw OutputError(fmt::format("{}: damaged: /design does not match the experiment's swept keys", path));
  }
  const std::string status = info.complete ? "complete" : "PARTIAL (interrupted; continue with --resume)";
  if (json) {
    const engine::SignalGuard signals;  // SIGINT stops a long document (exit code 130)
    const nlohmann::ordered_json head = {
        {"path", path}, {"complete", info.complete}, {"runs_done", info.runs_done},
        {"runs_planned", info.runs_planned}, {"runs_stored", info.runs_stored}, {"model", info.model},
        {"model_version", info.model_version}, {"format_version", info.format_version},
        {"created", info.created}, {"wall_seconds", info.wall_seconds}};
    write_results_json(stdout, e, info.summaries, {engine::cancel_requested, head});
    return EXIT_OK;
  }
  fmt::print("{}: {}\n", path, status);
  fmt::print("  model {} v{}, wedge {} (git {}), format_version {}, created {}\n", info.model,
             info.model_version, info.engine_version, info.git_commit, info.format_version, info.created);
  fmt::print("  runs {} of {} planned; {}; {:.2f} s on {} threads ({:.3g} runs/s)\n",
             info.runs_done, info.runs_planned > 0 ? fmt::format("{}", info.runs_planned) : std::string("(precision mode)"),
             info.store_runs ? fmt::format("{} per-run records stored", info.runs_stored) : std::string("no records (summary only)"),
             info.wall_seconds, info.threads, info.runs_per_second);
  if (!info.complete && info.store_runs && info.runs_stored < info.runs_done) {
    fmt::print("  warning: {} records stored but runs_done = {}: damaged\n", info.runs_stored, info.runs_done);
  }
  fmt::print("\n");
  print_table(stdout, e, info.summaries);
  return EXIT_OK;
}

int command_params(bool json) {
  const auto& params = agents::parameters();
  if (json) {
    std::fputs(params_json().c_str(), stdout);
    return EXIT_OK;
  }
  std::string section;
  for (const auto& p : params) {
    if (p.section != section) {
      section = p.section;
      fmt::print("[{}]\n", section);
    }
    fmt::print("  {:<40} {:>6}  {:<22} {}\n", p.key, p.default_text(), p.range_text(), p.meaning);
  }
  return EXIT_OK;
}

int command_trace(const TraceArgs& args) {
  Experiment e = resolve(args.exp);
  if (args.point >= e.points.size()) {
    throw ConfigError(fmt::format("--point {}: the experiment has {} design point(s) (valid: 0 to {})",
                                  args.point, e.points.size(), e.points.size() - 1));
  }
  engine::RunOptions options;
  options.seed = e.run.seed;
  options.crn = e.run.crn;
  const auto key = engine::stream_key(options, args.point, args.replicate);
  const auto trace = agents::trace_run(e.points[args.point], key);
  if (args.json) {
    std::fputs(trace_json(trace, e.run.seed, args.point, args.replicate).c_str(), stdout);
  } else {
    fmt::print("run: seed {}, design point {}, replicate {}{}\n", e.run.seed, args.point,
               args.replicate, e.run.crn ? " (common random numbers)" : "");
    print_trace(stdout, trace, e.points[args.point].japan.ratify_threshold);
  }
  return EXIT_OK;
}

int command_validate(const ExperimentArgs& args) {
  // Every problem of the file, in line order (a run stops at the first).
  if (const auto problems = experiment_problems(args.file, args.sets); !problems.empty()) {
    for (const auto& p : problems) fmt::print(stderr, "error: {}\n", printable(p));
    return EXIT_BAD_INPUT;
  }
  const Experiment e = resolve(args);
  for (const auto& w : e.warnings) fmt::print(stderr, "warning: {}\n", w);
  const std::uint64_t points = e.points.size();
  fmt::print("{}: valid; design {} with {} point(s){}; {} replicates per point{}, seed {}\n",
             args.file, design_name(e.sweep.design), points,
             e.swept_keys.empty() ? "" : fmt::format(" over {} key(s)", e.swept_keys.size()),
             e.run.runs, e.run.precision ? fmt::format(" (precision target {})", *e.run.precision) : "",
             e.run.seed);
  if (!e.run.precision) fmt::print("total runs: {}\n", points * e.run.runs);
  const std::uint64_t runs = e.run.precision ? e.run.max_runs : e.run.runs;
  const auto with_records = estimate_needs(e, {runs, 1.0, true, true, false, e.run.runs});
  fmt::print("estimates{}: memory about {} ({} without --out); a results file about {} with per-run records, {} "
             "with --store summary\n", e.run.precision ? " (at --max-runs)" : "", byte_text(with_records.memory_bytes),
             byte_text(estimate_needs(e, {runs, 1.0, false, false, false, e.run.runs}).memory_bytes),
             byte_text(with_records.file_bytes),
             byte_text(estimate_needs(e, {runs, 1.0, true, false, false, e.run.runs}).file_bytes));
  return EXIT_OK;
}

std::string version_text() {
  return fmt::format(
      "wedge {} (git {}, {} build)\nmodel: {} version {} (MODEL.md); kernel on this CPU: {}\n"
      "libraries: oneTBB {} (runtime {}), Boost {}.{}.{}, Random123 (Philox4x32-10), fmt {}.{}.{}, "
      "CLI11 {}, HDF5 {}\ncompiler: g++ {}.{}.{}",
      VERSION, GIT_COMMIT, BUILD_TYPE, TugOfWar::NAME, TugOfWar::VERSION, agents::kernel_name(), TBB_VERSION_STRING,
      TBB_runtime_version(), BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000,
      BOOST_VERSION % 100, FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100,
      CLI11_VERSION, output::h5::library_version(), __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
}

}  // namespace

namespace {
int run_cli_in(int argc, char** argv, const mpi::World& world);
}  // namespace

int run_cli(int argc, char** argv) {
  // A file-size limit (ulimit -f) should be a write error we report, not a signal that kills us.
  std::signal(SIGXFSZ, SIG_IGN);
  output::h5::quiet_errors();  // before HDF5 initialises: no HDF5 exit handler, no error printing
  const mpi::World world = mpi::init(&argc, &argv);
  const int code = run_cli_in(argc, argv, world);
  if (world.size > 1 && code != EXIT_OK) {
    // One rank failed: end the whole job now, so that no rank waits and nothing is merged.
    fmt::print(stderr, "error: rank {} of {} failed (exit code {}); stopping every rank\n", world.rank, world.size, code);
    std::fflush(stderr);
    mpi::abort(world, code);
  }
  mpi::finalize(world);
  return code;
}

namespace {
int run_cli_in(int argc, char** argv, const mpi::World& world) {
  CLI::App app{"wedge: agent-based Monte Carlo of the Soviet-US tug of war over Japan, 1955-56"};
  app.footer(EXIT_CODES_HELP);
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", version_text());

  RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run the experiment (the baseline scenario by default) and "
                                        "print its outcome table");
  add_experiment_options(run, run_args.exp, true);
  run->add_option("--out", run_args.out, "Write the results to this HDF5 file (via FILE.partial, renamed when complete)");
  run->add_flag("--force", run_args.force, "Overwrite an existing results file (or its .partial)");
  run->add_flag("--resume", run_args.resume, "Continue the interrupted run of FILE.partial (same experiment and seed)");
  run->add_option("--store", run_args.store,
                  "runs: per-run records and summaries (default up to 10^7 runs); summary: summaries only")
      ->check(CLI::IsMember({"runs", "summary"}));
  run->add_option("--shard", run_args.shard,
                  "Run only shard i of K (0 <= i < K) of the plan, e.g. --shard 2/8 (for job arrays; "
                  "combine the parts with `wedge merge`)");
  run->add_option("--compression", run_args.compression,
                  "Per-run records: none (default, fastest) or deflate (shuffle + deflate: about a "
                  "quarter of the size, slower to write)")
      ->check(CLI::IsMember({"none", "deflate"}));
  run->add_option("--threads", run_args.threads, "Worker threads (default: all cores)")->check(in_range(THREADS_RANGE));
  run->add_flag("--json", run_args.json, "Print the results as JSON on stdout, nothing else");
  run->add_flag("--quiet", run_args.quiet, "No progress or timing on stderr");
  run->add_option("--precision", run_args.precision,
                  "Add replicates until every category probability of the precision outcomes "
                  "has a 95% interval half-width <= E at every point")
      ->check(in_range(PRECISION_RANGE));
  run->add_option("--max-runs", run_args.max_runs,
                  "Replicate cap per design point in precision mode (default 10000000)")
      ->check(in_range(MAX_RUNS_RANGE));
  run->add_option("--precision-outcomes", run_args.precision_outcomes,
                  "Outcomes the precision target applies to (default: format alliance)")
      ->delimiter(',');
  run->add_option("--grain", run_args.grain, "Blocks per TBB task (tuning; never changes results)")
      ->check(in_range(IntegerRange{"grain", 1, 1u << 20}))
      ->group("");
  run->add_option("--checkpoint-seconds", run_args.checkpoint_seconds,
                  "Seconds between checkpoints of the results file (testing)")
      ->check(in_range(RealRange{"checkpoint_seconds", 0.0, 3600.0}))
      ->group("");
  run->add_option("--wave", run_args.wave, "Blocks per wave (tuning; never changes results)")
      ->check(in_range(IntegerRange{"wave", 1, 1u << 20}))
      ->group("");
  run->footer(EXIT_CODES_HELP);

  ExperimentArgs validate_args;
  auto* validate = app.add_subcommand("validate", "Check an experiment file; print the resolved design size");
  add_experiment_options(validate, validate_args, true);
  validate->get_option("experiment")->required();

  bool params_json = false;
  auto* params = app.add_subcommand("params", "List every parameter: default, valid range, meaning");
  params->add_flag("--json", params_json, "As JSON");

  std::string inspect_path;
  bool inspect_json = false;
  auto* inspect = app.add_subcommand("inspect", "Summary table of a results file (complete, partial or damaged)");
  inspect->add_option("file", inspect_path, "Results file (.h5 or .h5.partial)")->required();
  inspect->add_flag("--json", inspect_json, "As JSON (the format of `run --json`, with the file's status)");

  std::vector<std::string> merge_parts;
  std::string merge_out;
  bool merge_force = false;
  auto* merge = app.add_subcommand("merge", "Merge the shard files of one run (--shard i/K) into one results file");
  merge->add_option("parts", merge_parts, "Shard files (all K of them, any order)")->required();
  merge->add_option("--out", merge_out, "The merged results file")->required();
  merge->add_flag("--force", merge_force, "Overwrite an existing file");

  TraceArgs trace_args;
  auto* trace = app.add_subcommand("trace", "Replay one run of the ensemble and tell its story");
  add_experiment_options(trace, trace_args.exp, false);
  trace->add_option("--point", trace_args.point, "Design point (default 0)")->check(in_range(POINT_RANGE));
  trace->add_option("--replicate", trace_args.replicate, "Replicate (default 0)")->check(in_range(REPLICATE_RANGE));
  trace->add_flag("--json", trace_args.json, "As JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "error: {}\n", printable(e.what()));
    return EXIT_BAD_INPUT;
  }

  try {
    if (*run) return command_run(run_args, command_line_text(argc, argv), world);
    if (*inspect) return command_inspect(inspect_path, inspect_json);
    if (*merge) return command_merge(merge_parts, merge_out, merge_force, command_line_text(argc, argv));
    if (*params) return command_params(params_json);
    if (*validate) return command_validate(validate_args);
    if (*trace) return command_trace(trace_args);
    std::fputs(app.help().c_str(), stdout);
    return EXIT_OK;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "error: {}\n", printable(e.what()));
    return EXIT_BAD_INPUT;
  } catch (const OutputError& e) {
    fmt::print(stderr, "error: {}\n", printable(e.what()));
    return EXIT_OUTPUT;
  } catch (const Interrupted& e) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", printable(e.what()));
    return EXIT_INTERRUPTED;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: internal: {}\n", printable(e.what()));
    return 1;
  }
}

}  // namespace

}  // namespace wedge::experiments
