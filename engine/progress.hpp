#pragma once
/// Progress on stderr: runs done, runs/s, ETA. One line rewritten in place on a terminal, a plain
/// line every few seconds otherwise, nothing when quiet or when the work takes under a second.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace wedge::engine {

class Progress {
 public:
  /// `total` = planned runs (0 if unknown); `quiet` silences everything.
  Progress(std::uint64_t total, bool quiet, std::FILE* out = stderr);
  /// Reports that `done` runs are complete (called between waves; cheap when nothing prints).
  void update(std::uint64_t done);
  /// Re-sets the planned total (precision mode grows it).
  void set_total(std::uint64_t total) noexcept { total_ = total; }
  /// Text before the counts, saying whose runs they are (e.g. "rank 0 of 4, its share: ").
  void set_label(std::string label) { label_ = std::move(label); }
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
  std::string label_;
  Clock::time_point start_;
  Clock::time_point last_;
};

}  // namespace wedge::engine
