#pragma once
/// Cooperative cancellation: a CancelToken is passed to a run in its options (RunOptions::cancel)
/// and polled at wave boundaries, so a run stops at a block boundary. Nothing here is global except
/// what signals force: SignalGuard, which the command line installs, points SIGINT/SIGTERM at one
/// token while it lives.
#include <atomic>

namespace wedge::engine {

/// A request to stop, made from any thread or from a signal handler (lock-free, async-signal-safe).
/// A token may be linked to a parent: it then also counts as requested when the parent is (a
/// session's own token, for its test seams, linked to the caller's).
class CancelToken {
 public:
  /// `parent` (may be null) must outlive the token.
  explicit CancelToken(const CancelToken* parent = nullptr) noexcept : parent_(parent) {}
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  /// Requests cancellation; `signal` is the signal number that caused it (0: requested by code).
  void request(int signal = 0) noexcept {
    signal_.store(signal, std::memory_order_relaxed);
    requested_.store(true, std::memory_order_release);
  }
  /// True once this token or its parent was requested.
  bool requested() const noexcept {
    return requested_.load(std::memory_order_acquire) ||
           (parent_ != nullptr && parent_->requested());
  }
  /// The signal that requested this token or its parent (0 if none, or requested by code).
  int signal() const noexcept {
    const int own = signal_.load(std::memory_order_relaxed);
    return own != 0 || parent_ == nullptr ? own : parent_->signal();
  }

 private:
  static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
                "signal handlers need lock-free atomics");
  std::atomic<bool> requested_{false};
  std::atomic<int> signal_{0};
  const CancelToken* parent_;
};

/// While alive, SIGINT and SIGTERM request cancellation of `token` (recording the signal);
/// the previous handlers are restored when it is destroyed. Signal handlers are process-wide, so at
/// most one guard may live at a time (a second throws std::logic_error); only the command line
/// installs one, never the library or the Python module.
class SignalGuard {
 public:
  explicit SignalGuard(CancelToken& token);
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
};

}  // namespace wedge::engine
