#pragma once
/// Cooperative cancellation on SIGINT/SIGTERM: the handler only sets a flag; the runner checks it
/// between waves of blocks and stops at a block boundary.
#include <atomic>

namespace wedge::engine {

/// Installs SIGINT and SIGTERM handlers that request cancellation; restores the previous
/// handlers when destroyed.
class SignalGuard {
 public:
  SignalGuard();
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;
};

/// True once SIGINT or SIGTERM arrived (while a SignalGuard was alive) or request_cancel() ran.
bool cancel_requested() noexcept;
/// The signal that requested cancellation (0 if none or requested programmatically).
int cancel_signal() noexcept;
/// Requests cancellation from code (tests, embedding applications).
void request_cancel() noexcept;
/// Clears a previous request.
void clear_cancel() noexcept;

}  // namespace wedge::engine
