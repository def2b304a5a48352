#include "experiments/session.hpp"

#include "experiments/resources.hpp"

#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "experiments/session_output.hpp"
#include "output/hdf5.hpp"

#include <fmt/format.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace wedge::experiments {

using agents::TugOfWar;

Experiment resolve(const ExperimentSource& source) {
  Experiment e = !source.file.empty() ? load_experiment(source.file)
                 : !source.text.empty() && source.text_base
                     ? load_experiment_text(source.text, source.text_name, *source.text_base)
                 : !source.text.empty() ? parse_experiment(source.text, source.text_name)
                                        : Experiment{};
  apply_overrides(e, source.sets, source.set_option);
  // The same ranges as the [run] keys of a file (loader.cpp); front ends may check them earlier.
  const auto count = [](const char* key, std::uint64_t v) {
    if (v < 1 || v > engine::MAX_REPLICATES) {
      throw ConfigError(fmt::format("{} = {}: must be in [1, {}]", key, v, engine::MAX_REPLICATES));
    }
    return v;
  };
  if (source.runs) e.run.runs = count("runs", *source.runs);
  if (source.max_runs) e.run.max_runs = count("max_runs", *source.max_runs);
  if (source.seed) e.run.seed = *source.seed;
  if (source.crn) e.run.crn = *source.crn;
  if (source.precision) {
    if (!(*source.precision >= 1e-6 && *source.precision <= 0.5)) {
      throw ConfigError(
          fmt::format("precision = {}: must be a number in [1e-06, 0.5]", *source.precision));
    }
    e.run.precision = *source.precision;
  }
  check_run_settings(e.run);  // one range per setting, whatever set it (experiment.hpp)
  resolve_design(e);
  return e;
}

Shard parse_shard(const std::string& text) {
  Shard shard;
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t used = 0;
    shard.index = std::stoull(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("index");
    const std::string count = text.substr(slash + 1);
    shard.count = std::stoull(count, &used);
    if (used != count.size()) throw std::invalid_argument("count");
  } catch (const std::exception&) {
    throw ConfigError(
        fmt::format("--shard {}: expected i/K with integers 0 <= i < K, e.g. --shard 0/4", text));
  }
  if (shard.count == 0 || shard.index >= shard.count || shard.count > 1'000'000) {
    throw ConfigError(fmt::format("--shard {}: need 0 <= i < K <= 1000000", text));
  }
  return shard;
}

std::vector<int> outcome_fields(const std::vector<std::string>& names) {
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  std::vector<int> out;
  for (const auto& n : names) {
    int found = -1;
    for (std::size_t i = 0; i < layout.categorical.size(); ++i) {
      if (layout.categorical[i].name == n) found = static_cast<int>(i);
    }
    if (found < 0) {
      std::string valid;
      for (const auto& f : layout.categorical) valid += (valid.empty() ? "" : ", ") + f.name;
      throw ConfigError(
          fmt::format("precision outcomes: unknown outcome '{}' (valid: {})", n, valid));
    }
    if (std::find(out.begin(), out.end(), found) != out.end())
      throw ConfigError(fmt::format("precision outcomes: '{}' is given twice", n));
    out.push_back(found);
  }
  return out;
}

namespace {

/// The most runs a design point may take: its replicates, or the cap in precision mode.
std::uint64_t most_runs(const Experiment& e) {
  return e.run.precision ? e.run.max_runs : e.run.runs;
}

/// Whether a run keeps per-run records: --store runs or rounds, or the default store while the
/// run has at most 10^7 runs in all (at the cap, in precision mode).
bool keeps_run_records(const Experiment& e, const OutputSettings& out) {
  if (out.store != OutputSettings::Store::automatic)
    return out.store != OutputSettings::Store::summary;
  return most_runs(e) * e.points.size() <= 10'000'000;
}

}  // namespace

void check_output_settings(const Experiment& e, const OutputSettings& out) {
  if ((out.resume || out.force || out.store != OutputSettings::Store::automatic) &&
      out.path.empty()) {
    throw ConfigError("--resume, --force and --store need --out FILE.h5");
  }
  if (out.resume && e.run.precision) {
    // A refusal of the file to continue, as --resume's others are (exit code 3, README).
    std::error_code ec;
    if (!std::filesystem::exists(out.path + ".partial", ec))
      throw OutputError(fmt::format("--resume: no partial file {}.partial to continue", out.path));
    throw OutputError(fmt::format(
        "--resume: {}.partial is not continued: --resume does not support precision mode "
        "(--precision) yet; rerun with --force to start over",
        out.path));
  }
  // --compression deflate filters the per-run records of a results file: without a file, or
  // when no records are kept, it would do nothing, yet the file would say shuffle+deflate.
  if (out.compress && out.path.empty()) {
    throw ConfigError(
        "--compression applies to the per-run records of a results file: add --out FILE.h5");
  }
  if (out.compress && out.store == OutputSettings::Store::summary) {
    throw ConfigError(
        "--compression applies to per-run records, which --store summary does not keep");
  }
  if (out.compress && !keeps_run_records(e, out)) {
    throw ConfigError(fmt::format(
        "--compression deflate applies to per-run records, which this run does not keep: {} runs "
        "at most are above the 10,000,000 up to which the default --store keeps them; add --store "
        "runs, or drop --compression",
        most_runs(e) * e.points.size()));
  }
}

void check_inputs_not_written(const Experiment& e, const std::string& out) {
  // No file the run reads may be what it writes, replaces or locks (--force would replace the
  // experiment file itself with the results, as `wedge merge` refuses for its inputs).
  for (const std::string* input : {&e.source, &e.sweep.csv}) {
    if (input->empty()) continue;
    for (const std::string& target : {out, out + ".partial", out + ".lock"}) {
      std::error_code ec;
      if (std::filesystem::equivalent(*input, target, ec)) {  // (false if either is missing)
        throw ConfigError(fmt::format(
            "--out {}: {} is {}, which this run reads; choose another --out", out,
            target == out ? "the output file" : target,
            input == &e.source ? "the experiment file" : "the design's CSV file (sweep.csv)"));
      }
    }
  }
}

Session::Session(Experiment experiment, SessionOptions options)
    : experiment_(std::move(experiment)), options_(std::move(options)) {
  const Experiment& e = experiment_;
  const OutputSettings& out = options_.output;
  const bool precision = e.run.precision.has_value();
  outcome_fields(options_.precision_outcomes);  // validate before any work
  if (options_.threads != 0) check_threads(options_.threads);
  if (options_.shard.count == 0 || options_.shard.index >= options_.shard.count) {
    throw ConfigError(
        fmt::format("shard {}/{}: need 0 <= i < K", options_.shard.index, options_.shard.count));
  }
  const std::uint64_t points = e.points.size();
  store_runs_ = keeps_run_records(e, out);
  check_output_settings(e, out);  // --compression with no records to compress too
  if (options_.shard.count > 1) {
    if (out.path.empty())
      throw ConfigError("--shard needs --out FILE.h5 (one file per shard, then `wedge merge`)");
    if (precision && !options_.batch_executor)
      throw ConfigError("--shard does not support precision mode (--precision)");
  }
  if (!out.path.empty() && out.resume && resume_from_zero(out.path)) {
    // Killed while its file was being created (only FILE.partial.new exists): no run was done,
    // so resuming is starting over (the stale file is replaced by Output::create).
    options_.output.resume = false;
    options_.output.force = true;
  }
  if (!out.path.empty()) {
    check_inputs_not_written(e, out.path);
    check_output_path(out.path, out.force, out.resume);
  }
  // Memory and file size, estimated before anything is built or written (refused with the
  // numbers when this machine cannot give them; a warning for a very large file).
  resource_warning_ = check_needs(
      estimate_needs(e, {precision ? e.run.max_runs : e.run.runs,
                         1.0 / static_cast<double>(options_.shard.count), !out.path.empty(),
                         store_runs_, options_.keeps_records, e.run.runs, precision,
                         out.store == OutputSettings::Store::rounds}),
      machine_limits(out.path));

  if (!precision) {
    // The plan's blocks are computed on demand (BlockRange): memory does not grow with the runs.
    blocks_ = engine::BlockRange(engine::full_plan(static_cast<std::uint32_t>(points), e.run.runs));
    if (options_.shard.count > 1) {
      // Shard i takes the i-th of K contiguous, balanced ranges of the plan's blocks.
      const std::uint64_t total = blocks_.size();
      blocks_ = blocks_.slice(total * options_.shard.index / options_.shard.count,
                              total * (options_.shard.index + 1) / options_.shard.count);
    }
    planned_ = blocks_.runs();
  }
}

Session::~Session() = default;

std::uint64_t Session::open() {
  if (opened_) throw std::logic_error("Session::open: already open");
  if (options_.output.path.empty()) {
    opened_ = true;
    return 0;
  }
  auto out = std::make_unique<Output>();
  out->path = options_.output.path;
  out->partial = options_.output.path + ".partial";
  out->lock.emplace(options_.output.path);
  out->probe.emplace(options_.testing.writer_probe, options_.testing.stop_after_checkpoints);
  auto blocks = blocks_;
  if (options_.output.resume) {
    out->resume(*this, blocks, options_.output.checkpoint_seconds);
  } else {
    std::optional<tbb::global_control> threads;
    if (options_.threads > 0)
      threads.emplace(tbb::global_control::max_allowed_parallelism, options_.threads);
    out->create(*this,
                tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
  }
  blocks_ = std::move(blocks);  // resumed: the blocks still to run
  output_ = std::move(out);
  opened_ = true;
  return output_->already;
}

namespace {

/// Hands every record to two sinks (the results file and the caller's), in order.
struct TeeSink final : RecordSink {
  RecordSink* first;
  RecordSink* second;
  TeeSink(RecordSink* a, RecordSink* b) : first(a), second(b) {}
  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
               std::span<const engine::Summary> summaries) override {
    first->consume(blocks, records, summaries);
    second->consume(blocks, records, summaries);
  }
};

}  // namespace

engine::RunReport Session::run_batch(std::span<const engine::Block> blocks,
                                     std::vector<engine::Summary>& summaries,
                                     const engine::RunOptions& options, RecordSink* sink) const {
  return engine::run_blocks<TugOfWar>(experiment_.points, blocks, summaries, options, sink);
}

engine::PrecisionReport Session::run_plan(std::vector<engine::Summary>& summaries,
                                          const engine::RunOptions& options,
                                          RecordSink* sink) const {
  const LocalRunner local = [this](std::span<const engine::Block> blocks,
                                   std::vector<engine::Summary>& s, const engine::RunOptions& o,
                                   RecordSink* k) { return run_batch(blocks, s, o, k); };
  // Every batch passes here, so the stop_after_blocks seam cuts the plan after exactly N blocks.
  std::uint64_t budget = options_.testing.stop_after_blocks;
  const auto batch = [&](std::span<const engine::Block> blocks, std::vector<engine::Summary>& s,
                         const engine::RunOptions& o) {
    bool cut = false;
    if (options_.testing.stop_after_blocks > 0) {
      cut = blocks.size() > budget;
      blocks = blocks.first(std::min<std::size_t>(blocks.size(), budget));
      budget -= blocks.size();
    }
    engine::RunReport report = experiment_.run.precision && options_.batch_executor
                                   ? options_.batch_executor(blocks, s, o, sink, local)
                                   : local(blocks, s, o, sink);
    report.interrupted = report.interrupted || cut;
    return report;
  };
  if (!experiment_.run.precision) {
    // A fixed plan runs as one batch, straight from its lazy blocks (a wave at a time), through
    // the same stop_after_blocks seam.
    engine::BlockRange blocks = blocks_;
    bool cut = false;
    if (options_.testing.stop_after_blocks > 0) {
      cut = blocks.size() > options_.testing.stop_after_blocks;
      blocks = blocks.first(options_.testing.stop_after_blocks);
    }
    engine::PrecisionReport report;
    report.run = engine::run_blocks<TugOfWar>(experiment_.points, blocks, summaries, options, sink);
    report.run.interrupted = report.run.interrupted || cut;
    report.met = true;
    return report;
  }
  engine::PrecisionTarget target;
  target.half_width = *experiment_.run.precision;
  target.fields = outcome_fields(options_.precision_outcomes);
  target.first_batch =
      options_.first_batch.value_or(std::min<std::uint64_t>(10'000, experiment_.run.max_runs));
  target.max_replicates = experiment_.run.max_runs;
  return engine::run_to_precision<TugOfWar>(experiment_.points, summaries, options, target, sink,
                                            batch);
}

SessionResult Session::execute(const ExecutionHooks& hooks) {
  if (executed_) throw std::logic_error("Session::execute: a session executes once");
  std::optional<tbb::global_control> threads;
  if (options_.threads > 0)
    threads.emplace(tbb::global_control::max_allowed_parallelism, options_.threads);
  if (!opened_) open();
  executed_ = true;

  engine::CancelToken stop(hooks.cancel);  // the caller's token, plus the test seams' stops
  engine::RunOptions run;
  run.seed = experiment_.run.seed;
  run.crn = experiment_.run.crn;
  run.grain = options_.grain;
  run.wave_blocks = options_.wave;
  run.progress = hooks.progress;
  run.cancel = &stop;

  SessionResult result;
  result.runs_planned = planned_;
  result.summaries = engine::make_summaries<TugOfWar>(experiment_.points.size());
  RecordSink* sink = hooks.records;
  std::optional<TeeSink> tee;
  if (output_) {
    if (!output_->resumed.empty()) result.summaries = output_->resumed;
    result.runs_resumed = output_->already;
    run.progress_offset = output_->already;
    if (hooks.progress != nullptr) hooks.progress->set_resumed(output_->already);
    output_->probe->stop_with(&stop);
    sink = output_->rounds.sink(&*output_->sink);  // --store rounds: /rounds, then the results file
    if (hooks.records != nullptr) sink = &tee.emplace(sink, hooks.records);
  }
  engine::PrecisionReport executed;
  try {
    executed = run_plan(result.summaries, run, sink);
  } catch (const OutputError&) {
    // A write failed (disk full...): keep the file exactly as its last checkpoint left it.
    if (output_) output_->abandon();
    throw;
  }
  if (hooks.progress != nullptr) hooks.progress->finish();
  result.runs_done = executed.run.runs_done;
  result.interrupted = executed.run.interrupted;
  result.signal = result.interrupted ? stop.signal() : 0;
  result.precision_met = executed.met;
  result.precision = precision_outcome(experiment_, options_.precision_outcomes, result.summaries);
  if (output_) {
    output_->probe->stop_with(nullptr);
    if (result.precision && !result.interrupted) {
      output_->before_rename = [p = *result.precision](const std::string& file) {
        write_precision_attributes(file, p);
      };
    }
    if (result.interrupted &&
        !output_->sink->final_checkpoint_within(options_.output.interrupt_write_seconds)) {
      // Stop now: the file is complete to its last checkpoint (named only once on disk), and
      // fenced, nothing after it reaches the file (as after a failed write).
      result.runs_kept = output_->sink->checkpointed_runs();
      result.path = output_->partial;
      output_->abandon();
      output_.reset();
      return result;
    }
    try {
      result.path = output_->finish(!result.interrupted);
    } catch (const OutputError&) {
      // The last checkpoint failed (disk full...): the file stays as the previous one left it.
      output_->abandon();
      throw;
    }
    output_.reset();  // releases the lock: the file may be resumed or read at once
  }
  return result;
}

std::uint64_t first_batch_runs(std::optional<std::uint64_t> runs, const Experiment& e) {
  engine::PrecisionTarget target;
  target.first_batch = runs.value_or(std::min<std::uint64_t>(10'000, e.run.max_runs));
  target.max_replicates = e.run.max_runs;
  return engine::next_replicates(engine::make_summaries<TugOfWar>(1).front(), target);
}

std::string first_batch_note(std::optional<std::uint64_t> runs, const Experiment& e,
                             std::string_view runs_name, std::string_view max_runs_name) {
  if (!e.run.precision || !runs) return {};
  const std::uint64_t first = first_batch_runs(runs, e);
  if (first == *runs) return {};
  return fmt::format(
      "{}{} is precision mode's first batch, which ends on whole blocks of {} runs: each point "
      "runs {} in its first batch{}",
      runs_name, *runs, engine::DEFAULT_BLOCK_SIZE, first,
      first == e.run.max_runs ? fmt::format(" (at most {}{})", max_runs_name, e.run.max_runs) : "");
}

std::optional<PrecisionOutcome> precision_outcome(const Experiment& e,
                                                  const std::vector<std::string>& outcomes,
                                                  const std::vector<engine::Summary>& summaries) {
  if (!e.run.precision) return std::nullopt;
  PrecisionOutcome p;
  p.target = *e.run.precision;
  p.max_runs = e.run.max_runs;
  const std::vector<int> fields = outcome_fields(outcomes);
  bool all = !summaries.empty();
  for (const auto& s : summaries) {
    const double w = s.runs() > 0 ? s.max_half_width(fields) : 0.5;
    p.widest_half_width = std::max(p.widest_half_width, w);
    all = all && s.runs() > 0 && w <= p.target;
  }
  p.reached = all;
  return p;
}

nlohmann::ordered_json precision_json(const PrecisionOutcome& p) {
  return {{"target", p.target},
          {"max_runs", p.max_runs},
          {"reached", p.reached},
          {"widest_half_width", p.widest_half_width}};
}

std::string precision_warning(const PrecisionOutcome& p, bool python) {
  return fmt::format(
      "precision {} not reached at every point within {}{} (widest 95% half-width "
      "{:.3g}); "
      "the results are valid but less precise: raise {}",
      p.target, python ? "max_runs=" : "--max-runs ", p.max_runs, p.widest_half_width,
      python ? "max_runs" : "--max-runs");
}

void write_precision_attributes(const std::string& path, const PrecisionOutcome& p) {
  // Written by this process (which holds the file's lock, or just merged it).
  output::h5::File file(path, true, output::h5::LockCheck::ours);
  output::h5::set_attr(file.id(), "precision_target", p.target);
  output::h5::set_attr(file.id(), "precision_max_runs", p.max_runs);
  output::h5::set_attr(file.id(), "precision_reached",
                       static_cast<std::uint64_t>(p.reached ? 1 : 0));
  output::h5::set_attr(file.id(), "precision_widest_half_width", p.widest_half_width);
  file.close();  // a failed close (a full disk) is an error, not a file renamed without them
}

agents::Trace trace(const Experiment& experiment, std::uint32_t point, std::uint64_t replicate) {
  if (point >= experiment.points.size()) {
    throw ConfigError(
        fmt::format("--point {}: the experiment has {} design point(s) (valid: 0 to {})", point,
                    experiment.points.size(), experiment.points.size() - 1));
  }
  engine::RunOptions options;
  options.seed = experiment.run.seed;
  options.crn = experiment.run.crn;
  return agents::trace_run(experiment.points[point], engine::stream_key(options, point, replicate));
}

}  // namespace wedge::experiments
