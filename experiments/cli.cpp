// The `wedge` command line: parses arguments (CLI11), calls the application layer (session.hpp;
// mpi.hpp under mpirun) and prints. It holds no logic of its own beyond choosing what to print.
#include "experiments/cli.hpp"

#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/cancel.hpp"
#include "engine/error.hpp"
#include "engine/precision.hpp"
#include "engine/progress.hpp"
#include "experiments/calibrate.hpp"
#include "experiments/calibrate_report.hpp"
#include "experiments/check.hpp"
#include "experiments/compare.hpp"
#include "experiments/loader.hpp"
#include "experiments/mpi.hpp"
#include "experiments/report.hpp"
#include "experiments/resources.hpp"
#include "experiments/session.hpp"
#include "experiments/trace_report.hpp"
#include "experiments/trace_where.hpp"
#include "output/results.hpp"
#include "wedge/version.hpp"

#include <fmt/format.h>
#include <tbb/version.h>
#include <CLI/CLI.hpp>
#include <boost/version.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace wedge::experiments {

namespace {

using agents::TugOfWar;
namespace fs = std::filesystem;

constexpr const char* EXIT_CODES_HELP =
    "Exit codes: 0 success, 2 bad input (the command line, experiment files, shard files that are "
    "not one run), 3 output problem (a results file cannot be written, or cannot be read: missing, "
    "foreign, damaged or locked), 130 interrupted (SIGINT/SIGTERM).";

/// Options shared by the commands that resolve an experiment.
struct ExperimentArgs {
  std::string file;
  std::vector<std::string> sets;
  std::optional<std::uint64_t> runs;
  std::optional<std::uint64_t> seed;
  bool crn = false;
};

/// Hidden options of the "testing" group: the test seams of docs/design.md.
struct TestingArgs {
  std::uint64_t stop_after_blocks = 0;
  std::uint64_t stop_after_checkpoints = 0;
  int fail_rank = -1;
  std::string crash_at;                 ///< STEP[:N]
  std::string fail_at;                  ///< STEP[:N]
  std::uint64_t disk_full_at = 0;       ///< bytes (0: off)
  std::uint64_t io_error_at_bytes = 0;  ///< bytes (0: off)
  std::uint64_t io_error_at_write = 0;  ///< the n-th write (0: off)
  std::vector<std::string> given;       ///< the seams given on the command line, as flags
};

/// The hidden options that act on the results file, and so need --out.
constexpr std::array<const char*, 8> FILE_SEAMS{
    "--checkpoint-seconds",     "--test-stop-after-checkpoints", "--test-crash-at",
    "--test-fail-at",           "--test-disk-full-at",           "--test-io-error-at",
    "--test-io-error-at-write", "--interrupt-write-seconds"};

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
  bool precision_outcomes_given = false;
  std::size_t grain = 1;
  std::size_t wave = 0;
  double checkpoint_seconds = 2.0;
  double interrupt_write_seconds = 0.25;
  TestingArgs testing;
};

struct TraceArgs {
  ExperimentArgs exp;
  std::uint32_t point = 0;
  std::uint64_t replicate = 0;
  bool json = false;
  std::string where;  ///< "field=category,...": the first matching replicate
  std::uint64_t where_limit = DEFAULT_WHERE_LIMIT;
};

/// `wedge compare A B`: --set applies to both sides, --set-a / --set-b to one (after --set).
struct CompareArgs {
  std::string a, b;
  std::vector<std::string> sets, sets_a, sets_b;
  std::optional<std::uint64_t> runs;
  std::optional<std::uint64_t> seed;
  unsigned threads = 0;
  bool json = false;
  bool quiet = false;
};
/// A check of a numeric option against the range files and wedge.simulate() use too
/// (experiments/experiment.hpp): "--seed: -1 is out of range; must be an integer in [0, ...]".
template <class Range>
CLI::Validator in_range(const Range& range) {
  return CLI::Validator(
      [range](std::string& text) {
        if constexpr (std::is_same_v<Range, IntegerRange>)
          return integer_problem(text, range);
        else
          return real_problem(text, range);
      },
      range_text(range));
}

/// Refuses an empty value ("--out ''" would otherwise silently mean "no file").
CLI::Validator non_empty() {
  return CLI::Validator(
      [](std::string& text) {
        return text.empty() ? std::string("an empty value; give a file name") : std::string();
      },
      "");
}

/// in_range for a hidden option (group ""), whose name CLI11 leaves out of its errors: the
/// message names `flag` itself (run_cli_in drops CLI11's empty name before it).
template <class Range>
CLI::Validator hidden_in_range(const Range& range, std::string flag) {
  return CLI::Validator(
      [range, flag](std::string& text) {
        std::string problem;
        if constexpr (std::is_same_v<Range, IntegerRange>)
          problem = integer_problem(text, range);
        else
          problem = real_problem(text, range);
        return problem.empty() ? problem : flag + ": " + problem;
      },
      range_text(range));
}

/// Refuses a negative or non-integer value of a hidden count (a test seam) that has no range of
/// its own (CLI11 would read "-1" into an unsigned integer as 2^64 - 1).
CLI::Validator non_negative(std::string_view name) {
  return hidden_in_range(IntegerRange{name, 0, 1ull << 32}, "--" + std::string(name));
}

void add_experiment_options(CLI::App* cmd, ExperimentArgs& a, bool with_runs,
                            const std::string& file_help,
                            const IntegerRange& runs_range = RUNS_RANGE) {
  cmd->add_option("experiment", a.file, file_help)->check(non_empty());
  cmd->add_option("--set", a.sets,
                  "Override a parameter, e.g. --set dulles.tact=0.9 (repeatable; "
                  "`wedge params` lists the keys)")
      ->take_last()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--seed", a.seed, "Master seed (default 1)")->check(in_range(SEED_RANGE));
  if (with_runs) {
    cmd->add_option("--runs", a.runs,
                    "Replicates per design point (default: the file's run.runs, else 1000000; in "
                    "precision mode the first batch, rounded up to whole blocks of 2048 runs)")
        ->check(in_range(runs_range));
  }
  cmd->add_flag("--crn", a.crn,
                "Common random numbers: replicate r draws the same stream at every design point");
}

ExperimentSource source_of(const ExperimentArgs& a) {
  check_repeated_sets(a.sets);
  ExperimentSource s;
  s.file = a.file;
  s.sets = a.sets;
  s.runs = a.runs;
  s.seed = a.seed;
  if (a.crn) s.crn = true;  // the flag turns common random numbers on; the file may too
  return s;
}

/// The items of a comma-separated option's values ("format,alliance", or several values), in
/// order, each without the spaces and tabs around it ("format, alliance", as --where and
/// --history read theirs); ConfigError naming the option for an empty item ("format,", ",format",
/// "a,,b", "a, ,b", "") and naming the option and the item for an item given twice
/// ("format,format", also across values).
std::vector<std::string> comma_items(std::string_view flag,
                                     const std::vector<std::string>& values) {
  const auto trimmed = [](std::string_view s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return std::string_view();
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
  };
  std::vector<std::string> out;
  for (const auto& value : values) {
    std::string_view rest(value);
    while (true) {
      const auto comma = rest.find(',');
      const std::string item(trimmed(rest.substr(0, comma)));
      if (item.empty()) {
        throw ConfigError(fmt::format(
            "{} '{}': an empty item (a comma too many?); give names separated by single commas",
            flag, value));
      }
      if (std::find(out.begin(), out.end(), item) != out.end()) {
        throw ConfigError(fmt::format("{} '{}': '{}' is given twice; give each item once", flag,
                                      value, display_text(item)));
      }
      out.push_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

/// `--crn` given to a command it changes nothing for is refused (ConfigError naming why).
void refuse_idle_crn(const ExperimentArgs& args, const char* why) {
  if (args.crn) throw ConfigError(fmt::format("--crn changes nothing here: {}; drop it", why));
}

/// `text` with invalid UTF-8 and control characters escaped as \xHH, so an error is one clean line.
std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool valid = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k)
      valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (valid && len == 1 && (c < 0x20 || c == 0x7F)) valid = false;
    if (valid && len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F)
      valid = false;  // a C1 control (U+0080-U+009F): escaped byte by byte
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
    const bool plain =
        !a.empty() && a.find_first_of(" \t\n'\"\\$`*?[]{}()<>|;&!#~") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    out += (i ? " " : "") + a;
  }
  return out;
}

/// The fault-injecting writer of --test-crash-at / --test-fail-at: at the N-th time the results
/// file reaches STEP, the process is killed (SIGKILL: a crash at exactly that step) or the write
/// fails (an OutputError, as a full disk gives).
class FaultProbe : public output::WriterProbe {
 public:
  FaultProbe(const std::string& spec, bool crash) : crash_(crash) {
    const auto colon = spec.find(':');
    const auto step = output::parse_step(spec.substr(0, colon));
    try {
      if (!step) throw std::invalid_argument("step");
      step_ = *step;
      if (colon != std::string::npos) nth_ = std::stoull(spec.substr(colon + 1));
    } catch (const std::exception&) {
      throw ConfigError(fmt::format(
          "--test-{}-at {}: expected STEP[:N], STEP one of runs_appended, blocks_appended, "
          "slot_written, slot_flushed, slot_synced, slot_named, summary_written, scales_written, "
          "checkpoint_done",
          crash ? "crash" : "fail", spec));
    }
  }
  void at(Step step) override {
    if (step != step_ || ++seen_ != nth_) return;
    if (crash_) std::raise(SIGKILL);
    throw OutputError(
        fmt::format("injected write failure at {} (--test-fail-at)", output::step_name(step)));
  }

 private:
  bool crash_;
  Step step_ = Step::slot_named;
  std::uint64_t nth_ = 1;
  std::uint64_t seen_ = 0;
};

SessionOptions session_options(const RunArgs& args, const std::string& command_line,
                               std::optional<FaultProbe>& probe) {
  SessionOptions o;
  o.threads = args.threads;
  o.precision_outcomes = args.precision_outcomes;
  o.first_batch = args.exp.runs;  // precision mode: --runs, if given, is the first batch
  if (!args.shard.empty()) o.shard = parse_shard(args.shard);
  o.grain = args.grain;
  o.wave = args.wave;
  o.output.path = args.out;
  o.output.force = args.force;
  o.output.resume = args.resume;
  o.output.store = args.store == "runs"      ? OutputSettings::Store::runs
                   : args.store == "summary" ? OutputSettings::Store::summary
                   : args.store == "rounds"  ? OutputSettings::Store::rounds
                                             : OutputSettings::Store::automatic;
  o.output.compress = args.compression == "deflate";
  o.output.checkpoint_seconds = args.checkpoint_seconds;
  o.output.interrupt_write_seconds = args.interrupt_write_seconds;
  o.output.command_line = command_line;
  o.testing.stop_after_blocks = args.testing.stop_after_blocks;
  o.testing.stop_after_checkpoints = args.testing.stop_after_checkpoints;
  if (!args.testing.crash_at.empty()) probe.emplace(args.testing.crash_at, true);
  if (!args.testing.fail_at.empty()) probe.emplace(args.testing.fail_at, false);
  if (probe) o.testing.writer_probe = &*probe;
  o.testing.disk_fault.full_at_bytes = args.testing.disk_full_at;
  o.testing.disk_fault.io_error_at_write = args.testing.io_error_at_write;
  o.testing.disk_fault.io_error_at_bytes = args.testing.io_error_at_bytes;
  return o;
}

/// The results on stdout: JSON, the outcome table, or (for a shard) what the shard holds.
void print_results(const RunArgs& args, const Experiment& e,
                   const std::vector<engine::Summary>& summaries, const Session* shard,
                   const engine::CancelToken& cancel,
                   const std::optional<PrecisionOutcome>& precision = std::nullopt) {
  if (args.json) {
    // SIGINT stops a long document (Interrupted: exit code 130).
    nlohmann::ordered_json head = nlohmann::ordered_json::object();
    if (precision) head["precision"] = precision_json(*precision);
    write_results_json(stdout, e, summaries, {[&cancel] { return cancel.requested(); }, head});
  } else if (shard != nullptr && !shard->blocks().empty()) {
    const auto blocks = shard->blocks();
    const auto& s = shard->options().shard;
    fmt::print(
        "shard {} of {}: {} runs of design point{} {} written to {}; this is part of a run: its "
        "results "
        "come from `wedge merge` of its {} shard files\n",
        s.index, s.count, shard->planned_runs(),
        blocks.front().point == blocks.back().point ? "" : "s",
        blocks.front().point == blocks.back().point
            ? fmt::format("{}", blocks.front().point)
            : fmt::format("{} to {}", blocks.front().point, blocks.back().point),
        args.out, s.count);
  } else if (shard != nullptr) {
    fmt::print("shard {} of {}: no runs (the plan has fewer blocks than shards); written to {}\n",
               shard->options().shard.index, shard->options().shard.count, args.out);
  } else {
    print_table(stdout, e, summaries);
  }
}

/// The one-line error of an interrupted run; returns the exit code.
int report_interrupted(const SessionResult& r, const Experiment& e) {
  const char* by = r.signal == SIGTERM ? "SIGTERM" : r.signal == SIGINT ? "SIGINT" : "a test seam";
  const std::string next = e.run.precision
                               ? "precision runs cannot be resumed yet; `wedge inspect` reads it"
                               : "continue with --resume";
  const std::string kept = r.runs_kept
                               ? fmt::format(
                                     ", at its last checkpoint ({} runs; the final checkpoint was "
                                     "not written, as it takes long)",
                                     *r.runs_kept)
                               : std::string();
  fmt::print(stderr, "error: interrupted by {} after {} of {} runs; {}\n", by,
             r.runs_resumed + r.runs_done,
             r.runs_planned > 0 ? fmt::format("{}", r.runs_planned) : std::string("the planned"),
             r.path.empty() ? std::string("nothing was written")
                            : fmt::format("partial results are in {}{}; {}", r.path, kept, next));
  return EXIT_INTERRUPTED;
}

/// Flags that would silently do nothing are refused: --max-runs and --precision-outcomes need
/// precision mode; in precision mode --runs (the first batch) may not exceed --max-runs; the
/// test seams of the results file need --out, --test-fail-rank needs more than one rank.
/// (--compression without per-run records to compress is refused by check_output_settings, which
/// Session and the MPI runner call, whatever the store resolves to.)
void check_idle_flags(const RunArgs& args, const Experiment& e, int ranks) {
  for (const auto& flag : args.testing.given) {
    if (flag == "--test-fail-rank") {
      if (ranks < 2)
        throw ConfigError("--test-fail-rank applies under mpirun with 2 or more ranks only");
    } else if (args.out.empty()) {
      throw ConfigError(fmt::format(
          "{} applies to the results file, and there is none: add --out FILE.h5", flag));
    }
  }
  if (!e.run.precision) {
    if (args.max_runs) {
      throw ConfigError(
          "--max-runs applies to precision mode only: add --precision E (or set run.precision in "
          "the file)");
    }
    if (args.precision_outcomes_given) {
      throw ConfigError(
          "--precision-outcomes applies to precision mode only: add --precision E (or set "
          "run.precision in "
          "the file)");
    }
  } else if (args.exp.runs && *args.exp.runs > e.run.max_runs) {
    throw ConfigError(fmt::format(
        "--runs {} (the first batch in precision mode) is above --max-runs {}: lower --runs "
        "or raise --max-runs",
        *args.exp.runs, e.run.max_runs));
  }
}

/// Precision mode with --runs N: the note of first_batch_note, in the command line's words.
std::string first_batch_note(const ExperimentArgs& args, const Experiment& e) {
  return first_batch_note(args.runs, e, "--runs ", "--max-runs ");
}

/// `failure_agreed` is set when rank 0's merge failed and every rank knows it (then the job ends
/// through MPI_Finalize, not MPI_Abort: mpi::DistributedResult::failure_agreed).
int command_run_distributed(const RunArgs& args, const Experiment& e, SessionOptions options,
                            const mpi::World& world, engine::CancelToken& cancel,
                            bool& failure_agreed) {
  engine::Progress progress(0, args.quiet || world.rank != 0);
  mpi::DistributedHooks hooks;
  hooks.execution.cancel = &cancel;
  hooks.execution.progress = &progress;
  hooks.opened = [&](const Session& session, std::uint64_t already) {
    // A fixed plan's progress is this rank's share; precision mode's counts the whole job.
    if (!e.run.precision)
      progress.set_label(fmt::format("rank {} of {}, its share: ", world.rank, world.size));
    progress.set_total(session.planned_runs());
    progress.set_resumed(already);
    if (already > 0 && !args.quiet) {  // every rank: each resumes its own part
      fmt::print(stderr, "resuming {}.partial: {} of {} runs already done\n",
                 session.options().output.path, already, session.planned_runs());
    }
  };
  const auto result =
      mpi::run_distributed(world, e, std::move(options), hooks, args.testing.fail_rank);
  failure_agreed = result.failure_agreed;
  if (result.error) std::rethrow_exception(result.error);  // rank 0: reported as any error
  if (result.session.interrupted) return report_interrupted(result.session, e);
  if (world.rank != 0) return EXIT_OK;
  if (!args.quiet)
    fmt::print(stderr, "merged {} into {}\n", counted(result.parts, "shard file"), args.out);
  const auto precision = precision_outcome(e, args.precision_outcomes, result.merged);
  if (precision && !precision->reached)
    fmt::print(stderr, "warning: {}\n", precision_warning(*precision));
  print_results(args, e, result.merged, nullptr, cancel, precision);
  return EXIT_OK;
}

/// Whether an OutputError's `message` names a full disk: the system's words for ENOSPC, EFBIG (a
/// file-size limit, `ulimit -f`) or EDQUOT (a quota), as h5::check and the driver give them.
bool names_full_disk(const std::string& message) {
  return std::ranges::any_of(std::array{ENOSPC, EFBIG, EDQUOT}, [&](int err) {
    return message.find(std::strerror(err)) != std::string::npos;
  });
}

/// `err` again, with what to do next appended: "; free space and `next`" when it is a full disk
/// (names_full_disk), "; once the disk can be written again, `next`" when another write failed
/// where the file keeps its last checkpoint (the results sink's and the rounds' "... are kept");
/// `err` itself otherwise, and when it already says to free space.
[[noreturn]] void rethrow_with_advice(const OutputError& err, const std::string& next) {
  const std::string message = err.what();
  if (message.find("free space") != std::string::npos) throw err;
  if (names_full_disk(message))
    throw OutputError(fmt::format("{}; free space and {}", message, next));
  if (message.find("last checkpoint are kept") != std::string::npos)
    throw OutputError(fmt::format("{}; once the disk can be written again, {}", message, next));
  throw err;
}

/// What to do after a full disk (or a failed write) stopped `wedge run --out out`: --resume
/// continues the partial file (one process: OUT.partial; under mpirun: OUT.shards/) when there is
/// one and precision mode is off (--resume refuses precision mode); otherwise the same command
/// again (with --force when a partial file would refuse it).
std::string run_full_disk_next(const std::string& out, bool precision) {
  std::error_code ec;
  const bool partial = fs::exists(out + ".partial", ec) || fs::exists(out + ".shards", ec);
  if (!partial) return "run the same command again";
  if (precision) {
    return "run the same command with --force (an interrupted precision-mode run cannot be "
           "resumed yet)";
  }
  return "run the same command with --resume";
}

int command_run_resolved(const RunArgs& args, Experiment resolved, const std::string& command_line,
                         const mpi::World& world, bool& failure_agreed);

int command_run(const RunArgs& args, const std::string& command_line, const mpi::World& world,
                bool& failure_agreed) {
  ExperimentSource source = source_of(args.exp);
  source.precision = args.precision;
  source.max_runs = args.max_runs;
  Experiment resolved = resolve(source);
  check_idle_flags(args, resolved, world.size);
  const bool precision = resolved.run.precision.has_value();
  try {
    return command_run_resolved(args, std::move(resolved), command_line, world, failure_agreed);
  } catch (const OutputError& err) {
    rethrow_with_advice(err, run_full_disk_next(args.out, precision));
  }
}

int command_run_resolved(const RunArgs& args, Experiment resolved, const std::string& command_line,
                         const mpi::World& world, bool& failure_agreed) {
  if (!args.quiet) {
    for (const auto& w : resolved.warnings) fmt::print(stderr, "warning: {}\n", w);
    if (const auto note = first_batch_note(args.exp, resolved); !note.empty() && world.rank == 0)
      fmt::print(stderr, "note: {}\n", note);
  }
  std::optional<FaultProbe> probe;
  SessionOptions options = session_options(args, command_line, probe);
  engine::CancelToken cancel;
  const engine::SignalGuard signals(cancel);
  if (world.size > 1) {
    return command_run_distributed(args, resolved, std::move(options), world, cancel,
                                   failure_agreed);
  }

  // The session takes the experiment (not a copy: its design points are ~2.7 KB each, 11 MB at
  // 4,096 points, and first touching a copy cost page faults serially before the runs).
  Session session(std::move(resolved), std::move(options));
  const Experiment& e = session.experiment();
  if (!session.resource_warning().empty() && !args.quiet) {
    fmt::print(stderr, "warning: {}\n", session.resource_warning());
  }
  const std::uint64_t already = session.open();
  if (already > 0 && !args.quiet) {
    fmt::print(stderr, "resuming {}.partial: {} of {} runs already done\n", args.out, already,
               session.planned_runs());
  }
  engine::Progress progress(session.planned_runs(), args.quiet);
  const SessionResult result = session.execute({&cancel, nullptr, &progress});
  if (result.interrupted) return report_interrupted(result, e);
  // Even with --quiet: the results are valid, but less precise than asked (README, "Precision
  // mode").
  if (result.precision && !result.precision->reached)
    fmt::print(stderr, "warning: {}\n", precision_warning(*result.precision));
  print_results(args, e, result.summaries, session.options().shard.count > 1 ? &session : nullptr,
                cancel, result.precision);
  if (!args.quiet) {
    const double secs = progress.elapsed_seconds();
    fmt::print(stderr, "{} in {:.2f} s ({:.3g} runs/s){}\n", counted(result.runs_done, "run"), secs,
               static_cast<double>(result.runs_done) / secs,
               args.out.empty() ? "" : fmt::format("; wrote {}", args.out));
  }
  return EXIT_OK;
}

int command_merge(const std::vector<std::string>& parts, const std::string& out, bool force,
                  const std::string& command_line) {
  try {
    merge_results(parts, out, force, command_line);
  } catch (const OutputError& err) {
    // The merge leaves no file of its own behind (merge_results): it starts again from the parts.
    rethrow_with_advice(err, "run the merge again");
  }
  fmt::print(stderr, "merged {} into {}\n", counted(parts.size(), "shard file"), out);
  return EXIT_OK;
}

/// An incomplete file of an interrupted `wedge merge` (run again with --force; not --resume).
bool interrupted_merge(const output::ResultsInfo& info) {
  return !info.complete && info.command_line.find(" merge ") != std::string::npos;
}

/// An incomplete file of an interrupted precision-mode run (it plans no fixed number of runs;
/// --resume cannot continue it yet).
bool interrupted_precision(const output::ResultsInfo& info, const Experiment& e) {
  return !info.complete && info.runs_planned == 0 && e.run.precision.has_value();
}

/// Whether `info` is an interrupted run that --resume may continue (not a merge, not precision
/// mode): the files resume_refusal applies to.
bool resumable_kind(const output::ResultsInfo& info, const Experiment& e) {
  return !info.complete && !interrupted_merge(info) && !interrupted_precision(info, e);
}

/// Why `wedge run --resume` will not continue the incomplete file `info` ("" when it will, or
/// when the file is complete): an interrupted merge or precision-mode run (--resume applies to
/// neither), or resume_refusal's reason. `inspect --json`'s `resume_refusal`.
std::string resume_obstacle(const output::ResultsInfo& info, const Experiment& e) {
  if (interrupted_merge(info))
    return "an interrupted `wedge merge`, which --resume does not continue: run the merge again "
           "with --force";
  if (interrupted_precision(info, e))
    return "an interrupted precision-mode run, which --resume cannot continue yet: run the "
           "experiment again with --force";
  return resumable_kind(info, e) ? resume_refusal(info, e) : std::string();
}

/// What a file's status line says: complete, or how an incomplete file can be finished (the
/// advice is --resume only when resume_refusal finds nothing against it).
std::string file_status(const output::ResultsInfo& info, const Experiment& e) {
  if (info.complete) return "complete";
  if (interrupted_merge(info))
    return "PARTIAL (an interrupted `wedge merge`; run the merge again with --force)";
  if (interrupted_precision(info, e))
    return "PARTIAL (an interrupted precision-mode run, which cannot be resumed yet)";
  if (!resume_refusal(info, e).empty())
    return "PARTIAL (interrupted; this build's --resume refuses it, as the next line says)";
  return "PARTIAL (interrupted; continue with --resume)";
}

int command_inspect(const std::string& path, bool json) {
  engine::CancelToken cancel;
  const engine::SignalGuard signals(
      cancel);  // SIGINT stops reading or a long document (exit code 130)
  const auto inspection = inspect_results(path, [&cancel] { return cancel.requested(); });
  const auto& info = inspection.info;
  const auto& e = inspection.experiment;
  const auto& factions = e.base.japan.factions;
  const auto& labels = e.base.japan.labels;
  const std::string store =
      info.store_runs ? (inspection.rounds_stored ? "rounds" : "runs") : std::string("summary");
  if (cancel.requested()) throw Interrupted(fmt::format("interrupted while reading {}", path));
  const std::string& read =
      info.path.empty() ? path : info.path;  // FILE.partial when only it exists
  if (json) {
    const nlohmann::ordered_json head = {{"path", read},
                                         {"complete", info.complete},
                                         {"runs_done", info.runs_done},
                                         {"runs_planned", info.runs_planned},
                                         {"runs_stored", info.runs_stored},
                                         {"model", info.model},
                                         {"model_version", info.model_version},
                                         {"format_version", info.format_version},
                                         {"created", info.created},
                                         {"wall_seconds", info.wall_seconds}};
    // Added after the keys above (which stay as they were): what the file stores, and the
    // factions in force (the scenario's; a sweep may vary their attributes per point).
    nlohmann::ordered_json extended = head;
    extended["store"] = store;
    extended["rounds_stored"] = inspection.rounds_stored;
    extended["records_verified"] = inspection.records_verified;
    // The build's results arithmetic (null: written before files recorded it).
    extended["arithmetic_version"] =
        info.arithmetic_version ? nlohmann::ordered_json(*info.arithmetic_version) : nullptr;
    // Why this build's --resume does not continue this partial file (null: it does, or the file
    // is complete).
    const std::string refusal = resume_obstacle(info, e);
    extended["resume_refusal"] =
        refusal.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(refusal);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < factions.count; ++i) {
      const auto& f = factions.list[i];
      list.push_back({{"id", std::string(labels.id_of(i))},
                      {"name", std::string(labels.name_of(i))},
                      {"weight", f.weight},
                      {"min_islands", f.min_islands},
                      {"territory", f.territory},
                      {"side", f.side},
                      {"alliance", f.alliance},
                      {"okinawa", f.okinawa},
                      {"softens", factions.softens == static_cast<int>(i)}});
    }
    extended["factions"] = std::move(list);
    write_results_json(stdout, e, info.summaries,
                       {[&cancel] { return cancel.requested(); }, extended});
    return EXIT_OK;
  }
  // Everything the file says is printed with control characters and invalid UTF-8 escaped.
  fmt::print("{}: {}\n", printable(read), file_status(info, e));
  if (resumable_kind(info, e)) {
    if (const auto refusal = resume_refusal(info, e); !refusal.empty())
      fmt::print("  {}\n", printable(refusal));
  }
  fmt::print(
      "  model {} v{}, wedge {} (git {}), format_version {}, arithmetic_version {}, "
      "created {}\n",
      printable(info.model), printable(info.model_version), printable(info.engine_version),
      printable(info.git_commit), info.format_version,
      info.arithmetic_version ? std::to_string(*info.arithmetic_version)
                              : std::string("not recorded"),
      printable(info.created));
  fmt::print("  runs {} of {} planned; {}; {:.2f} s on {} ({:.3g} runs/s)\n", info.runs_done,
             // 0 planned is precision mode only if the experiment says so: a shard of a fixed plan
             // may be given no runs (--shard 0/100 of 10 runs).
             info.runs_planned > 0 || !e.run.precision ? fmt::format("{}", info.runs_planned)
                                                       : std::string("(precision mode)"),
             info.store_runs
                 ? fmt::format("{} per-run records stored, every one read and its checksum "
                               "verified",
                               info.runs_stored)
                 : std::string("no records (summary only)"),
             info.wall_seconds, counted(info.threads, "thread"), info.runs_per_second);
  fmt::print("  rounds: {}\n",
             inspection.rounds_stored
                 ? "every run's rounds stored (/rounds; wedge.open(...).rounds() reads them)"
                 : std::string("not stored (written without --store rounds)"));
  std::string list;
  for (std::size_t i = 0; i < factions.count; ++i) {
    list +=
        fmt::format("{}{} {}", i ? ", " : "", printable(labels.id_of(i)), factions.list[i].weight);
  }
  fmt::print("  {} faction{} (weight): {}; softening under Shigemitsu: {}\n", factions.count,
             factions.count == 1 ? "" : "s", list,
             factions.softens >= 0
                 ? printable(labels.id_of(static_cast<std::size_t>(factions.softens)))
                 : std::string("none"));
  fmt::print("\n");
  print_table(stdout, e, info.summaries);
  return EXIT_OK;
}

int command_params(bool json, const ExperimentArgs& args) {
  // The scenario in force: the default one, or the experiment's base (after extends and --set).
  const agents::Scenario scenario =
      args.file.empty() && args.sets.empty() ? agents::Scenario{} : resolve(source_of(args)).base;
  if (json) {
    std::fputs(params_json(scenario).c_str(), stdout);
    return EXIT_OK;
  }
  print_params(stdout, scenario);
  return EXIT_OK;
}

int command_trace(const TraceArgs& args, bool replicate_given, bool where_given) {
  const Experiment e = resolve(source_of(args.exp));
  std::uint64_t replicate = args.replicate;
  std::optional<WhereInfo> where;
  if (where_given) {  // `--where ''` too: parse_where refuses an empty condition
    if (replicate_given) throw ConfigError("--where picks the replicate; it excludes --replicate");
    const auto conditions = parse_where(args.where);
    engine::CancelToken cancel;
    const engine::SignalGuard signals(cancel);
    const auto found = find_replicate(e, args.point, conditions, args.where_limit, &cancel);
    if (!found.replicate) {
      fmt::print(
          stderr,
          "no run of design point {} matches {} among its first {} replicates (the search stops "
          "there; --where-limit raises it)\n",
          args.point, args.where, found.scanned);
      return EXIT_NO_MATCH;
    }
    replicate = *found.replicate;
    where = WhereInfo{args.where, found.scanned};
  }
  const auto story = trace(e, args.point, replicate);
  const auto& scenario = e.points[args.point];
  if (args.json) {
    std::fputs(
        trace_json(story, scenario, e.run.seed, args.point, replicate, where ? &*where : nullptr)
            .c_str(),
        stdout);
  } else {
    fmt::print("run: seed {}, design point {}, replicate {}{}{}\n\n", e.run.seed, args.point,
               replicate, e.run.crn ? " (common random numbers)" : "",
               where ? fmt::format(": the first replicate with {} ({} scanned)", where->conditions,
                                   where->scanned)
                     : "");
    print_story(stdout, story, scenario);
  }
  return EXIT_OK;
}

struct CheckArgs {
  ExperimentArgs exp;
  bool as_baseline = false;
  bool json = false;
};

int command_check(const CheckArgs& args) {
  refuse_idle_crn(args.exp,
                  "wedge check always runs its scenarios on common random numbers (its C "
                  "targets are paired differences)");
  ExperimentArgs exp = args.exp;
  const std::optional<std::uint64_t> runs = exp.runs;
  exp.runs.reset();  // the experiment's own runs do not matter: MODEL.md §7 asks for 10^6
  const Experiment e = resolve(source_of(exp));
  if (!e.swept_keys.empty()) {
    throw ConfigError(
        fmt::format("{}: wedge check takes one scenario, and the experiment sweeps {}; "
                    "check one point with --set instead",
                    e.source, counted(e.swept_keys.size(), "key")));
  }
  CheckOptions options;
  options.runs = runs.value_or(1'000'000);
  options.seed = e.run.seed;
  options.as_baseline = args.as_baseline;
  engine::CancelToken cancel;
  const engine::SignalGuard signals(cancel);
  options.cancel = &cancel;
  const auto targets = agents::run_check(e.base, options);
  if (args.json) {
    std::fputs(check_json(targets, options).c_str(), stdout);
  } else {
    print_check(stdout, targets, options);
  }
  return agents::all_pass(targets) ? EXIT_OK : EXIT_CHECK_FAILED;
}

int command_compare(const CompareArgs& args) {
  for (const auto* sets : {&args.sets, &args.sets_a, &args.sets_b}) check_repeated_sets(*sets);
  ExperimentSource a, b;
  a.file = args.a;
  b.file = args.b;
  a.sets = args.sets;
  a.sets.insert(a.sets.end(), args.sets_a.begin(), args.sets_a.end());
  b.sets = args.sets;
  b.sets.insert(b.sets.end(), args.sets_b.begin(), args.sets_b.end());
  a.runs = args.runs;
  a.seed = args.seed;
  const auto [ea, eb] = resolve_pair(a, b);
  CompareOptions options;
  options.threads = args.threads;
  engine::CancelToken cancel;
  const engine::SignalGuard signals(cancel);
  engine::Progress progress(ea.run.runs, args.quiet);
  progress.set_label("pairs: ");
  const Comparison c = compare(ea, eb, options, &cancel, &progress);
  if (c.interrupted) {
    fmt::print(stderr, "error: interrupted by {} after {} of {} pairs; nothing was written\n",
               c.signal == SIGTERM ? "SIGTERM" : "SIGINT", c.pairs_done, c.runs);
    return EXIT_INTERRUPTED;
  }
  if (args.json) {
    std::fputs(comparison_json(ea, eb, c).c_str(), stdout);
  } else {
    print_comparison(stdout, ea, eb, c);
  }
  if (!args.quiet) {
    const double secs = progress.elapsed_seconds();
    fmt::print(stderr, "2 x {} runs in {:.2f} s ({:.3g} runs/s)\n", c.pairs_done, secs,
               2.0 * static_cast<double>(c.pairs_done) / secs);
  }
  return EXIT_OK;
}

CLI::App* add_compare_command(CLI::App& app, CompareArgs& a) {
  auto* cmd = app.add_subcommand(
      "compare",
      "Paired comparison of two scenarios: both run on the same random numbers (run r of A and of "
      "B "
      "share them); every outcome's probabilities, their difference B - A with paired and unpaired "
      "95% intervals");
  cmd->add_option("A", a.a,
                  "Scenario A (TOML; experiments/scenarios/baseline.toml for the baseline)")
      ->required();
  cmd->add_option("B", a.b, "Scenario B (TOML)")->required();
  const auto sets = [cmd](const char* name, std::vector<std::string>& into, const char* help) {
    cmd->add_option(name, into, help)
        ->take_last()
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  sets("--set", a.sets,
       "Override a parameter on both sides, e.g. --set negotiation.rounds=10 (repeatable)");
  sets("--set-a", a.sets_a, "Override a parameter on side A only, after --set (repeatable)");
  sets("--set-b", a.sets_b, "Override a parameter on side B only, after --set (repeatable)");
  cmd->add_option("--runs", a.runs,
                  "Runs per scenario (pairs; default: A's [run] runs, else 1000000)")
      ->check(in_range(RUNS_RANGE));
  cmd->add_option("--seed", a.seed, "Master seed of both sides (default: A's, else 1)")
      ->check(in_range(SEED_RANGE));
  cmd->add_option("--threads", a.threads, "Worker threads (default: all cores)")
      ->check(in_range(THREADS_RANGE));
  cmd->add_flag("--json", a.json, "Print the comparison as JSON on stdout, nothing else");
  cmd->add_flag("--quiet", a.quiet, "No progress or timing on stderr");
  cmd->footer(EXIT_CODES_HELP);
  return cmd;
}

// ---- wedge calibrate (experiments/calibrate.hpp, docs/calibration.md) ----
struct CalibrateArgs {
  ExperimentArgs exp;
  CalibrationOverrides overrides;
  unsigned threads = 0;
  bool json = false;
  bool quiet = false;
};

int command_calibrate(const CalibrateArgs& args) {
  const Experiment e = resolve(source_of(args.exp));
  const CalibrationSettings settings =
      calibration_settings(args.exp.file, "", args.exp.file, args.overrides);
  engine::CancelToken cancel;
  const engine::SignalGuard signals(cancel);
  const auto result =
      calibrate(e, settings,
                model_counter(settings.histories, args.threads, &cancel, args.quiet || args.json));
  if (result.interrupted) {
    fmt::print(stderr, "error: interrupted by {}; nothing was written\n",
               cancel.signal() == SIGTERM ? "SIGTERM" : "SIGINT");
    return EXIT_INTERRUPTED;
  }
  if (args.json) {
    std::fputs(calibration_json(result).c_str(), stdout);
  } else {
    print_calibration(stdout, result);
  }
  return EXIT_OK;
}

void add_calibrate_command(CLI::App& app, CalibrateArgs& a, CLI::App*& cmd) {
  cmd = app.add_subcommand("calibrate",
                           "History matching: the posterior of the swept keys (uniform on their "
                           "[min, max]) given an observed history (docs/calibration.md)");
  add_experiment_options(cmd, a.exp, false,
                         "Experiment file (TOML) whose [sweep] keys with min/max are the prior; "
                         "its [calibrate] table sets what the options below override");
  cmd->get_option("experiment")->required();
  cmd->add_option(
         "--history", a.overrides.histories,
         "The observed history, e.g. format=declaration,islands_promised=2,threat_round!=0 "
         "(alternatives "
         "a|b, ranges lo..hi); repeat for several independent observations (default: the file's "
         "[calibrate.history], else 1956's)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--design", a.overrides.design,
                  "The first stage's design of the prior: sobol (default) or lhs")
      ->check(CLI::IsMember({"sobol", "lhs"}));
  cmd->add_option("--points", a.overrides.points, "Design points of the first stage (default 256)")
      ->check(in_range(CALIBRATE_POINTS_RANGE));
  cmd->add_option("--runs", a.overrides.runs, "Runs per design point (default 2000)")
      ->check(in_range(CALIBRATE_RUNS_RANGE));
  cmd->add_option("--refine", a.overrides.refine,
                  "Refinement stages drawn from the current posterior (default 0)")
      ->check(in_range(CALIBRATE_REFINE_RANGE));
  cmd->add_option("--refine-points", a.overrides.refine_points,
                  "Points per refinement stage (default: --points)")
      ->check(in_range(CALIBRATE_REFINE_POINTS_RANGE));
  cmd->add_option("--defensive", a.overrides.defensive,
                  "Share of the prior in each refinement proposal (default 0.1)")
      ->check(in_range(CALIBRATE_DEFENSIVE_RANGE));
  cmd->add_option("--draws", a.overrides.draws,
                  "Redraws of the likelihoods for the Monte Carlo intervals (default 200)")
      ->check(in_range(CALIBRATE_DRAWS_RANGE));
  cmd->add_option("--top", a.overrides.top, "Most likely points listed (default 10)")
      ->check(in_range(CALIBRATE_TOP_RANGE));
  cmd->add_option("--threads", a.threads, "Worker threads (default: all cores)")
      ->check(in_range(THREADS_RANGE));
  cmd->add_flag("--json", a.json, "Print the result as JSON on stdout, nothing else");
  cmd->add_flag("--quiet", a.quiet, "No progress on stderr");
  cmd->footer(EXIT_CODES_HELP);
}

int command_validate(const ExperimentArgs& args) {
  refuse_idle_crn(args, "validate runs nothing (run, trace and calibrate take --crn)");
  // Every problem of the file, in line order (a run stops at the first).
  if (const auto problems = experiment_problems(args.file, args.sets); !problems.empty()) {
    for (const auto& p : problems) fmt::print(stderr, "error: {}\n", printable(p));
    return EXIT_BAD_INPUT;
  }
  const Experiment e = resolve(source_of(args));
  for (const auto& w : e.warnings) fmt::print(stderr, "warning: {}\n", w);
  if (const auto note = first_batch_note(args, e); !note.empty())
    fmt::print(stderr, "note: {}\n", note);
  const std::uint64_t points = e.points.size();
  fmt::print(
      "{}: valid; design {} with {}{}; {}, seed {}\n", args.file, design_name(e.sweep.design),
      counted(points, "point"),
      e.swept_keys.empty() ? "" : " over " + counted(e.swept_keys.size(), "key"),
      // Precision mode: the runs a point gets first (run.runs is not used there), and the cap.
      e.run.precision
          ? fmt::format("precision target {}: a first batch of {} replicates per point (--runs, "
                        "else 10000, in whole blocks of {}), at most {}",
                        *e.run.precision, first_batch_runs(args.runs, e),
                        engine::DEFAULT_BLOCK_SIZE, e.run.max_runs)
          : counted(e.run.runs, "replicate") + " per point",
      e.run.seed);
  if (!e.run.precision) fmt::print("total runs: {}\n", points * e.run.runs);
  const std::uint64_t runs = e.run.precision ? e.run.max_runs : e.run.runs;
  const bool precision = e.run.precision.has_value();
  const auto with_records =
      estimate_needs(e, {runs, 1.0, true, true, false, e.run.runs, precision});
  // --store rounds: the estimate `wedge run` checks against the free space (check_needs), from one
  // round a run (every run plays round 1) to negotiation.rounds rounds a run.
  const auto with_rounds =
      estimate_needs(e, {runs, 1.0, true, true, false, e.run.runs, precision, true});
  fmt::print(
      "estimates{}: memory about {} ({} without --out); a results file about {} with per-run "
      "records, {} with --store summary, {} to {} with --store rounds (as the runs play 1 to "
      "negotiation.rounds rounds)\n",
      e.run.precision ? " (at --max-runs)" : "", byte_text(with_records.memory_bytes),
      byte_text(
          estimate_needs(e, {runs, 1.0, false, false, false, e.run.runs, precision}).memory_bytes),
      byte_text(with_records.file_bytes),
      byte_text(
          estimate_needs(e, {runs, 1.0, true, false, false, e.run.runs, precision}).file_bytes),
      byte_text(with_rounds.file_bytes_min), byte_text(with_rounds.file_bytes));
  return EXIT_OK;
}

std::string version_text() {
  return fmt::format(
      "wedge {} (git {}, {} build)\nmodel: {} version {} (MODEL.md); results arithmetic "
      "version {}; kernel on this CPU: {}\n"
      "libraries: oneTBB {} (runtime {}), Boost {}.{}.{}, Random123 (Philox4x32-10), fmt {}.{}.{}, "
      "CLI11 {}, HDF5 {}\ncompiler: g++ {}.{}.{}",
      VERSION, GIT_COMMIT, BUILD_TYPE, TugOfWar::NAME, TugOfWar::VERSION,
      output::ARITHMETIC_VERSION, agents::kernel_name(), TBB_VERSION_STRING, TBB_runtime_version(),
      BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, FMT_VERSION / 10000,
      FMT_VERSION / 100 % 100, FMT_VERSION % 100, CLI11_VERSION, output::h5::library_version(),
      __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
}

CLI::App* add_run_command(CLI::App& app, RunArgs& a) {
  auto* run = app.add_subcommand("run",
                                 "Run the experiment (the baseline scenario by default) and "
                                 "print its outcome table");
  add_experiment_options(run, a.exp, true,
                         "Experiment file (TOML); without one, the baseline scenario of MODEL.md");
  run->add_option("--out", a.out,
                  "Write the results to this HDF5 file (via FILE.partial, renamed when complete)")
      ->check(non_empty());
  run->add_flag("--force", a.force, "Overwrite an existing results file (or its .partial)");
  run->add_flag("--resume", a.resume,
                "Continue the interrupted run of FILE.partial (same experiment and seed)");
  run->add_option(
         "--store", a.store,
         "runs: per-run records and summaries (default up to 10^7 runs); summary: summaries only; "
         "rounds: per-run records and every run's rounds (A, offer, Dulles, supports, F, m_SG)")
      ->check(CLI::IsMember({"runs", "summary", "rounds"}));
  run->add_option(
         "--shard", a.shard,
         "Run only shard i of K (0 <= i < K) of the plan, e.g. --shard 2/8 (for job arrays; "
         "combine the parts with `wedge merge`)")
      ->check(non_empty());
  run->add_option("--compression", a.compression,
                  "Per-run records: none (default, fastest) or deflate (shuffle + deflate: about a "
                  "quarter of the size, slower to write)")
      ->check(CLI::IsMember({"none", "deflate"}));
  run->add_option("--threads", a.threads, "Worker threads (default: all cores)")
      ->check(in_range(THREADS_RANGE));
  run->add_flag("--json", a.json, "Print the results as JSON on stdout, nothing else");
  run->add_flag("--quiet", a.quiet, "No progress or timing on stderr");
  run->add_option("--precision", a.precision,
                  "Add replicates until every category probability of the precision outcomes "
                  "has a 95% interval half-width <= E at every point")
      ->check(in_range(PRECISION_RANGE));
  run->add_option("--max-runs", a.max_runs,
                  "Replicate cap per design point in precision mode (default 10000000)")
      ->check(in_range(MAX_RUNS_RANGE));
  // Split by comma_items, not CLI11's delimiter, which drops empty items ("format,").
  run->add_option("--precision-outcomes", a.precision_outcomes,
                  "Outcomes the precision target applies to, comma-separated (default: "
                  "format,alliance)");
  // Tuning and testing: hidden from --help (docs/design.md, "Test seams").
  run->add_option("--grain", a.grain, "Blocks per TBB task (tuning; never changes results)")
      ->check(hidden_in_range(IntegerRange{"grain", 1, 1u << 20}, "--grain"))
      ->group("");
  run->add_option("--wave", a.wave, "Blocks per wave (tuning; never changes results)")
      ->check(hidden_in_range(IntegerRange{"wave", 1, 1u << 20}, "--wave"))
      ->group("");
  run->add_option("--checkpoint-seconds", a.checkpoint_seconds,
                  "Seconds between checkpoints of the results file (testing)")
      ->check(hidden_in_range(RealRange{"checkpoint_seconds", 0.0, 3600.0}, "--checkpoint-seconds"))
      ->group("");
  run->add_option("--interrupt-write-seconds", a.interrupt_write_seconds,
                  "When interrupted, write the final checkpoint only if checkpoints took at most "
                  "this long (default 0.25)")
      ->check(hidden_in_range(RealRange{"interrupt_write_seconds", 0.0, 3600.0},
                              "--interrupt-write-seconds"))
      ->group("");
  run->add_option("--test-stop-after-blocks", a.testing.stop_after_blocks,
                  "Stop as if interrupted after N blocks")
      ->check(non_negative("test-stop-after-blocks"))
      ->group("");
  run->add_option("--test-stop-after-checkpoints", a.testing.stop_after_checkpoints,
                  "Stop as if interrupted at the wave boundary after the N-th checkpoint")
      ->check(non_negative("test-stop-after-checkpoints"))
      ->group("");
  run->add_option("--test-fail-rank", a.testing.fail_rank, "Under mpirun: this rank fails at once")
      ->group("");
  run->add_option("--test-crash-at", a.testing.crash_at,
                  "STEP[:N]: SIGKILL at the N-th write step STEP")
      ->group("");
  run->add_option("--test-fail-at", a.testing.fail_at,
                  "STEP[:N]: a write failure at the N-th write step STEP")
      ->group("");
  run->add_option("--test-disk-full-at", a.testing.disk_full_at,
                  "BYTES: the results file cannot grow past BYTES (ENOSPC)")
      ->group("");
  run->add_option("--test-io-error-at", a.testing.io_error_at_bytes,
                  "BYTES: the first write past BYTES of the results file fails (EIO)")
      ->group("");
  run->add_option("--test-io-error-at-write", a.testing.io_error_at_write,
                  "N: the N-th write to the results file fails (EIO)")
      ->group("");
  run->footer(EXIT_CODES_HELP);
  return run;
}

/// The usage line and an example of each command with a required argument, printed after
/// CLI11's "X is required"; nullptr for the others.
const char* command_usage(const std::string& command) {
  static const std::array<std::pair<const char*, const char*>, 5> usages{{
      {"merge",
       "usage: wedge merge SHARD.h5... --out FILE.h5: the K shard files of one run (written by "
       "`wedge run --shard i/K`, any order) and the merged file, e.g.\n"
       "  wedge merge part-0.h5 part-1.h5 --out results.h5"},
      {"inspect",
       "usage: wedge inspect FILE.h5 (or FILE.h5.partial) [--json], e.g.\n"
       "  wedge inspect results/baseline.h5"},
      {"validate",
       "usage: wedge validate EXPERIMENT.toml [--set KEY=VALUE]..., e.g.\n"
       "  wedge validate experiments/sweeps/threat_rewards_grid.toml"},
      {"compare",
       "usage: wedge compare A.toml B.toml [--runs N], e.g.\n"
       "  wedge compare experiments/scenarios/baseline.toml "
       "experiments/scenarios/c2_no_okinawa_threat.toml"},
      {"calibrate",
       "usage: wedge calibrate EXPERIMENT.toml [--history FIELD=CATEGORY]..., e.g.\n"
       "  wedge calibrate experiments/calibrate/history_1956.toml"},
  }};
  for (const auto& [name, usage] : usages) {
    if (command == name) return usage;
  }
  return nullptr;
}

/// " (did you mean 'run'?)" for the first word CLI11 did not expect that is close to a command's
/// name (when no command was recognised: `wedge runn`) or to one of the command's options
/// (`wedge run --rnus 5`); "" when none is close (as every other "did you mean" of wedge).
std::string extras_suggestion(CLI::App& app) {
  const auto parsed = app.get_subcommands([](CLI::App* a) { return a->parsed(); });
  const CLI::App& where = parsed.empty() ? app : *parsed.front();
  std::vector<std::string> candidates;
  if (parsed.empty()) {
    for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
      candidates.push_back(sub->get_name());  // (get_subcommands() lists only the parsed ones)
  } else {
    for (const auto* opt : where.get_options()) {
      if (opt->get_group().empty()) continue;  // hidden: the test seams
      for (const auto& name : opt->get_lnames()) candidates.push_back("--" + name);
    }
  }
  for (std::string word : where.remaining()) {
    if (parsed.empty() == word.starts_with("-")) continue;  // commands are words, options dashed
    if (const auto eq = word.find('='); eq != std::string::npos) word.resize(eq);
    std::string best;
    std::size_t distance = std::string::npos;
    for (const auto& c : candidates) {
      if (const auto d = agents::edit_distance(word, c); d < distance) {
        distance = d;
        best = c;
      }
    }
    if (!best.empty() && agents::close_match(word, distance))
      return fmt::format(" (did you mean '{}'?)", best);
  }
  return {};
}

/// The exit code of the command; `failure_agreed`: see command_run_distributed.
/// Writes a message to standard error, ignoring a failed write (a full disk under a redirected
/// stderr): the exit code still says what happened, where fmt::print would throw from the very
/// handler that reports an error and end the process by std::terminate.
void say(const std::string& text) noexcept {
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

int run_cli_in(int argc, char** argv, const mpi::World& world, bool& failure_agreed) {
  CLI::App app{"wedge: agent-based Monte Carlo of the Soviet-US tug of war over Japan, 1955-56"};
  app.footer(EXIT_CODES_HELP);
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", version_text());

  RunArgs run_args;
  auto* run = add_run_command(app, run_args);

  ExperimentArgs validate_args;
  auto* validate =
      app.add_subcommand("validate", "Check an experiment file; print the resolved design size");
  add_experiment_options(validate, validate_args, true, "The experiment file (TOML) to check");
  validate->get_option("experiment")->required();
  // Parsed but not listed: validate runs nothing, and refuses --crn saying so (refuse_idle_crn).
  validate->get_option("--crn")->group("");

  bool params_json = false;
  ExperimentArgs params_args;
  auto* params =
      app.add_subcommand("params",
                         "List every parameter (and the factions) of the scenario in force: "
                         "value, valid range, meaning");
  params->add_option("experiment", params_args.file,
                     "Experiment file (TOML); without one, the baseline scenario");
  params
      ->add_option("--set", params_args.sets,
                   "Override a parameter, e.g. --set dulles.tact=0.9 (repeatable)")
      ->take_last()
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  params->add_flag("--json", params_json, "As JSON");

  std::string inspect_path;
  bool inspect_json = false;
  auto* inspect = app.add_subcommand(
      "inspect", "Summary table of a results file (complete, partial or damaged)");
  inspect->add_option("file", inspect_path, "Results file (.h5 or .h5.partial)")
      ->required()
      ->check(non_empty());
  inspect->add_flag("--json", inspect_json,
                    "As JSON (the format of `run --json`, with the file's status)");

  std::vector<std::string> merge_parts;
  std::string merge_out;
  bool merge_force = false;
  auto* merge = app.add_subcommand(
      "merge", "Merge the shard files of one run (--shard i/K) into one results file");
  merge->add_option("parts", merge_parts, "Shard files (all K of them, any order)")->required();
  merge->add_option("--out", merge_out, "The merged results file")->required()->check(non_empty());
  merge->add_flag("--force", merge_force, "Overwrite an existing file");
  merge->footer(EXIT_CODES_HELP);

  CalibrateArgs calibrate_args;
  CLI::App* calibrate_cmd = nullptr;
  add_calibrate_command(app, calibrate_args, calibrate_cmd);

  TraceArgs trace_args;
  auto* trace = app.add_subcommand("trace", "Replay one run of the ensemble and tell its story");
  add_experiment_options(trace, trace_args.exp, false,
                         "Experiment file (TOML); without one, the baseline scenario of MODEL.md");
  trace->add_option("--point", trace_args.point, "Design point (default 0)")
      ->check(in_range(POINT_RANGE));
  trace->add_option("--replicate", trace_args.replicate, "Replicate (default 0)")
      ->check(in_range(REPLICATE_RANGE));
  trace->add_flag("--json", trace_args.json, "As JSON");
  trace->add_option("--where", trace_args.where,
                    "Trace the first replicate of the point whose outcome matches, e.g. "
                    "format=treaty,alliance=strained "
                    "(categorical outcomes and their categories as in results files)");
  trace
      ->add_option("--where-limit", trace_args.where_limit,
                   "Replicates --where scans at most (default 10000000)")
      ->check(in_range(IntegerRange{"where-limit", 1, 1ull << 32}));
  trace->footer(
      "Exit codes: 0 success, 2 bad input, 4 --where found no match within --where-limit "
      "replicates.");

  CheckArgs check_args;
  auto* check =
      app.add_subcommand("check",
                         "Run MODEL.md §7's validation targets (V1-V7; C1-C4, C7 as paired "
                         "differences) and print each with its estimate, 99% interval, verdict");
  add_experiment_options(
      check, check_args.exp, true,
      "Experiment file (TOML) of one scenario; without one, the baseline of MODEL.md",
      IntegerRange{"runs", 1, agents::MAX_CHECK_RUNS});
  check->get_option("--runs")->description(
      "Replicates per scenario (default 1000000, as MODEL.md §7 asks; at most 10^7)");
  // Parsed but not listed: a check always pairs its scenarios, and refuses --crn saying so.
  check->get_option("--crn")->group("");
  check->add_flag("--as-baseline", check_args.as_baseline,
                  "Judge the scenario as the baseline: V1-V7 on it, each C target's change applied "
                  "on top of it");
  check->add_flag("--json", check_args.json, "As JSON");
  check->footer(
      "A target applies to the baseline, a C target also to its own counterfactual (or to any "
      "scenario "
      "with --as-baseline). Exit codes: 0 every applicable target passes (also when none applies), "
      "4 one "
      "fails, 2 bad input, 130 interrupted.");

  CompareArgs compare_args;
  auto* compare = add_compare_command(app, compare_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string message = e.what();
    if (message.starts_with(": ")) message.erase(0, 2);  // a hidden option: its validator names it
    // A missing argument: what the command needs, and an example.
    // CLI11 names a missing positional argument by its internal name ("parts is required"):
    // said with the usage line's name for it instead.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> ARGUMENTS{{
        {"parts", "SHARD.h5... (the shard files)"},
        {"file", "FILE.h5 (the results file)"},
        {"experiment", "EXPERIMENT.toml (the experiment file)"},
        {"A", "A.toml (scenario A)"},
        {"B", "B.toml (scenario B)"},
    }};
    std::string usage;
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      for (const auto* sub : app.get_subcommands([](CLI::App* a) { return a->parsed(); })) {
        if (const auto* u = command_usage(sub->get_name()); u != nullptr)
          usage = fmt::format("\n{}\n(`wedge {} --help` says more)", u, sub->get_name());
        for (const auto& [name, words] : ARGUMENTS) {
          if (message == fmt::format("{} is required", name)) {
            message =
                fmt::format("`wedge {}` needs {}, and none was given", sub->get_name(), words);
          }
        }
      }
    }
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) message += extras_suggestion(app);
    say(fmt::format("error: {}{}\n", printable(message), usage));
    return EXIT_BAD_INPUT;
  }

  try {
    run_args.precision_outcomes_given = run->get_option("--precision-outcomes")->count() > 0;
    if (run_args.precision_outcomes_given)
      run_args.precision_outcomes =
          comma_items("--precision-outcomes", run_args.precision_outcomes);
    for (const char* seam : FILE_SEAMS)
      if (run->count(seam) > 0) run_args.testing.given.emplace_back(seam);
    if (run->count("--test-fail-rank") > 0) run_args.testing.given.emplace_back("--test-fail-rank");
    if (*run) return command_run(run_args, command_line_text(argc, argv), world, failure_agreed);
    if (*inspect) return command_inspect(inspect_path, inspect_json);
    if (*merge)
      return command_merge(merge_parts, merge_out, merge_force, command_line_text(argc, argv));
    if (*params) return command_params(params_json, params_args);
    if (*validate) return command_validate(validate_args);
    if (*trace && trace->count("--where-limit") > 0 && trace->count("--where") == 0)
      throw ConfigError("--where-limit applies to --where only: add --where field=category");
    if (*trace)
      return command_trace(trace_args, trace->count("--replicate") > 0,
                           trace->count("--where") > 0);
    if (*calibrate_cmd) return command_calibrate(calibrate_args);
    if (*check) return command_check(check_args);
    if (*compare) return command_compare(compare_args);
    // No subcommand: the help, as an error (`wedge --help` is the way to ask for it).
    fmt::print(stderr, "{}\nerror: a command is required (the commands are listed above)\n",
               app.help());
    return EXIT_BAD_INPUT;
  } catch (const ConfigError& e) {
    say(fmt::format("error: {}\n", printable(e.what())));
    return EXIT_BAD_INPUT;
  } catch (const OutputError& e) {
    say(fmt::format("error: {}\n", printable(e.what())));
    return EXIT_OUTPUT;
  } catch (const Interrupted& e) {
    std::fflush(stdout);
    say(fmt::format("error: {}\n", printable(e.what())));
    return EXIT_INTERRUPTED;
  } catch (const std::filesystem::filesystem_error& e) {
    say(fmt::format("error: internal: {}\n", printable(e.what())));
    return 1;
  } catch (const std::system_error& e) {
    // fmt::print's failure to write the table or a message (standard output or error on a full
    // disk, a closed pipe): an output error, not an internal one, and never an abort.
    say(fmt::format("error: cannot write to the standard output or error: {}\n",
                    printable(e.what())));
    return EXIT_OUTPUT;
  } catch (const std::exception& e) {
    say(fmt::format("error: internal: {}\n", printable(e.what())));
    return 1;
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  // A file-size limit (ulimit -f) should be a write error we report, not a signal that kills us.
  std::signal(SIGXFSZ, SIG_IGN);
  output::h5::quiet_errors();  // before HDF5 initialises: no HDF5 exit handler, no error printing
  const mpi::World world = mpi::init(&argc, &argv);
  bool failure_agreed = false;
  int code = EXIT_OUTPUT;
  try {
    code = run_cli_in(argc, argv, world, failure_agreed);
  } catch (const std::system_error& e) {
    // A message that could not be written outside run_cli_in's handlers (they use say()).
    say(fmt::format("error: cannot write to the standard output or error: {}\n", e.what()));
  }
  // The table or document on standard output, buffered until now: a failed write (a full disk,
  // /dev/full) is an output error, not a success whose output was lost.
  if ((std::fflush(stdout) != 0 || std::ferror(stdout) != 0) && code == EXIT_OK) {
    say(fmt::format("error: cannot write to the standard output: {}\n", std::strerror(errno)));
    code = EXIT_OUTPUT;
  }
  if (world.size > 1 && code != EXIT_OK && !failure_agreed) {
    // One rank failed: end the whole job now, so that no rank waits and nothing is merged.
    say(fmt::format("error: rank {} of {} failed (exit code {}); stopping every rank\n", world.rank,
                    world.size, code));
    mpi::abort(world, code);
  }
  mpi::finalize(world);
  return code;
}

}  // namespace wedge::experiments
