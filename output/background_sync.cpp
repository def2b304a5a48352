#include "output/background_sync.hpp"

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace wedge::output {

BackgroundSync::BackgroundSync()
    : BackgroundSync([](int fd) { return ::fdatasync(fd) == 0 ? 0 : errno; }) {}

BackgroundSync::BackgroundSync(SyncFunction sync) : sync_(std::move(sync)) {}

BackgroundSync::~BackgroundSync() { (void)stop(); }

void BackgroundSync::request(int fd) {
  std::lock_guard lock(mutex_);
  fd_ = fd;
  pending_ = true;
  if (!thread_.joinable()) {
    stop_ = false;
    thread_ = std::thread([this] { loop(); });
  }
  cv_.notify_all();
}

int BackgroundSync::wait_idle() {
  std::unique_lock lock(mutex_);
  pending_ = false;
  cv_.wait(lock, [this] { return !busy_; });
  return std::exchange(error_, 0);
}

int BackgroundSync::stop() noexcept {
  int error = 0;
  {
    std::unique_lock lock(mutex_);
    pending_ = false;
    stop_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !busy_; });
    error = std::exchange(error_, 0);
  }
  if (thread_.joinable()) thread_.join();
  return error;
}

std::uint64_t BackgroundSync::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

void BackgroundSync::set_sync(SyncFunction sync) {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return !busy_; });
  sync_ = std::move(sync);
}

void BackgroundSync::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return pending_ || stop_; });
    if (stop_) return;
    pending_ = false;
    busy_ = true;
    const int fd = fd_;
    const SyncFunction& sync = sync_;  // (set_sync waits while busy_)
    lock.unlock();
    const int error = sync(fd);
    lock.lock();
    busy_ = false;
    ++completed_;
    if (error != 0 && error_ == 0) error_ = error;
    cv_.notify_all();
  }
}

}  // namespace wedge::output
