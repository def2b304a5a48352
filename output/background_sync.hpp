#pragma once
/// Makes a file's appended data durable on a thread of its own while the simulation goes on
/// (issue 13: records nearly free). On a virtual disk a write returns once the host holds the
/// data, and the host writes it to its storage only at the next flush (fsync): a checkpoint's
/// fsync after a second of appends then waits ~0.1 s for all of it, on the critical path. Synced
/// as the file grows, the next checkpoint's fsync finds almost nothing left to flush. A hint for
/// speed only: the checkpoints keep their own fsync, their order and their loss window; what this
/// adds is only that written data may reach the disk earlier, which the checkpoint protocol
/// already allows (the operating system may write any page at any time).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace wedge::output {

class BackgroundSync {
 public:
  /// How a descriptor is synced: returns 0, or an errno value. The default is fdatasync(2).
  using SyncFunction = std::function<int(int fd)>;
  BackgroundSync();
  /// A test seam: `sync` instead of fdatasync.
  explicit BackgroundSync(SyncFunction sync);
  ~BackgroundSync();
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  /// Asks for a sync of `fd` (an open descriptor that stays open until wait_idle() or stop()
  /// returns); never waits for one. Requests made while a sync runs are coalesced into one more
  /// sync after it. Starts the thread on first use; throws std::system_error if it cannot.
  void request(int fd);
  /// Waits until no sync is running and drops any requested but not started (the caller syncs
  /// the file itself next). Returns the first error a background sync met since the last call
  /// (an errno value; 0: none) and forgets it: a writeback error is reported to one fsync only, so
  /// the caller must report this one (its own fsync may succeed on the same lost data).
  int wait_idle();
  /// wait_idle(), then ends the thread (request() starts it again). Returns wait_idle's error.
  int stop() noexcept;
  /// Syncs completed since construction (for tests).
  std::uint64_t completed() const;
  /// A test seam: syncs from now on call `sync` instead (waits for one under way first).
  void set_sync(SyncFunction sync);

 private:
  void loop();

  SyncFunction sync_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
  int fd_ = -1;
  bool pending_ = false;  ///< a sync was asked for and not started
  bool busy_ = false;     ///< a sync is running
  bool stop_ = false;
  int error_ = 0;  ///< the first error not yet reported by wait_idle
  std::uint64_t completed_ = 0;
};

}  // namespace wedge::output
