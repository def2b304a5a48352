#include "engine/progress.hpp"

#include <unistd.h>

namespace wedge::engine {

namespace {
constexpr double FIRST_AFTER_S = 1.0;
constexpr double TTY_EVERY_S = 0.2;
constexpr double PLAIN_EVERY_S = 10.0;
}  // namespace

Progress::Progress(std::uint64_t total, bool quiet, std::FILE* out)
    : out_(out),
      total_(total),
      quiet_(quiet),
      tty_(isatty(fileno(out)) != 0),
      start_(Clock::now()),
      last_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::optional<double> Progress::eta_seconds(std::uint64_t total, std::uint64_t done, double elapsed,
                                            std::uint64_t base_done, double base_elapsed) {
  if (total == 0) return std::nullopt;
  if (done >= total) return 0.0;
  if (done <= base_done) return std::nullopt;
  const double runs = static_cast<double>(done - base_done);
  const double seconds = elapsed - base_elapsed;
  if (!(seconds > 0)) return std::nullopt;
  if (runs * 100.0 < static_cast<double>(total) && seconds < ETA_MIN_SECONDS) return std::nullopt;
  return static_cast<double>(total - done) * seconds / runs;
}

double Progress::runs_per_second(std::uint64_t done, std::uint64_t resumed, double elapsed) {
  if (!(elapsed > 0) || done <= resumed) return 0.0;
  return static_cast<double>(done - resumed) / elapsed;
}

void Progress::update(std::uint64_t done) {
  if (quiet_) return;
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (!base_ && done > 0) base_.emplace(done, elapsed);
  if (elapsed < FIRST_AFTER_S) return;
  if (printed_ && since < (tty_ ? TTY_EVERY_S : PLAIN_EVERY_S)) return;
  last_ = now;
  const double rate = runs_per_second(done, resumed_, elapsed);
  char eta[32] = "?";
  if (const auto seconds =
          eta_seconds(total_, done, elapsed, base_ ? base_->first : 0, base_ ? base_->second : 0.0))
    std::snprintf(eta, sizeof eta, "%.0fs", *seconds);
  const double pct =
      total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 0;
  std::fprintf(out_, "%s%s%llu/%llu runs (%.1f%%), %.3g runs/s, ETA %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total_), pct, rate, eta, tty_ ? "" : "\n");
  std::fflush(out_);
  printed_ = true;
}

void Progress::finish() {
  if (!quiet_ && printed_ && tty_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

}  // namespace wedge::engine
