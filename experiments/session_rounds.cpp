// Round-by-round histories in a session's results file (`--store rounds`): the replaying sink and
// the /rounds part of creating, resuming, finishing and merging results files.
#include "experiments/session_rounds.hpp"

#include "engine/error.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace wedge::experiments {

namespace {

/// The /runs column that counts each run's rounds (the record's `rounds`: the round in which the
/// run ended, so the number of rounds it played).
constexpr const char* SIZE_COLUMN = "rounds";

engine::FieldLayout round_layout() { return engine::FieldLayout::from(agents::round_fields()); }

}  // namespace

RoundsSink::RoundsSink(const Experiment& experiment, output::RoundsWriter& writer, RecordSink& next)
    : experiment_(experiment), writer_(writer), next_(next) {
  keys_.seed = experiment.run.seed;
  keys_.crn = experiment.run.crn;
}

void RoundsSink::consume(std::span<const engine::Block> blocks,
                         std::span<const agents::RunRecord> records,
                         std::span<const engine::Summary> block_summaries) {
  // The replay runs one lane at a time: spread the wave's blocks over the threads (the workers
  // meanwhile compute the next wave, so both share the cores).
  rows_.resize(blocks.size());
  replay_.resize(blocks.size());
  engine::detail::for_each_range(
      blocks.size(), 1, [&](const tbb::blocked_range<std::size_t>& range) {
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          const engine::Block& b = blocks[i];
          rows_[i].clear();
          replay_[i].resize(b.count);
          agents::replay_rounds(experiment_.points[b.point],
                                engine::stream_key(keys_, b.point, b.replicate_begin), b.count,
                                replay_[i].data(), rows_[i]);
        }
      });
  const std::size_t nc = agents::RoundField::categorical_count;
  const std::size_t nv = agents::RoundField::continuous_count;
  std::size_t rows = 0;
  for (const auto& r : rows_) rows += r.size();
  sizes_.resize(records.size());
  categories_.resize(rows * nc);
  values_.resize(rows * nv);
  std::size_t run = 0, row = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (std::size_t k = 0; k < replay_[i].size(); ++k) {
      if (!(replay_[i][k] == records[run])) {
        throw std::logic_error(
            fmt::format("--store rounds: the replay of run (point {}, replicate {}) differs from "
                        "the engine's record",
                        blocks[i].point, blocks[i].replicate_begin + k));
      }
      sizes_[run++] = replay_[i][k].rounds;
    }
    for (const auto& r : rows_[i]) {
      agents::observe_round(r, categories_.data() + row * nc, values_.data() + row * nv);
      ++row;
    }
  }
  try {
    writer_.append(sizes_, categories_, values_);
  } catch (const OutputError& err) {
    throw OutputError(fmt::format(
        "cannot write the rounds: {}; the runs up to the file's last checkpoint are kept",
        err.what()));
  }
  next_.consume(blocks, records, block_summaries);
}

void RoundsOutput::create(const Experiment& e, OutputSettings::Store store,
                          output::ResultsWriter& file, bool compress, RecordSink& next) {
  if (store != OutputSettings::Store::rounds) return;
  writer_.emplace(file.file_id(), file.path(), round_layout(), SIZE_COLUMN, compress);
  sink_.emplace(e, *writer_, next);
  active_ = true;
}

void RoundsOutput::check_resume(OutputSettings::Store store, const std::string& partial,
                                std::uint64_t runs_done) {
  const bool wanted = store == OutputSettings::Store::rounds;
  const bool held = output::has_rounds(partial);
  if (wanted != held) {
    throw OutputError(
        fmt::format("--resume: {} was written {} --store rounds; resume it with the same --store",
                    partial, held ? "with" : "without"));
  }
  if (held) output::verify_rounds(partial, runs_done);
}

void RoundsOutput::resume(const Experiment& e, OutputSettings::Store store,
                          output::ResultsWriter& file, std::uint64_t runs_done, RecordSink& next) {
  if (store != OutputSettings::Store::rounds) return;
  writer_.emplace(file.file_id(), file.path(), round_layout(), runs_done);
  sink_.emplace(e, *writer_, next);
  active_ = true;
}

void RoundsOutput::close() {
  if (writer_) writer_->close();
}

void RoundsOutput::complete(const std::string& partial) const {
  if (active_) output::write_rounds_dimension_scales(partial);
}

void RoundsOutput::abandon() noexcept {
  if (writer_) writer_->abandon();
}

void merge_rounds_of(const std::vector<std::string>& parts, const std::string& out) {
  std::size_t with = 0;
  for (const auto& p : parts)
    with += output::has_rounds(p, output::h5::LockCheck::others) ? 1u : 0u;
  if (with == 0) return;
  if (with != parts.size()) {
    throw ConfigError(
        fmt::format("merge: the files are not shards of one run: {} of {} hold per-round histories "
                    "(--store rounds)",
                    with, parts.size()));
  }
  output::merge_rounds(parts, out);
  output::write_rounds_dimension_scales(out);
}

}  // namespace wedge::experiments
