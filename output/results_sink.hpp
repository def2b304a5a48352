#pragma once
/// Streams a model's per-run records into a results file on the engine's writer thread.
/// The sink merges the runner's block summaries in plan order (the same merges as the runner, so
/// the same bits), which keeps the summaries it checkpoints consistent with the records written:
/// a partial file always holds a prefix of blocks and exactly their summaries.
#include "engine/error.hpp"
#include "engine/runner.hpp"
#include "output/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace wedge::output {

template <engine::Model M>
class ResultsSink : public engine::RecordSink<typename M::Record> {
 public:
  /// `summaries` and `runs_done` are the state of the file so far (empty and 0 for a new file);
  /// `wall_offset` the seconds already spent on it. Checkpoints every `interval` seconds.
  ResultsSink(ResultsWriter& writer, std::vector<engine::Summary> summaries,
              std::uint64_t runs_done, double wall_offset, double interval = 2.0)
      : writer_(writer),
        summaries_(std::move(summaries)),
        runs_done_(runs_done),
        wall_offset_(wall_offset),
        interval_(interval),
        start_(Clock::now()),
        last_(start_),
        checkpointed_(runs_done) {}

  /// The worker threads observe each record once, for the summaries, and convert those fields
  /// into this wave's stored columns themselves (convert_runs, in parallel, while in cache);
  /// this thread then only checksums and writes them.
  bool takes_observed() const override { return writer_.stores_runs(); }
  void begin_observed(std::size_t runs) override {
    // Two sets of columns: the runner fills one while this thread writes the other (the runner
    // hands a wave over only once the wave before is consumed, so wave w + 2 reuses w's set).
    current_ = &columns_[begun_++ % 2];
    writer_.begin_runs(*current_, runs);
  }
  void observed(std::size_t row0, std::size_t rows, const std::uint16_t* categories,
                const double* values) override {
    writer_.convert_runs(*current_, row0, rows, categories, values);
  }

  void consume(std::span<const engine::Block> blocks, std::span<const typename M::Record> records,
               std::span<const engine::Summary> block_summaries) override {
    // HDF5's automatic error printing is per thread: this is the writer thread.
    static thread_local const bool quiet = (h5::quiet_errors(), true);
    (void)quiet;
    std::size_t runs = 0;
    for (const auto& b : blocks) runs += b.count;
    // The runner's block summaries, merged in the same order: the same bits as its own.
    for (std::size_t b = 0; b < blocks.size(); ++b)
      summaries_[blocks[b].point].merge(block_summaries[b]);
    try {
      if (writer_.stores_runs()) {
        // The runner hands a sink that takes observed fields no records (RecordSink::consume),
        // and orders begin_observed's writes before this.
        if (records.empty()) {
          // The workers' columns (observed()), in the wave's set (waves alternate).
          writer_.write_runs(columns_[consumed_++ % 2], blocks);
        } else {
          // Records (a caller that does not take observed fields, e.g. through a tee): observed
          // a tile at a time into buffers that stay in the L1 cache and converted from there.
          if (records.size() != runs) {
            throw std::logic_error("ResultsSink: the records are not the blocks' runs");
          }
          const std::size_t nc = summaries_.front().layout().categorical.size();
          const std::size_t nv = summaries_.front().layout().continuous.size();
          constexpr std::size_t TILE = 512;
          categories_.resize(TILE * nc);
          values_.resize(TILE * nv);
          writer_.begin_runs(records.size());
          for (std::size_t r0 = 0; r0 < records.size(); r0 += TILE) {
            const std::size_t rows = std::min(TILE, records.size() - r0);
            for (std::size_t i = 0; i < rows; ++i) {
              M::observe(records[r0 + i], categories_.data() + i * nc, values_.data() + i * nv);
            }
            writer_.convert_runs(r0, rows, categories_.data(), values_.data());
          }
          writer_.write_runs(blocks);
        }
      }
      writer_.append_blocks(blocks, block_summaries);
    } catch (const OutputError& err) {
      rethrow_named(err);
    }
    runs_done_ += runs;
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_).count() >= interval_) {
      try {
        writer_.checkpoint(summaries_, runs_done_, wall_seconds(), false);
      } catch (const OutputError& err) {
        rethrow_named(err);
      }
      last_ = Clock::now();
      slowest_ = std::max(slowest_, std::chrono::duration<double>(last_ - now).count());
      checkpointed_ = runs_done_;
    } else {
      // The disk writes what was appended while the simulation goes on, rather than all of it
      // at the checkpoint's fsync, during which the simulation would wait for this thread.
      writer_.start_writeback();
    }
  }

  /// Final checkpoint and /summary (call after the runner returned, so every record was
  /// consumed); an interrupted run's file gets its /summary too, for inspection.
  void finish(bool complete) {
    try {
      writer_.checkpoint(summaries_, runs_done_, wall_seconds(), complete);
      if (!complete) writer_.write_summary(summaries_);
    } catch (const OutputError& err) {
      rethrow_named(err);
    }
  }

  /// Whether an interrupted run's final checkpoint is worth its wait: the slowest checkpoint of
  /// this execution took at most `budget` seconds, or, none yet timed, the summaries (estimated
  /// at 200 MB/s) would take at most that. A checkpoint writes every point's summaries, so with
  /// 10^5 points it is 2.4 GB: seconds that a SIGTERM would otherwise wait (the file is then left
  /// at its last checkpoint, which is complete: the runs after it are redone by --resume).
  bool final_checkpoint_within(double budget) const {
    if (slowest_ > 0.0) return slowest_ <= budget;
    const auto& layout = summaries_.front().layout();
    double bytes_per_point = 0;
    for (const auto& f : layout.categorical)
      bytes_per_point += 40.0 * static_cast<double>(f.categories.size());
    for (const auto& f : layout.continuous) bytes_per_point += 16.0 * (f.hist_bins + 2.0) + 64.0;
    return static_cast<double>(summaries_.size()) * bytes_per_point / 200e6 <= budget;
  }
  /// The runs of the file's last checkpoint (the resumed ones included).
  std::uint64_t checkpointed_runs() const { return checkpointed_; }
  /// The longest checkpoint of this execution so far, seconds (0: none timed yet).
  double slowest_checkpoint() const { return slowest_; }

  const std::vector<engine::Summary>& summaries() const { return summaries_; }
  std::uint64_t runs_done() const { return runs_done_; }
  double wall_seconds() const {
    return wall_offset_ + std::chrono::duration<double>(Clock::now() - start_).count();
  }

 private:
  /// A write failed (a full or failing disk): one message naming the file, whichever step of
  /// appending or checkpointing it was (a message that names it already is kept as it is). What
  /// to do next depends on the run (--resume, or --force in precision mode): the command line
  /// adds it (experiments/cli.cpp, rethrow_with_advice).
  [[noreturn]] void rethrow_named(const OutputError& err) const {
    const std::string what = err.what();
    if (what.rfind(writer_.path() + ": ", 0) == 0) throw err;
    throw OutputError(fmt::format(
        "{}: cannot write: {}; the runs up to its last checkpoint are kept", writer_.path(), what));
  }

  using Clock = std::chrono::steady_clock;
  ResultsWriter& writer_;
  std::vector<engine::Summary> summaries_;
  std::vector<std::uint16_t> categories_;
  std::vector<double> values_;
  ResultsWriter::RunColumns columns_[2];          ///< the workers' columns, waves alternating
  ResultsWriter::RunColumns* current_ = nullptr;  ///< the set of the wave being computed
  std::uint64_t begun_ = 0;     ///< waves begun (begin_observed, the runner's thread)
  std::uint64_t consumed_ = 0;  ///< waves of observed fields written (the writer thread)
  std::uint64_t runs_done_;
  double wall_offset_;
  double interval_;
  Clock::time_point start_;
  Clock::time_point last_;
  std::uint64_t checkpointed_;  ///< runs_done_ at the last checkpoint
  double slowest_ = 0.0;        ///< the longest checkpoint so far, seconds
};

}  // namespace wedge::output
