#pragma once
/// The application layer: one way to run an experiment, whoever asks (the command line, the Python
/// module, MPI ranks). Front ends parse and print; this does the rest:
///
///   resolve   Experiment e = resolve(source);       the file, overrides and the design
///   plan      Session session(std::move(e), opts);  validates everything; nothing runs or is
///   written execute   session.open(); session.execute(h);   lock, results file, runs, records to
///   sinks report    SessionResult r                       summaries, runs, interrupted, the file
///   written
///
/// No global state: two Sessions may run in two threads at once, each with its own cancellation
/// token, sinks and results file. What is process-wide is oneTBB's thread limit (a Session with
/// `threads` set holds a tbb::global_control while it executes; concurrent limits combine as their
/// minimum) and signal handlers (engine::SignalGuard: the command line installs one, nothing else).
#include "agents/tug_of_war.hpp"
#include "engine/cancel.hpp"
#include "engine/plan.hpp"
#include "engine/precision.hpp"
#include "engine/progress.hpp"
#include "engine/runner.hpp"
#include "experiments/experiment.hpp"
#include "output/file_driver.hpp"
#include "output/results.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wedge::experiments {

using RecordSink = engine::RecordSink<agents::RunRecord>;

/// Where an experiment comes from, and what the caller overrides.
struct ExperimentSource {
  std::string file;                        ///< an experiment file ("" = `text`, or the baseline)
  std::string text;                        ///< experiment TOML, used when `file` is ""
  std::string text_name = "<experiment>";  ///< names `text` in error messages
  /// When set, `text` may use `extends`, a file relative to this directory (wedge.simulate's dict).
  std::optional<std::string> text_base;
  std::vector<std::string> sets;      ///< "key=value" overrides of scenario keys
  std::string set_option = "--set";   ///< how errors name one of `sets` ("set item" in Python)
  std::optional<std::uint64_t> runs;  ///< replicates per point, [1, 2^32]
  std::optional<std::uint64_t> seed;
  std::optional<bool> crn;
  std::optional<double> precision;        ///< 95% half-width target, [1e-6, 0.5]
  std::optional<std::uint64_t> max_runs;  ///< precision mode's cap per point, [1, 2^32]
};

/// The experiment the source names, with its overrides applied and its design resolved. Throws
/// ConfigError (file, line, key, value, valid range) for anything invalid.
Experiment resolve(const ExperimentSource& source);

/// Shard `index` of `count`: the index-th of `count` contiguous, balanced ranges of the plan's
/// blocks.
struct Shard {
  std::uint64_t index = 0;
  std::uint64_t count = 1;
};
/// Parses "i/K" (0 <= i < K <= 10^6); ConfigError naming `--shard` otherwise.
Shard parse_shard(const std::string& text);

/// The results file of a session.
struct OutputSettings {
  /// rounds: per-run records and every run's rounds (/rounds, docs/output-format.md).
  enum class Store { automatic, runs, summary, rounds };
  std::string path;                 ///< "" = no file
  bool force = false;               ///< overwrite FILE (or FILE.partial)
  bool resume = false;              ///< continue FILE.partial
  Store store = Store::automatic;   ///< automatic: records up to 10^7 runs
  bool compress = false;            ///< shuffle + deflate on /runs
  double checkpoint_seconds = 2.0;  ///< between checkpoints
  std::string command_line;         ///< recorded in the file
  /// When interrupted, the final checkpoint is written only if checkpoints took at most this
  /// long (ResultsSink::final_checkpoint_within); else the file stays at its last checkpoint, so
  /// that SIGTERM ends a run of 10^5 points at once, not after a 2.4 GB write.
  double interrupt_write_seconds = 0.25;
};

/// Test seams (docs/design.md, "Test seams"): deterministic stops and fault injection for tests.
/// Zero/null (the default) means off; production front ends set them only from hidden options.
struct TestSeams {
  /// Stop, as an interruption does, after exactly this many blocks of this execution.
  std::uint64_t stop_after_blocks = 0;
  /// Stop, as an interruption does, at the first wave boundary after this many checkpoints were
  /// named (deterministic for a fixed wave size and checkpoint_seconds = 0).
  std::uint64_t stop_after_checkpoints = 0;
  /// Told of every step of the results file's write protocol (may throw or end the process).
  output::WriterProbe* writer_probe = nullptr;
  /// A full or failing disk under the results file, once it is created (its skeleton on disk) or
  /// reopened to resume.
  output::h5::DiskFault disk_fault;
};

/// Runs one batch of blocks on this process: merges each block's summary into `summaries` in plan
/// order and streams the records to `sink` (may be null).
using LocalRunner =
    std::function<engine::RunReport(std::span<const engine::Block>, std::vector<engine::Summary>&,
                                    const engine::RunOptions&, RecordSink*)>;
/// How a precision-mode batch is executed: given the batch, the global summaries, the run options,
/// the sink and the local runner. The default runs it here; MPI shares it among the ranks.
using BatchExecutor =
    std::function<engine::RunReport(std::span<const engine::Block>, std::vector<engine::Summary>&,
                                    const engine::RunOptions&, RecordSink*, const LocalRunner&)>;

/// How to execute an experiment: everything besides the experiment itself.
struct SessionOptions {
  unsigned threads = 0;  ///< worker threads, [1, 1024]; 0 = all cores
  std::vector<std::string> precision_outcomes{"format", "alliance"};
  /// Precision mode's first batch per point (default: min(10,000, max_runs)).
  std::optional<std::uint64_t> first_batch;
  Shard shard;            ///< a fixed plan's share; recorded in the file
  std::size_t grain = 1;  ///< blocks per TBB task (never changes results)
  std::size_t wave = 0;   ///< blocks per wave, 0 = automatic (never changes results)
  OutputSettings output;
  /// The caller keeps every record in memory (the Python module's records=True): counted in the
  /// memory estimate that the Session checks before any work.
  bool keeps_records = false;
  BatchExecutor batch_executor;  ///< precision mode (default: this process)
  TestSeams testing;
};

/// What a caller attaches to one execution; all optional.
struct ExecutionHooks {
  const engine::CancelToken* cancel = nullptr;  ///< polled at wave boundaries
  RecordSink* records = nullptr;                ///< every run's record, in plan order
  engine::Progress* progress = nullptr;         ///< runs done of the planned total
};

/// What precision mode reached (README, "Precision mode"): the target E, the replicate cap,
/// whether every point's category probabilities of the precision outcomes have a 95% half-width
/// <= E, and the widest such half-width over the points (in [0, 0.5]).
struct PrecisionOutcome {
  double target = 0.0;
  std::uint64_t max_runs = 0;
  bool reached = false;
  double widest_half_width = 0.0;
};

/// What an execution did.
struct SessionResult {
  std::vector<engine::Summary> summaries;     ///< one per design point (a shard's: zero outside it)
  std::uint64_t runs_done = 0;                ///< by this execution
  std::uint64_t runs_resumed = 0;             ///< already in the resumed file
  std::uint64_t runs_planned = 0;             ///< 0 in precision mode
  bool interrupted = false;                   ///< stopped by the cancellation token or a test seam
  int signal = 0;                             ///< the signal that cancelled it (0: none, or code)
  bool precision_met = true;                  ///< precision mode: every point met the target
  std::optional<PrecisionOutcome> precision;  ///< precision mode: what was reached
  std::string path;  ///< the file written (FILE, or FILE.partial if interrupted; "" none)
  /// Interrupted, and the final checkpoint was not written (it would have taken longer than
  /// OutputSettings::interrupt_write_seconds): the runs the file holds, those of its last
  /// checkpoint (resumed ones included); --resume redoes the rest.
  std::optional<std::uint64_t> runs_kept;
};

/// One experiment's execution. Not copyable; one execution per Session.
class Session {
 public:
  /// Validates the options against the experiment (outcome names, shard, store, output path and
  /// flags); throws ConfigError (bad input) or OutputError (the output path) before anything runs.
  Session(Experiment experiment, SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Experiment& experiment() const noexcept { return experiment_; }
  const SessionOptions& options() const noexcept { return options_; }
  /// The blocks this session runs (a shard's share; once opened to resume, those still to run;
  /// precision mode: none planned in advance), computed on demand: no memory per block.
  const engine::BlockRange& blocks() const noexcept { return blocks_; }
  /// Runs planned for this session (its shard's); 0 in precision mode.
  std::uint64_t planned_runs() const noexcept { return planned_; }
  /// Whether the results file keeps per-run records.
  bool stores_runs() const noexcept { return store_runs_; }
  /// A warning about the resources the run needs (a results file above 1 GB), or "": front ends
  /// show it unless asked to be quiet. What this machine cannot give was refused already.
  const std::string& resource_warning() const noexcept { return resource_warning_; }

  /// Takes the output lock and creates the results file (or reopens FILE.partial to resume it,
  /// after checking that it holds this experiment and seed). Returns the runs already done (0 for
  /// a new file). Throws OutputError. Without an output file it does nothing.
  std::uint64_t open();
  /// Runs the plan (or precision batches) and finishes the results file: renamed to FILE when
  /// complete, kept as FILE.partial when interrupted. Calls open() first if it was not called.
  SessionResult execute(const ExecutionHooks& hooks = {});

 private:
  struct Output;
  engine::RunReport run_batch(std::span<const engine::Block> blocks,
                              std::vector<engine::Summary>& summaries,
                              const engine::RunOptions& options, RecordSink* sink) const;
  engine::PrecisionReport run_plan(std::vector<engine::Summary>& summaries,
                                   const engine::RunOptions& options, RecordSink* sink) const;

  Experiment experiment_;
  SessionOptions options_;
  engine::BlockRange blocks_;
  std::uint64_t planned_ = 0;
  bool store_runs_ = true;
  std::string resource_warning_;
  std::unique_ptr<Output> output_;
  bool opened_ = false;
  bool executed_ = false;
};

/// The outcome of precision mode for these summaries; nullopt when the experiment has no target.
/// Precision mode: the runs each point gets in the first batch, as the session makes it (`runs` if
/// given, else 10,000 at most run.max_runs: Session::run; then engine::next_replicates of a
/// point with no runs: whole blocks of 2,048, at most run.max_runs).
std::uint64_t first_batch_runs(std::optional<std::uint64_t> runs, const Experiment& e);

/// Precision mode with `runs` given: a note when the first batch (first_batch_runs) is not `runs`
/// runs a point ("--runs 100 is precision mode's first batch, which ends on whole blocks of 2048
/// runs: each point runs 2048 in its first batch"); "" otherwise, and outside precision mode.
/// `runs_name` and `max_runs_name` name the settings as the caller's user gives them ("--runs "
/// on the command line, "runs=" in Python), directly followed by the value.
std::string first_batch_note(std::optional<std::uint64_t> runs, const Experiment& e,
                             std::string_view runs_name, std::string_view max_runs_name);

std::optional<PrecisionOutcome> precision_outcome(const Experiment& e,
                                                  const std::vector<std::string>& outcomes,
                                                  const std::vector<engine::Summary>& summaries);

/// {"target": E, "max_runs": N, "reached": bool, "widest_half_width": w}: the "precision" member of
/// the JSON documents (`run --json`, `inspect --json`, wedge.simulate()).
nlohmann::ordered_json precision_json(const PrecisionOutcome& p);

/// The one-line warning of a missed target (printed even with --quiet: the results are valid, but
/// less precise than asked). `python`: worded for wedge.simulate() ("max_runs=", not "--max-runs").
std::string precision_warning(const PrecisionOutcome& p, bool python = false);

/// Writes the root attributes precision_target, precision_max_runs, precision_reached (0/1) and
/// precision_widest_half_width to the results file `path` (docs/output-format.md).
void write_precision_attributes(const std::string& path, const PrecisionOutcome& p);

/// Checks that the output flags fit together and with the experiment (ConfigError): --resume is
/// not available in precision mode; --resume, --force and --store need a path; --compression
/// needs per-run records in a file (a path, and a store that keeps them).
void check_output_settings(const Experiment& e, const OutputSettings& out);

/// Checks, before any work, that `out` can be written: its directory exists and is writable, it is
/// not a directory, and it (or out.partial) exists only with `force` (or, with `resume`, only
/// out.partial exists). Throws OutputError.
void check_output_path(const std::string& out, bool force, bool resume);

/// Refuses (ConfigError, naming both) an --out whose file, FILE.partial or FILE.lock is a file the
/// run reads: the experiment file (e.source) or the design's CSV (e.sweep.csv). Either side missing
/// is not a match.
void check_inputs_not_written(const Experiment& e, const std::string& out);

/// True when `--resume` of `out` finds no out.partial but out.partial.new: the run was killed
/// while its file was being created (output::ResultsWriter names the file only once its skeleton
/// is synced), so nothing was run and resuming is starting from zero.
bool resume_from_zero(const std::string& out);

/// Why `wedge run --resume` refuses the partial file `info` whatever the command's options (a
/// model or model version other than this build's; a results arithmetic version other than this
/// build's, or none: output::arithmetic_problem), in --resume's own words (exit code 3); "" when
/// the file alone does not rule it out. `wedge inspect` and wedge.open advise --resume only when
/// this is "".
std::string resume_refusal(const output::ResultsInfo& info);
/// resume_refusal(info), or else, when `stored` (the file's stored experiment, stored_experiment)
/// is written by this build otherwise than the file holds it (a file of another version), the
/// refusal --resume gives every command of it (a different experiment); "" when --resume with the
/// file's own experiment and options continues it. `wedge inspect` and wedge.open advise from it.
std::string resume_refusal(const output::ResultsInfo& info, const Experiment& stored);

/// Why `wedge run --resume` refuses the partial file `info` with any options because its stored
/// experiment `stored` (stored_experiment) contradicts the file's own attributes (`seed`,
/// `replicates`, `crn`): --resume compares the command with both, so a file edited in one place
/// (e.g. run.runs changed with h5py) matches no command. "" when they agree (precision mode's
/// replicates, 0, are not compared). Part of resume_refusal(info, stored); --resume gives it too.
std::string stored_settings_conflict(const output::ResultsInfo& info, const Experiment& stored);

/// resume_refusal(info, stored) of the file at `path`, read as inspect reads its metadata (its
/// checks: OutputError for a damaged file); "" also for a complete file. wedge.open asks it
/// before advising --resume.
std::string resume_refusal_of_file(const std::string& path);

/// Categorical field indices of the named outcomes; ConfigError for an unknown name.
std::vector<int> outcome_fields(const std::vector<std::string>& names);

/// Merges the shard files of one run (`--shard i/K`) into `out` (via out.partial, renamed when
/// complete): ConfigError if the files are not exactly the K shards of one run, OutputError if a
/// file cannot be read or the output written. Returns the merged file's summaries.
std::vector<engine::Summary> merge_results(const std::vector<std::string>& parts,
                                           const std::string& out, bool force,
                                           const std::string& command_line);

/// A results file read back, with its experiment resolved (`wedge inspect`).
struct Inspection {
  output::ResultsInfo info;
  Experiment experiment;
  bool rounds_stored = false;  ///< the file holds every run's rounds (/rounds, --store rounds)
  /// Every per-run record of the runs done (and every round, with rounds_stored) was read, so
  /// each chunk's checksum was checked; false for a summary-only file (it holds no records).
  bool records_verified = false;
};
/// Reads any results file (complete or partial) through the checked layer (output::read_results)
/// and resolves its stored experiment (stored_experiment); opens no other file. OutputError says
/// what is wrong with it ("FILE: damaged: OBJECT: what" for a damaged file). Beyond the metadata,
/// it reads the blocks and every per-run record and round of the runs done (output::verify_runs,
/// output::verify_rounds): HDF5 checks a chunk's checksum only when the chunk is read, so a file
/// with a damaged /runs chunk is refused here, not reported complete. Throws Interrupted when
/// `stop` returns true (asked between slices of records).
Inspection inspect_results(const std::string& path, const std::function<bool()>& stop = {});

/// The checks of inspect_results on the file's metadata, without the child process and without
/// reading the per-run records or rounds: its attributes (format, model, experiment, ...),
/// summaries, checkpoint, design and /blocks (output::read_results, stored_experiment,
/// output::check_rounds, output::verify_blocks). wedge.open calls it (through wedge._core, in its
/// own child process) so that Python refuses every file `wedge inspect` refuses for these.
/// Throws what inspect_results throws.
void check_results_metadata(const std::string& path);

/// The problem output::read_results finds first in the file when it is a `categories` attribute
/// that differs from the model's (output::categories_problem), in inspect's words; "" when the
/// file reads, or when its first problem is another (the caller's own checks word that). The
/// Python package asks it before its own reading, which takes the file's categories as the
/// shape of its tables, so that a damaged list is worded as inspect words it.
std::string categories_problem(const std::string& path);

/// The experiment stored in a results file, resolved without opening any file: refused (as
/// damage) if it names another file (a list design's `csv`, `extends`), does not parse, or has
/// another number of design points or other swept keys than the file's /design, or a /design
/// value (or the root attribute design) other than the stored experiment gives bit for bit (no
/// checksum covers /design: a changed value would label the runs with a setting they never used).
Experiment stored_experiment(const output::ResultsInfo& info);

/// The story of one run (`wedge trace`); ConfigError if `point` is outside the design.
agents::Trace trace(const Experiment& experiment, std::uint32_t point, std::uint64_t replicate);

}  // namespace wedge::experiments
