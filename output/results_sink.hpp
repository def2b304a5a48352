#pragma once
/// Streams a model's per-run records into a results file on the engine's writer thread.
/// The sink merges the runner's block summaries in plan order (the same merges as the runner, so
/// the same bits), which keeps the summaries it checkpoints consistent with the records written:
/// a partial file always holds a prefix of blocks and exactly their summaries.
#include "engine/error.hpp"
#include "engine/runner.hpp"
#include "output/results.hpp"

#include <fmt/format.h>

#include <chrono>

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
        last_(start_) {}

  void consume(std::span<const engine::Block> blocks, std::span<const typename M::Record> records,
               std::span<const engine::Summary> block_summaries) override {
    // HDF5's automatic error printing is per thread: this is the writer thread.
    static thread_local const bool quiet = (h5::quiet_errors(), true);
    (void)quiet;
    const std::size_t nc = summaries_.front().layout().categorical.size();
    const std::size_t nv = summaries_.front().layout().continuous.size();
    categories_.resize(records.size() * nc);
    values_.resize(records.size() * nv);
    for (std::size_t i = 0; i < records.size(); ++i) {
      M::observe(records[i], categories_.data() + i * nc, values_.data() + i * nv);
    }
    // The runner's block summaries, merged in the same order: the same bits as its own.
    for (std::size_t b = 0; b < blocks.size(); ++b)
      summaries_[blocks[b].point].merge(block_summaries[b]);
    try {
      writer_.append_runs(blocks, categories_, values_);
      writer_.append_blocks(blocks, block_summaries);
    } catch (const OutputError& err) {
      throw OutputError(
          fmt::format("{}: cannot write: {}; the runs up to its last checkpoint are kept: "
                      "free space and continue with --resume",
                      writer_.path(), err.what()));
    }
    runs_done_ += records.size();
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - last_).count() >= interval_) {
      writer_.checkpoint(summaries_, runs_done_, wall_seconds(), false);
      last_ = now;
    } else {
      // The disk writes what was appended while the simulation goes on, rather than all of it
      // at the checkpoint's fsync, during which the simulation would wait for this thread.
      writer_.start_writeback();
    }
  }

  /// Final checkpoint and /summary (call after the runner returned, so every record was
  /// consumed); an interrupted run's file gets its /summary too, for inspection.
  void finish(bool complete) {
    writer_.checkpoint(summaries_, runs_done_, wall_seconds(), complete);
    if (!complete) writer_.write_summary(summaries_);
  }

  const std::vector<engine::Summary>& summaries() const { return summaries_; }
  std::uint64_t runs_done() const { return runs_done_; }
  double wall_seconds() const {
    return wall_offset_ + std::chrono::duration<double>(Clock::now() - start_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  ResultsWriter& writer_;
  std::vector<engine::Summary> summaries_;
  std::vector<std::uint16_t> categories_;
  std::vector<double> values_;
  std::uint64_t runs_done_;
  double wall_offset_;
  double interval_;
  Clock::time_point start_;
  Clock::time_point last_;
};

}  // namespace wedge::output
