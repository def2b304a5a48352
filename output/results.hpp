#pragma once
/// The results file (docs/output-format.md): root attributes, /design, /summary and /runs, for
/// any model's declared fields. Written as NAME.h5.partial and renamed when complete.
#include "engine/memory.hpp"
#include "engine/plan.hpp"
#include "engine/summary.hpp"
#include "output/background_sync.hpp"
#include "output/hdf5.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace wedge::output {

inline constexpr const char* FORMAT_NAME = "wedge-results";
/// Changes with any change of the layout (docs/output-format.md).
inline constexpr std::uint64_t FORMAT_VERSION = 1;
/// The results arithmetic version: which per-run results this build computes. Bump it (by one)
/// whenever per-run results change, i.e. whenever tests/regression's pins are re-pinned (a new
/// draw layout, a change of the kernel's or the model's arithmetic, a corrected rule):
/// tests/regression/update.sh refuses to re-pin unless it was bumped, and the regression check
/// fails while it differs from the value pinned with them (tests/regression/arithmetic_version).
/// Every results file records it (root attribute `arithmetic_version`); `--resume` and `wedge
/// merge` refuse a file with another value, or none (check_arithmetic): its runs and this build's
/// would differ in their last digits and mix silently.
inline constexpr std::uint64_t ARITHMETIC_VERSION = 1;

/// What the file records besides the results (root attributes and /design).
struct Metadata {
  std::string model;
  std::string model_version;
  std::string engine_version;
  std::string git_commit;
  std::string rng;
  std::string command_line;
  std::string experiment;  ///< the resolved experiment as TOML
  std::string design;      ///< design name ("single", "grid", ...)
  std::uint64_t seed = 0;
  bool crn = false;
  std::uint64_t threads = 0;
  std::uint64_t replicates = 0;    ///< planned replicates per point (0 in precision mode)
  std::uint64_t runs_planned = 0;  ///< 0 when unknown in advance (precision mode)
  std::uint64_t block_size = 0;
  bool store_runs = true;
  bool compress = false;                                       ///< shuffle + deflate on /runs
  std::vector<std::pair<std::string, std::string>> libraries;  ///< e.g. {"hdf5_version", "1.10.8"}
  std::vector<std::string> swept_keys;
  std::vector<std::vector<double>> values;  ///< values[p][k]
  /// Per swept key: "real", "integer" or "boolean" (the attribute value_type of /design/<key>,
  /// which gives the typed coordinates of docs/output-format.md); empty: not recorded.
  std::vector<std::string> key_types;
  std::uint64_t shard_index = 0;  ///< this file's shard (0 for a whole run)
  std::uint64_t shard_count = 1;  ///< shards of the plan (1 for a whole run)
};

/// Test seam (docs/design.md, "Test seams"): told of each step of a results file's write protocol,
/// in order, on the thread that writes. It may record the order, throw (an OutputError injects a
/// write failure at that step) or end the process (a crash at exactly that step). Production code
/// never installs one.
class WriterProbe {
 public:
  enum class Step {
    runs_appended,    ///< a wave's records are in /runs (not yet flushed)
    blocks_appended,  ///< the wave's blocks are in /blocks
    slot_written,     ///< a checkpoint's state is in the slot not in use
    slot_flushed,     ///< ... handed to the operating system (H5Fflush)
    slot_synced,      ///< ... on disk (fsync)
    slot_named,       ///< the root attribute checkpoint_slot names the new slot
    summary_written,  ///< /summary is written (a complete or cleanly interrupted file)
    scales_written,   ///< a complete file's dimension scales are written (`complete` not yet set)
    checkpoint_done,  ///< the checkpoint is flushed and synced, with `complete` set
  };
  virtual ~WriterProbe() = default;
  virtual void at(Step step) = 0;
};

/// The step's name as written above ("slot_named"); parse_step is its inverse (nullopt if unknown).
const char* step_name(WriterProbe::Step step);
std::optional<WriterProbe::Step> parse_step(std::string_view name);

/// An open results file being written.
class ResultsWriter {
 public:
  /// Creates `path` (which must not exist) with the metadata, the design and empty columns.
  ResultsWriter(const std::string& path, const Metadata& meta, const engine::FieldLayout& layout,
                std::uint32_t points);
  /// Reopens a partial file to continue it; `runs_done` records are kept, later ones dropped.
  ResultsWriter(const std::string& path, const engine::FieldLayout& layout,
                std::uint64_t runs_done);
  /// Ends the background sync (start_writeback) before the file's handles close.
  ~ResultsWriter();

  /// Appends the runs of `blocks`: categories[i * C + c] and values[i * V + v] for run i.
  void append_runs(std::span<const engine::Block> blocks,
                   const std::vector<std::uint16_t>& categories, const std::vector<double>& values);
  /// The same in three steps, for a caller that observes its records a tile at a time:
  /// begin_runs(n) readies the column buffers for n runs; convert_runs(row0, rows, categories,
  /// values) converts runs [row0, row0 + rows) (run row0 + i at categories[i * C + c] and
  /// values[i * V + v]); write_runs(blocks) appends the n runs, which must be the blocks' runs.
  /// Nothing is written until write_runs. No-ops when the file stores no runs (stores_runs()).
  void begin_runs(std::size_t n);
  void convert_runs(std::size_t row0, std::size_t rows, const std::uint16_t* categories,
                    const double* values);
  void write_runs(std::span<const engine::Block> blocks);

  /// One wave's runs in the stored types, column after column (n rows each, with slack past the
  /// last column for append's checksum): the buffers of the three steps above, kept by a caller
  /// that fills one wave while another is written (output::ResultsSink: two of them).
  struct RunColumns {
    /// Storage that grows without zero-filling (every row is converted before it is written).
    /// From 1 MiB on (a wave's columns: ~3 MB for 131,072 runs of 25 bytes), in whole 2 MiB
    /// pages advised as transparent huge pages (engine::allocate_huge_array): a page fault per
    /// 2 MiB when the workers first fill them, not 512 (a 4-KiB fault took ~25 us on the VMs
    /// measured, docs/performance.md items 22 and 27).
    template <class T>
    struct Buffer {
      static_assert(std::is_trivially_copyable_v<T>);
      struct Free {
        std::size_t bytes;
        void operator()(T* p) const noexcept { engine::release_huge_array(p, bytes); }
      };
      std::unique_ptr<T[], Free> data_{nullptr, Free{0}};
      std::size_t size_ = 0;
      T* data() noexcept { return data_.get(); }
      std::size_t size() const noexcept { return size_; }
      /// At least n elements; the contents are kept only if no growth was needed.
      void ensure(std::size_t n) {
        if (n <= size_) return;
        if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
        const std::size_t bytes = engine::huge_array_capacity(n * sizeof(T));
        data_.reset();
        data_ = std::unique_ptr<T[], Free>(static_cast<T*>(engine::allocate_huge_array(bytes)),
                                           Free{bytes});
        size_ = bytes / sizeof(T);
      }
    };
    Buffer<std::uint8_t> narrow;  ///< the uint8 categorical columns
    Buffer<std::uint16_t> wide;   ///< the uint16 categorical columns
    Buffer<float> f32;            ///< the float32 continuous columns
    Buffer<double> f64;           ///< the float64 continuous columns
    std::size_t n = 0;            ///< rows (begin_runs' n)
  };
  /// The three steps on the caller's buffers. convert_runs only reads the writer, so several
  /// threads may convert disjoint rows of one RunColumns at once (while another thread writes
  /// another RunColumns); begin_runs and write_runs are the writer's own (one thread at a time).
  void begin_runs(RunColumns& columns, std::size_t n) const;
  void convert_runs(RunColumns& columns, std::size_t row0, std::size_t rows,
                    const std::uint16_t* categories, const double* values) const;
  void write_runs(RunColumns& columns, std::span<const engine::Block> blocks);
  /// Whether the file keeps per-run records (/runs).
  bool stores_runs() const noexcept { return store_runs_; }
  /// Appends the blocks' extents and their continuous fields' exact accumulator states (so that
  /// shards can be merged with the same floating-point merges as one process).
  void append_blocks(std::span<const engine::Block> blocks,
                     std::span<const engine::Summary> block_summaries);
  /// Writes the summaries' mergeable state to the checkpoint slot not in use, flushes, then
  /// names that slot and records progress; with `complete`, also the public /summary and the
  /// dimension scales, and only then sets `complete` (flushed and synced).
  void checkpoint(const std::vector<engine::Summary>& summaries, std::uint64_t runs_done,
                  double wall_seconds, bool complete);
  /// Once 8 MiB (set_writeback_bytes) were appended since the last time, makes what was appended
  /// durable on a background thread (fdatasync, BackgroundSync), without waiting: the writes and
  /// the disk's flushes overlap the simulation, so the fsync of the next checkpoint finds little
  /// left to do (on a virtual disk the final checkpoint's fsync otherwise waited ~0.1 s per 200 MB
  /// appended). A hint only, for speed: the durability guarantees stay the checkpoint's, whose sync
  /// first waits for a background sync under way and reports its error too (a writeback error is
  /// reported to one sync only). If the thread cannot start, asks the kernel to start writing
  /// instead (sync_file_range; elsewhere nothing).
  void start_writeback() noexcept;
  /// start_writeback's syncs (a test seam: their count, and a sync function of the test's).
  BackgroundSync& background_sync() noexcept { return background_; }
  /// start_writeback asks for a sync once `bytes` were allocated in the file since the last one
  /// (default 8 MiB; a test seam: 0 syncs after every wave).
  void set_writeback_bytes(std::uint64_t bytes) noexcept { writeback_bytes_ = bytes; }
  /// Writes /summary (counts, probabilities, intervals, moments, histograms).
  void write_summary(const std::vector<engine::Summary>& summaries);
  /// Closes the file.
  void close();
  /// After a write failure: fences the file (h5::fence: nothing more is written, so it stays as
  /// its last checkpoint left it; a close would otherwise flush metadata that points past the
  /// data the failed writes never stored), then closes every handle, which releases the file.
  void abandon() noexcept;
  const std::string& path() const { return path_; }
  /// The open file (for reading back what was written; invalid after close()).
  hid_t file_id() const noexcept { return file_.get(); }
  /// Installs a test probe (null: none); it must outlive the writer's use.
  void set_probe(WriterProbe* probe) noexcept { probe_ = probe; }

 private:
  void reach(WriterProbe::Step step) {
    if (probe_ != nullptr) probe_->at(step);
  }
  void open_columns();
  /// Appends n values of column k (columns_[k]) from `data`, which has 4 writable bytes of slack
  /// past the n values; full chunks directly when direct_chunk_[k] says so, and then the rows
  /// of a last, partly filled chunk into the column's tail (below) rather than HDF5's chunk cache.
  void append_column(std::size_t k, hid_t memory, void* data, std::size_t n);
  /// Writes every column's tail not yet written as it is (its chunk zero-padded, as HDF5 pads an
  /// edge chunk, with its Fletcher-32), directly; before every flush of the file.
  void write_tails();
  void sync_to_disk();
  void write_state(hid_t group, const std::vector<engine::Summary>& summaries) const;
  void write_summary_datasets(const std::vector<engine::Summary>& summaries);

  std::string path_;
  engine::FieldLayout layout_;
  bool store_runs_ = true;
  h5::Handle file_;
  h5::Handle runs_group_;
  std::vector<h5::Handle> columns_;  ///< point, replicate, categorical..., continuous...
  std::vector<h5::Handle>
      block_columns_;  ///< point, replicate_begin, count, per continuous field 6
  std::vector<std::vector<std::int64_t>> category_values_;  ///< stored value per category index
  std::vector<bool> category_wide_;                         ///< stored as uint16 (else uint8)
  std::vector<bool> category_identity_;  ///< stores the category index itself (no lookup)
  /// Per categorical column: stored as uint8 with value = scale * index + offset for every
  /// category, all in [0, 255] (identity: 1, 0): convert_runs' 16-row SSE2 path; else scale -1.
  std::vector<std::int32_t> category_scale_;
  std::vector<std::int32_t> category_offset_;
  RunColumns pending_;                    ///< the buffers of begin_runs(n) and append_runs
  std::vector<std::uint32_t> block_u32_;  ///< append_blocks: a uint32 /blocks column
  std::vector<std::uint64_t> block_u64_;  ///< append_blocks: a uint64 /blocks column
  std::vector<double> block_f64_;         ///< append_blocks: a float64 /blocks column
  RunColumns::Buffer<std::uint32_t>
      ids_;  ///< write_runs: the replicate (and a uint32 point) column
  RunColumns::Buffer<std::uint8_t> narrow_ids_;  ///< write_runs: a uint8 point column
  RunColumns::Buffer<std::uint16_t> wide_ids_;   ///< write_runs: a uint16 point column
  std::vector<hsize_t> direct_chunk_;            ///< per column: its chunk rows if full chunks are
                                                 ///< written directly (H5Dwrite_chunk), else 0
  /// Per column written directly: its last, partly filled chunk (tail_rows_[k] rows from row
  /// tail_start_[k], a chunk boundary) in tails_ at byte tail_offset_[k] (a chunk and its
  /// checksum's room each), written by write_tails() and again whenever it changed (a full chunk
  /// at once). HDF5's chunk cache would allocate, zero-fill and copy a chunk per column for it,
  /// and its filter a second copy: ~400 page faults at the end of a run, serial.
  std::vector<std::size_t> tail_rows_;
  std::vector<hsize_t> tail_start_;
  std::vector<std::size_t> tail_offset_;
  std::vector<bool> tail_written_;  ///< the file holds column k's tail as it is
  RunColumns::Buffer<std::uint8_t> tails_;
  hid_t point_type_ = H5T_NATIVE_UINT32;  ///< memory type of /runs/point
  std::uint64_t current_slot_ = 0;
  WriterProbe* probe_ = nullptr;
  BackgroundSync background_;  ///< start_writeback's syncs (stopped before the file closes)
  haddr_t requested_eoa_ = 0;  ///< HDF5's end of allocation at the last background sync asked for
  haddr_t writeback_bytes_ = haddr_t{8} << 20;  ///< set_writeback_bytes
};

/// Everything a results file says, read back.
struct ResultsInfo {
  std::string path;
  std::string format;
  std::uint64_t format_version = 0;
  std::string model;
  std::string model_version;
  std::string engine_version;
  std::string git_commit;
  std::string created;
  std::string rng;
  std::string command_line;
  std::string experiment;
  std::string design;
  std::uint64_t seed = 0;
  bool crn = false;
  std::uint64_t threads = 0;
  std::uint64_t replicates = 0;
  std::uint64_t runs_planned = 0;
  std::uint64_t block_size = 0;
  bool store_runs = false;
  std::string compression;
  bool complete = false;
  std::uint64_t runs_done = 0;
  double wall_seconds = 0.0;
  double runs_per_second = 0.0;
  std::uint64_t runs_stored = 0;
  std::vector<std::string> swept_keys;
  std::vector<std::vector<double>> values;
  std::vector<engine::Summary> summaries;
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;
  std::vector<std::pair<std::string, std::string>> libraries;
  /// The root attribute arithmetic_version (ARITHMETIC_VERSION of the build that wrote the file);
  /// nullopt in files written before it was recorded.
  std::optional<std::uint64_t> arithmetic_version;
};

/// Refuses (OutputError, exit code 3) to continue or merge the file `info` unless it records this
/// build's ARITHMETIC_VERSION: `what` is the command ("--resume", "merge"), `build_commit` this
/// build's git_commit (the application's generated version; output/ does not know it). The message
/// names the file, both versions and both builds' git_commit, and what to do (rerun with this
/// build, or use the build that wrote the file). Files without the attribute (written before it
/// existed) are refused too: they cannot be proven to compute as this build does. Reading or
/// inspecting such a file needs no check.
void check_arithmetic(const ResultsInfo& info, std::string_view what,
                      std::string_view build_commit);

/// The message check_arithmetic would throw for `info` ("" when the file records this build's
/// ARITHMETIC_VERSION): for callers that report rather than refuse (`wedge inspect`'s advice on
/// a partial file says what --resume would say).
std::string arithmetic_problem(const ResultsInfo& info, std::string_view what,
                               std::string_view build_commit);

/// Reads a results file's metadata and summaries through the checked layer (hdf5.hpp): every
/// attribute and dataset is checked for type, shape and size before it is read, and what must
/// agree does: `points`, /design and the checkpoint have one number of points; each point's
/// category counts sum to its runs and its continuous fields saw one value per run; the points'
/// runs add up to runs_done, at most runs_planned (all of them in a complete file); a complete
/// file's /summary equals its checkpoint (the authoritative copy) number for number; every /runs
/// column holds the runs done. Throws OutputError: "FILE: damaged: OBJECT: what" for a damaged
/// file, or what else is wrong (not HDF5, not a wedge results file, a newer format version,
/// locked by another process; `lock` = ours when this process holds the file's write lock).
ResultsInfo read_results(const std::string& path, const engine::FieldLayout& layout,
                         h5::LockCheck lock = h5::LockCheck::others);

/// The categories attributes of the categorical fields, /summary/<field> then /runs/<field>, in
/// the layout's order, checked against the model's (`layout`): the first that holds other
/// categories, as read_results refuses it ("FILE: damaged: /summary/format: attribute categories:
/// the categories differ from the model's"), or "" when every one that holds a list of strings
/// agrees. Everything else (a missing or unreadable attribute, another kind of file) is left to
/// read_results, which words it the same way for every reader. The Python package asks this first
/// (wedge._core.check_categories), so that a damaged category list is worded as inspect words it
/// before its own reading, which takes the file's categories as the table's shape, can fail on it.
std::string categories_problem(const std::string& path, const engine::FieldLayout& layout);

/// The first part of verify_runs, without the records: the first blocks of /blocks hold exactly
/// the runs done, each inside the plan (a fixed plan: the plan's block of its sequence number),
/// with one value per run of each continuous field. Reads /blocks only (one row a block), so it
/// is cheap whatever the number of runs. Returns those blocks; throws OutputError ("FILE:
/// damaged: OBJECT: what").
std::vector<engine::Block> verify_blocks(const ResultsInfo& info, const engine::FieldLayout& layout,
                                         h5::LockCheck lock = h5::LockCheck::others);

/// Checks the per-run bookkeeping of the runs done [0, runs_done) against the checkpoint (before
/// resuming or merging a file): the first blocks of /blocks hold exactly those runs, each inside
/// the plan (for a fixed plan: the plan's block of its sequence number) and with one value per run
/// of each continuous field; with per-run records, each record is its block's (point and
/// replicate), holds a category of its field, and each point's categories add up to the
/// checkpoint's counts; every record is read (so every chunk's checksum is checked), a slice at a
/// time. Returns the blocks whose runs are in, in file order. Throws OutputError
/// ("FILE: damaged: OBJECT: what"); Interrupted when `stop` (asked between slices of 65,536
/// records) returns true.
std::vector<engine::Block> verify_runs(const ResultsInfo& info, const engine::FieldLayout& layout,
                                       h5::LockCheck lock = h5::LockCheck::others,
                                       const std::function<bool()>& stop = {});

/// The block of a fixed plan (`points` x `replicates` in blocks of `block_size`, point by point;
/// engine::make_blocks of engine::full_plan) with sequence number `sequence`; nullopt past its end.
std::optional<engine::Block> planned_block(std::uint64_t points, std::uint64_t replicates,
                                           std::uint64_t block_size, std::uint64_t sequence);

/// Merges complete shard files (`wedge run --shard i/K`) into `out_path` (which must not exist):
/// every shard must record this build's results arithmetic (check_arithmetic, `build_commit` is
/// this build's git_commit for its message); /runs concatenated in plan order, summaries equal bit
/// for bit to one process's; returns them. Each shard is read and verified first (read_results,
/// `check_shard` if given, verify_runs), so nothing of a damaged shard is copied. Throws
/// ConfigError (bad input) if the files are not exactly the K complete shards of one experiment,
/// seed, design and storage mode, OutputError if a file cannot be read (missing, foreign, damaged),
/// its blocks are not exactly the plan's, or the output cannot be written. When two shards' stored
/// experiments differ, `experiment_difference` (if given) adds to the message what differs.
std::vector<engine::Summary> merge_shards(
    const std::vector<std::string>& paths, const std::string& out_path,
    const engine::FieldLayout& layout, const std::string& command_line,
    std::string_view build_commit, const std::function<void(const ResultsInfo&)>& check_shard = {},
    const std::function<std::string(const ResultsInfo& first, const ResultsInfo& other)>&
        experiment_difference = {});

/// Whether every category label of a field is an integer (then /runs stores the label's value).
bool numeric_categories(const engine::FieldSpec& field);

}  // namespace wedge::output
