#pragma once
/// The parallel runner: executes blocks of runs on oneTBB, aggregates each block locally and
/// merges block summaries in plan order, so every count and sum is bit-identical for any number
/// of threads or scheduler grain. Work proceeds in waves of blocks: between waves the runner
/// merges, reports progress, checks for cancellation and hands per-run records to a sink
/// running on its own thread. Memory is bounded whatever the number of runs: one wave of block
/// summaries, and with a sink two waves of records (the one being computed, the one being written),
/// or, for a sink that takes the observed fields instead (RecordSink::takes_observed), what the
/// sink keeps of two waves of them.
#include "engine/cancel.hpp"
#include "engine/memory.hpp"
#include "engine/model.hpp"
#include "engine/plan.hpp"
#include "engine/progress.hpp"
#include "engine/summary.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <concepts>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace wedge::engine {

/// Receives per-run records on the writer thread, block by block, in the order of the plan.
template <class Record>
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  /// `records` holds the runs of `blocks`, concatenated in order; `block_summaries[i]` is the
  /// summary of block i alone (as the runner merges it), for sinks that keep their own.
  virtual void consume(std::span<const Block> blocks, std::span<const Record> records,
                       std::span<const Summary> block_summaries) = 0;

  /// A sink that needs only the runs' observed fields (M::observe's) returns true: the worker
  /// threads then hand each wave's fields to observed() as they observe them for the summaries
  /// (so they are observed once, in parallel, while in cache), and consume() gets no records (an
  /// empty span; its blocks and summaries as always).
  virtual bool takes_observed() const { return false; }
  /// With takes_observed(): on the runner's thread, before the workers compute a wave of `runs`
  /// runs (the writer thread may still be consuming the wave before).
  virtual void begin_observed(std::size_t runs) { (void)runs; }
  /// With takes_observed(): from the worker threads, concurrently for disjoint rows, the observed
  /// fields of the wave's runs [row0, row0 + rows) (row = the run's index in the wave, blocks in
  /// plan order): run row0 + k's categorical fields at categories[k * C + c] and continuous ones
  /// at values[k * V + v], C and V the layout's counts. Every row of the wave is given exactly
  /// once before the wave is handed to consume().
  virtual void observed(std::size_t row0, std::size_t rows, const std::uint16_t* categories,
                        const double* values) {
    (void)row0, (void)rows, (void)categories, (void)values;
  }
};

/// How the runner seeds and schedules.
struct RunOptions {
  std::uint64_t seed = 0;
  /// Common random numbers: replicate r draws the same stream at every design point.
  bool crn = false;
  /// Blocks per TBB task (1 = finest); never changes results.
  std::size_t grain = 1;
  /// Blocks per wave; 0 = automatic. Never changes results.
  std::size_t wave_blocks = 0;
  /// Progress reporter (may be null).
  Progress* progress = nullptr;
  /// Runs already done before this call, for progress.
  std::uint64_t progress_offset = 0;
  /// Polled at every wave boundary: once it is requested the run stops there (may be null).
  const CancelToken* cancel = nullptr;
};

/// What a call to run_blocks did.
struct RunReport {
  std::uint64_t runs_done = 0;
  std::size_t blocks_done = 0;  ///< a prefix of the blocks given
  bool interrupted = false;
};

/// The stream key of run (point, replicate).
inline StreamKey stream_key(const RunOptions& options, std::uint32_t point,
                            std::uint64_t replicate) noexcept {
  return {options.seed, options.crn ? 0u : point, static_cast<std::uint32_t>(replicate)};
}

/// Most fields of each kind a record may declare.
inline constexpr std::size_t MAX_FIELDS = 64;

/// Largest replicate index a stream can address.
inline constexpr std::uint64_t MAX_REPLICATES = 1ull << 32;

namespace detail {

/// Runs body(range) over [0, count) in ranges of at most `grain`, on all allowed threads.
/// ThreadSanitizer builds (WEDGE_PLAIN_THREADS) use std::threads, whose synchronisation TSan can
/// see, because Debian's oneTBB is not instrumented and TSan would report its internal hand-offs;
/// the work, its blocking and every result are the same either way.
template <class Body>
void for_each_range(std::size_t count, std::size_t grain, const Body& body) {
#if WEDGE_PLAIN_THREADS
  const auto threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (;;) {
      const std::size_t begin = next.fetch_add(grain);
      if (begin >= count) return;
      body(tbb::blocked_range<std::size_t>(begin, std::min(begin + grain, count), grain));
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
#else
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, grain), body,
                    tbb::simple_partitioner());
#endif
}

/// Observed fields of up to RUNS consecutive runs, run by run (Summary::add_runs's layout): run
/// k's categorical fields from categories(k), its continuous fields from values(k).
struct ObservedChunk {
  static constexpr std::size_t RUNS = 256;
  std::vector<std::uint16_t> cats;
  std::vector<double> vals;
  std::size_t nc = 0, nv = 0;

  void shape(std::size_t categorical, std::size_t continuous) {
    nc = categorical;
    nv = continuous;
    // (observe() writes the layout's fields only; MAX_FIELDS of slack past the last row.)
    if (cats.size() < RUNS * nc + MAX_FIELDS) cats.resize(RUNS * nc + MAX_FIELDS);
    if (vals.size() < RUNS * nv + MAX_FIELDS) vals.resize(RUNS * nv + MAX_FIELDS);
  }
  std::uint16_t* categories(std::size_t k) noexcept { return cats.data() + k * nc; }
  double* values(std::size_t k) noexcept { return vals.data() + k * nv; }
};

/// A single-slot hand-off to a consumer thread: the producer fills one buffer while the consumer
/// drains the other.
template <class Record>
class SinkThread {
 public:
  explicit SinkThread(RecordSink<Record>& sink) : sink_(sink), thread_([this] { loop(); }) {}
  ~SinkThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  /// Waits until the previous batch is consumed, then hands over this one (swapping buffers).
  void hand_over(std::vector<Block>& blocks, std::vector<Record>& records,
                 std::vector<Summary>& summaries) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return !full_ || error_; });
    rethrow_locked();
    blocks_.swap(blocks);
    records_.swap(records);
    summaries_.swap(summaries);
    full_ = true;
    cv_.notify_all();
  }

  /// Waits until everything handed over is consumed; rethrows the sink's exception.
  void drain() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return !full_ || error_; });
    rethrow_locked();
  }

 private:
  void rethrow_locked() {
    if (error_) {
      auto e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      cv_.wait(lock, [this] { return full_ || stop_; });
      if (!full_) return;
      lock.unlock();
      std::exception_ptr error;
      try {
        sink_.consume(blocks_, records_, summaries_);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      error_ = error;
      full_ = false;
      cv_.notify_all();
    }
  }

  RecordSink<Record>& sink_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Block> blocks_;
  std::vector<Record> records_;
  std::vector<Summary> summaries_;
  bool full_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace detail

/// What run_blocks runs: blocks made (a std::vector or span of make_blocks') or computed on
/// demand (BlockRange), indexed 0..size()-1 in plan order.
template <class B>
concept BlockSource = requires(const B& blocks, std::size_t i) {
  { blocks.size() } -> std::convertible_to<std::size_t>;
  { blocks[i] } -> std::convertible_to<Block>;
};

/// Runs `blocks` (from make_blocks, or a BlockRange) of model M. `params[p]` are the parameters of
/// design point p; each block's summary is merged into `summaries[p]` in block order. If `sink` is
/// given it receives every record in block order on a separate thread. Stops early (at a wave
/// boundary) when `options.cancel` is requested; the report says how many leading blocks were
/// completed. Only one wave of blocks exists at a time, so a BlockRange's plan of any size runs in
/// memory independent of its number of runs.
template <Model M, BlockSource Blocks = std::span<const Block>>
RunReport run_blocks(std::span<const typename M::Params> params, const Blocks& blocks,
                     std::vector<Summary>& summaries, const RunOptions& options,
                     RecordSink<typename M::Record>* sink = nullptr) {
  using Record = typename M::Record;
  const std::size_t total = blocks.size();
  // Every block is checked before anything runs: a made plan block by block, a BlockRange by its
  // segments (O(design points), not O(blocks): its blocks exist only a wave at a time).
  const auto check = [&](std::uint64_t point, std::uint64_t end) {
    if (point >= params.size() || point >= summaries.size()) {
      throw std::invalid_argument("run_blocks: block refers to a design point out of range");
    }
    if (end > MAX_REPLICATES) {
      throw std::invalid_argument("run_blocks: replicate index beyond 2^32");
    }
  };
  if constexpr (requires { blocks.extent(); }) {
    const auto extent = blocks.extent();
    if (total > 0) check(extent.max_point, extent.max_end);
  } else {
    for (std::size_t i = 0; i < total; ++i) {
      const Block b = blocks[i];
      check(b.point, b.replicate_begin + b.count);
    }
  }
  if (summaries.empty()) return {};
  const auto layout = summaries.front().layout_ptr();
  if (layout->categorical.size() > MAX_FIELDS || layout->continuous.size() > MAX_FIELDS) {
    throw std::invalid_argument("run_blocks: a record may have at most 64 fields of each kind");
  }

  const std::size_t threads = static_cast<std::size_t>(tbb::this_task_arena::max_concurrency());
  // A wave ends in a barrier (the threads wait for its last block, then its summaries are merged
  // in order): without a sink nothing bounds a wave but the block summaries it keeps (~4.5 KB
  // each), so waves are 4x longer there than where their records are held for the sink.
  const std::size_t wave = options.wave_blocks > 0 ? options.wave_blocks
                           : sink != nullptr       ? std::max<std::size_t>(64, 32 * threads)
                                                   : std::max<std::size_t>(256, 128 * threads);

  std::vector<Summary> local(std::min(wave, total), Summary(layout));
  std::unique_ptr<detail::SinkThread<Record>> writer;
  // This wave's blocks (a BlockRange's exist only here, a wave at a time).
  std::vector<Block> wave_blocks;
  wave_blocks.reserve(std::min(wave, total));
  std::vector<Block> out_blocks;
  std::vector<Record> out_records;
  std::vector<Summary> out_summaries;
  std::vector<std::size_t> offsets;
  // alone[i]: block i's point has no other block in the wave (see below); by_point: the wave's
  // (point, block) pairs, sorted to find them.
  std::vector<unsigned char> alone;
  std::vector<std::pair<std::uint64_t, std::size_t>> by_point;
  if (sink != nullptr) writer = std::make_unique<detail::SinkThread<Record>>(*sink);
  // The sink takes the observed fields from the workers instead of the records.
  const bool observed = sink != nullptr && sink->takes_observed();
  RecordSink<Record>* const keep = observed ? nullptr : sink;  // the sink that keeps records

  RunReport report;
  for (std::size_t first = 0; first < total; first += wave) {
    if (options.cancel != nullptr && options.cancel->requested()) {
      report.interrupted = true;
      break;
    }
    const std::size_t count = std::min(wave, total - first);
    wave_blocks.clear();
    for (std::size_t i = 0; i < count; ++i) wave_blocks.push_back(blocks[first + i]);
    // A point with a single block in the wave takes that block's summary on the worker that
    // computed it: no other block of the wave touches the point, and the waves before are merged,
    // so its merges stay in block order. This takes the merges of a design of many points (one
    // block each) off the serial step between waves; a point's several blocks in a wave are
    // merged after it, in block order, as before.
    by_point.resize(count);
    for (std::size_t i = 0; i < count; ++i) by_point[i] = {wave_blocks[i].point, i};
    std::sort(by_point.begin(), by_point.end());
    alone.assign(count, 0);
    for (std::size_t j = 0; j < count; ++j) {
      const bool same_before = j > 0 && by_point[j - 1].first == by_point[j].first;
      const bool same_after = j + 1 < count && by_point[j + 1].first == by_point[j].first;
      if (!same_before && !same_after) alone[by_point[j].second] = 1;
    }
    if (sink != nullptr) {
      offsets.resize(count + 1);
      offsets[0] = 0;
      for (std::size_t i = 0; i < count; ++i) offsets[i + 1] = offsets[i] + wave_blocks[i].count;
      if (observed) {
        sink->begin_observed(offsets[count]);
      } else {
        out_records.resize(offsets[count]);
      }
    }
    detail::for_each_range(count, options.grain, [&](const tbb::blocked_range<std::size_t>& range) {
      std::array<std::uint16_t, MAX_FIELDS> cats{};
      std::array<double, MAX_FIELDS> values{};
      for (std::size_t i = range.begin(); i != range.end(); ++i) {
        const Block& b = wave_blocks[i];
        // A point alone in the wave whose summary has no runs yet, when no sink takes the block
        // summaries, is added to in place: adding a block's runs to an empty summary gives the
        // bits of adding them to a cleared one and merging that in (a merge into an empty
        // summary copies), without the clearing and the merge.
        const bool in_place = alone[i] && sink == nullptr && summaries[b.point].runs() == 0;
        Summary& sum = in_place ? summaries[b.point] : local[i];
        if (!in_place) sum.reset();
        const auto& p = params[b.point];
        Record* out = keep != nullptr ? out_records.data() + offsets[i] : nullptr;
        if constexpr (BlockModel<M>) {
          // Summaries only: the records go to a buffer each thread keeps (a block's worth), not
          // one allocated and value-initialised per range.
          thread_local std::vector<Record> scratch;
          if (out == nullptr) {
            if (scratch.size() < b.count) scratch.resize(b.count);
            out = scratch.data();
          }
          M::run_block(p, stream_key(options, b.point, b.replicate_begin), b.count, out);
          // Observed a chunk at a time, then added field by field (Summary::add_runs: the same
          // bits as adding run by run).
          thread_local detail::ObservedChunk chunk;
          chunk.shape(layout->categorical.size(), layout->continuous.size());
          for (std::uint32_t k0 = 0; k0 < b.count; k0 += detail::ObservedChunk::RUNS) {
            const std::uint32_t n =
                std::min<std::uint32_t>(detail::ObservedChunk::RUNS, b.count - k0);
            for (std::uint32_t k = 0; k < n; ++k) {
              M::observe(out[k0 + k], chunk.categories(k), chunk.values(k));
            }
            sum.add_runs(chunk.categories(0), chunk.values(0), n);
            if (observed) sink->observed(offsets[i] + k0, n, chunk.categories(0), chunk.values(0));
          }
        } else {
          for (std::uint32_t k = 0; k < b.count; ++k) {
            Stream stream(stream_key(options, b.point, b.replicate_begin + k));
            const Record rec = M::run(p, stream);
            M::observe(rec, cats.data(), values.data());
            sum.add(cats.data(), values.data());
            if (out != nullptr) out[k] = rec;
            if (observed) sink->observed(offsets[i] + k, 1, cats.data(), values.data());
          }
        }
        if (alone[i] && !in_place) summaries[b.point].merge(sum);
      }
    });
    for (std::size_t i = 0; i < count; ++i) {
      if (!alone[i]) summaries[wave_blocks[i].point].merge(local[i]);
      report.runs_done += wave_blocks[i].count;
    }
    report.blocks_done += count;
    if (writer) {
      out_blocks.assign(wave_blocks.begin(), wave_blocks.end());
      out_summaries.assign(local.begin(), local.begin() + static_cast<std::ptrdiff_t>(count));
      writer->hand_over(out_blocks, out_records, out_summaries);
    }
    if (options.progress != nullptr) {
      options.progress->update(options.progress_offset + report.runs_done);
    }
  }
  if (writer) writer->drain();
  return report;
}

/// run_blocks with the design points' parameters in a std::vector (a braced list of them too).
template <Model M, BlockSource Blocks = std::span<const Block>>
RunReport run_blocks(const std::vector<typename M::Params>& params, const Blocks& blocks,
                     std::vector<Summary>& summaries, const RunOptions& options,
                     RecordSink<typename M::Record>* sink = nullptr) {
  return run_blocks<M, Blocks>(std::span<const typename M::Params>(params), blocks, summaries,
                               options, sink);
}

/// Makes one empty summary per design point for model M. Many points are made in parallel, a
/// part of them per task, then moved into place: a summary is a few KB (TugOfWar's ~4.5 KB, its
/// counts and histograms) whose allocation and first touch (page faults) made a 4,096-point
/// run's largest serial step before any run. Their memory (counts, histograms and the rest) is
/// allocated together from one BumpArena (engine/memory.hpp: on huge pages where the kernel gives
/// them, a page fault per 2 MiB rather than per 4 KiB); the summaries are the same wherever their
/// memory is.
template <Model M>
std::vector<Summary> make_summaries(std::size_t points) {
  const auto layout = std::make_shared<const FieldLayout>(FieldLayout::from(M::fields()));
  const Summary empty(layout);
  constexpr std::size_t PART = 256;
  if (points <= PART) return std::vector<Summary>(points, empty);
  const auto arena = std::make_shared<BumpArena>(points * Summary::arena_bytes(*layout));
  std::vector<std::vector<Summary>> parts((points + PART - 1) / PART);
  detail::for_each_range(parts.size(), 1, [&](const tbb::blocked_range<std::size_t>& range) {
    for (std::size_t i = range.begin(); i != range.end(); ++i) {
      const std::size_t n = std::min(PART, points - i * PART);
      parts[i].reserve(n);
      for (std::size_t k = 0; k < n; ++k) parts[i].emplace_back(empty, arena);
    }
  });
  std::vector<Summary> out;
  out.reserve(points);
  for (auto& part : parts) {
    for (auto& s : part) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace wedge::engine
