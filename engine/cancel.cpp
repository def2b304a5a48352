#include "engine/cancel.hpp"

#include <csignal>
#include <stdexcept>

namespace wedge::engine {

namespace {
// The one token signals are pointed at (signal handlers cannot carry state of their own).
std::atomic<CancelToken*> g_token{nullptr};
static_assert(std::atomic<CancelToken*>::is_always_lock_free,
              "signal handlers need lock-free atomics");

struct sigaction g_old_int;
struct sigaction g_old_term;

extern "C" void on_signal(int sig) {
  if (CancelToken* token = g_token.load(std::memory_order_acquire)) token->request(sig);
}
}  // namespace

SignalGuard::SignalGuard(CancelToken& token) {
  CancelToken* expected = nullptr;
  if (!g_token.compare_exchange_strong(expected, &token)) {
    throw std::logic_error(
        "SignalGuard: a guard is already installed (signal handlers are process-wide)");
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

SignalGuard::~SignalGuard() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  g_token.store(nullptr, std::memory_order_release);
}

}  // namespace wedge::engine
