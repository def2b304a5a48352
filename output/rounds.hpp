#pragma once
/// The per-round table of a results file (`wedge run --store rounds`; docs/output-format.md,
/// "/rounds"): one row per round of every stored run, flat, in the order of /runs, and an index
/// `/rounds/run_begin` (one entry per run: the row of its first round). Run i's rounds are rows
/// [run_begin[i], run_begin[i] + /runs/<size>[i]), where <size> is the /runs column that counts
/// them (the group's attribute `size_column`, e.g. "rounds"). Written next to /runs into the same
/// file and covered by the same checkpoints: the rows of a wave are appended before its records,
/// so a checkpoint that names runs_done always has their rounds on disk. Model-agnostic: the
/// columns are whatever fields the caller declares.
#include "engine/fields.hpp"
#include "output/hdf5.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace wedge::output {

/// Root attribute (uint64, 1) of a file that holds /rounds. Its root attribute `store` stays
/// "runs": every reader of /runs reads such a file unchanged.
inline constexpr const char* ROUNDS_ATTRIBUTE = "store_rounds";

/// Appends round rows to the /rounds group of a results file through the ResultsWriter's own file
/// identifier (ResultsWriter::file()), so that the writer's checkpoints flush them with /runs.
class RoundsWriter {
 public:
  /// Adds an empty /rounds (columns `columns`, index run_begin, attribute size_column) to the
  /// results file `file` (named `path` in messages) just created, and sets its root attribute
  /// store_rounds = 1. `compress`: shuffle + deflate, as --compression deflate does for /runs.
  RoundsWriter(hid_t file, const std::string& path, const engine::FieldLayout& columns,
               const std::string& size_column, bool compress);
  /// Reopens /rounds of a partial file to continue it: keeps the rows of its first `runs_done`
  /// runs (as verify_rounds found them) and drops the rest.
  RoundsWriter(hid_t file, const std::string& path, const engine::FieldLayout& columns,
               std::uint64_t runs_done);

  /// Appends consecutive runs: run i has sizes[i] rows; row r's category indices are
  /// categories[r * C + c] and its values values[r * V + v] (stored as the columns' types).
  void append(std::span<const std::uint32_t> sizes, std::span<const std::uint16_t> categories,
              std::span<const double> values);
  /// Rows and runs written so far.
  std::uint64_t rows() const noexcept { return rows_; }
  std::uint64_t runs() const noexcept { return runs_; }
  /// Closes this writer's datasets (before the results writer closes the file).
  void close();
  /// After a write failure: fences the file, then closes the handles (see ResultsWriter::abandon).
  void abandon() noexcept;

 private:
  void open_columns();

  std::string path_;
  engine::FieldLayout layout_;
  hid_t file_;  ///< not owned: the ResultsWriter's
  h5::Handle group_;
  h5::Handle run_begin_;
  std::vector<h5::Handle> columns_;                         ///< categorical..., continuous...
  std::vector<std::vector<std::int64_t>> category_values_;  ///< stored value per category index
  std::vector<bool> category_wide_;                         ///< stored as uint16 (else uint8)
  std::uint64_t rows_ = 0;
  std::uint64_t runs_ = 0;
};

/// Whether the results file at `path` holds /rounds (its root attribute store_rounds is 1).
bool has_rounds(const std::string& path, h5::LockCheck lock = h5::LockCheck::ours);

/// Checks /rounds of the results file at `path` (which has_rounds) through the checked layer
/// (output/hdf5.hpp): a hard-linked group whose every link is a hard link to a 1-D dataset of
/// numbers stored in the file (no external or virtual storage, no filter wedge does not write),
/// run_begin holding at least `runs` entries, size_column naming a /runs column. Every other
/// reader of /rounds (verify_rounds, merge_rounds, inspect) calls it first. Throws
/// OutputError("FILE: damaged: OBJECT: what").
void check_rounds(const std::string& path, std::uint64_t runs, h5::LockCheck lock);

/// Before resuming: checks that /rounds of `path` holds the rounds of its first `runs_done` runs
/// (run_begin starts at 0 and steps by the size column's values, the rows are there, and every
/// chunk of every column reads, which checks its checksum). `lock`: ours when this process holds
/// the file's write lock (--resume), others for a reader (inspect). Throws OutputError("...:
/// damaged: ...").
void verify_rounds(const std::string& path, std::uint64_t runs_done,
                   h5::LockCheck lock = h5::LockCheck::ours);

/// Adds /rounds to `out_path`, the merge of the complete shard files `shards` (merge_shards has
/// written it and closed it): the shards' rows concatenated in the order of the whole run's
/// blocks (/blocks/sequence), as /runs is, with run_begin recomputed. Throws OutputError.
void merge_rounds(const std::vector<std::string>& shards, const std::string& out_path);

/// netCDF dimension scales for /rounds of a complete file whose other scales are written
/// (write_dimension_scales): the flat columns on the dimension `round_row` (a root dataset never
/// written, like /run), run_begin on `run`; CF flag_values/flag_meanings on index-encoded columns.
void write_rounds_dimension_scales(const std::string& path);

}  // namespace wedge::output
