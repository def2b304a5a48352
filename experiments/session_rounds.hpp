#pragma once
/// Round-by-round histories in a session's results file (`wedge run --store rounds`; internal to
/// the application layer): the sink that replays each wave's runs one lane at a time to get their
/// rounds (agents::replay_rounds, the trace's path) and writes them to /rounds before the records
/// go to /runs, and the /rounds part of creating, resuming, finishing and merging files.
#include "agents/rounds.hpp"
#include "experiments/experiment.hpp"
#include "experiments/session.hpp"
#include "output/rounds.hpp"

#include <optional>
#include <string>
#include <vector>

namespace wedge::experiments {

/// Replays the runs of each wave one lane at a time, in parallel over its blocks; checks that the
/// replay gives the very records the engine computed (else std::logic_error: a kernel whose lanes
/// disagree with the portable path); appends the runs' rounds to /rounds; then passes the wave
/// on to `next` (the results file's sink, which appends /runs and checkpoints).
class RoundsSink final : public RecordSink {
 public:
  RoundsSink(const Experiment& experiment, output::RoundsWriter& writer, RecordSink& next);
  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
               std::span<const engine::Summary> block_summaries) override;

 private:
  const Experiment& experiment_;
  engine::RunOptions keys_;  ///< seed and crn: the streams of (point, replicate)
  output::RoundsWriter& writer_;
  RecordSink& next_;
  std::vector<std::vector<agents::RoundRow>> rows_;     ///< per block of the wave
  std::vector<std::vector<agents::RunRecord>> replay_;  ///< per block of the wave
  std::vector<std::uint32_t> sizes_;
  std::vector<std::uint16_t> categories_;
  std::vector<double> values_;
};

/// The /rounds part of a session's results file (empty unless the store is `rounds`).
class RoundsOutput {
 public:
  /// A new file: adds /rounds to the file `file` writes if `store` is rounds; its sink passes
  /// waves to `next`.
  void create(const Experiment& e, OutputSettings::Store store, output::ResultsWriter& file,
              bool compress, RecordSink& next);
  /// A resumed file (before `file` reopens it): checks that it holds /rounds exactly when `store`
  /// is rounds (else OutputError naming the --store it was written with) and that its rounds
  /// agree with its first `runs_done` runs.
  static void check_resume(OutputSettings::Store store, const std::string& partial,
                           std::uint64_t runs_done);
  /// Then, reopened by `file`: keeps the rounds of its first `runs_done` runs.
  void resume(const Experiment& e, OutputSettings::Store store, output::ResultsWriter& file,
              std::uint64_t runs_done, RecordSink& next);
  /// The sink a wave goes to: this one under --store rounds, else `results`.
  RecordSink* sink(RecordSink* results) { return sink_ ? &*sink_ : results; }
  /// Closes /rounds (before the results writer closes the file).
  void close();
  /// A completed file (closed, not yet renamed): its /rounds dimension scales.
  void complete(const std::string& partial) const;
  void abandon() noexcept;

 private:
  std::optional<output::RoundsWriter> writer_;
  std::optional<RoundsSink> sink_;
  bool active_ = false;
};

/// After merge_shards wrote `out` from `parts`: ConfigError unless every part or none holds
/// /rounds; if all do, merges their /rounds into `out` (with its dimension scales).
void merge_rounds_of(const std::vector<std::string>& parts, const std::string& out);

}  // namespace wedge::experiments
