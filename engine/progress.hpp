#pragma once
/// Progress on stderr: runs done, runs/s, ETA. One line rewritten in place on a terminal, a plain
/// line every few seconds otherwise, nothing when quiet or when the work takes under a second.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace wedge::engine {

class Progress {
 public:
  /// `total` = planned runs (0 if unknown); `quiet` silences everything.
  Progress(std::uint64_t total, bool quiet, std::FILE* out = stderr);
  /// Reports that `done` runs are complete (called between waves; cheap when nothing prints).
  void update(std::uint64_t done);
  /// Re-sets the planned total (precision mode grows it).
  void set_total(std::uint64_t total) noexcept { total_ = total; }
  /// Runs of an earlier session that `done` counts (--resume: the partial file's runs): shown in
  /// the counts and the percentage, left out of the runs/s (runs_per_second), as out of the ETA.
  void set_resumed(std::uint64_t runs) noexcept { resumed_ = runs; }
  /// The runs/s the line shows: this session's runs (`done` minus the `resumed` runs of an
  /// earlier session, 0 if fewer) over its `elapsed` seconds (> 0; 0 runs/s otherwise).
  static double runs_per_second(std::uint64_t done, std::uint64_t resumed, double elapsed);
  /// Text before the counts, saying whose runs they are (e.g. "rank 0 of 4, its share: ").
  void set_label(std::string label) { label_ = std::move(label); }
  /// The ETA the line shows, in seconds, or nullopt ("ETA ?") while it has no sound basis. The
  /// rate is measured from the basis: the first update that saw runs done (`base_done` runs at
  /// `base_elapsed` s), so the set-up before the first runs (10^6 design points: seconds) and
  /// runs of an earlier session (--resume) do not bias it. Sound once, since the basis, at least
  /// 1% of the `total` runs are done or ETA_MIN_SECONDS have passed with runs done; 0 when
  /// `done` >= `total` > 0; nullopt when `total` is 0 (unknown). Seconds are >= 0.
  static std::optional<double> eta_seconds(std::uint64_t total, std::uint64_t done, double elapsed,
                                           std::uint64_t base_done, double base_elapsed);
  static constexpr double ETA_MIN_SECONDS = 5.0;
  /// Ends the line on a terminal if anything was printed.
  void finish();
  double elapsed_seconds() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* out_;
  std::uint64_t total_;
  bool quiet_;
  bool tty_;
  bool printed_ = false;
  std::uint64_t resumed_ = 0;
  std::string label_;
  Clock::time_point start_;
  Clock::time_point last_;
  std::optional<std::pair<std::uint64_t, double>> base_;  ///< the ETA's basis (eta_seconds)
};

}  // namespace wedge::engine
