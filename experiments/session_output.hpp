#pragma once
/// The results file of a Session (internal to the application layer): the output lock, creating or
/// resuming FILE.partial, the sink that streams records into it, and finishing it.
#include "experiments/session.hpp"
#include "experiments/session_rounds.hpp"
#include "output/results_sink.hpp"

#include <optional>
#include <string>

namespace wedge::experiments {

/// An exclusive lock on FILE.lock while FILE (or FILE.partial) is being written, so that a second
/// wedge process writing the same results fails at once instead of clobbering the first. The
/// kernel releases it when the process ends, however it ends: a lock file left by a process that
/// died is taken over; one held by a live process is refused.
class OutputLock {
 public:
  explicit OutputLock(std::string path);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  void take();  ///< opens and flocks the lock file (fd_), or throws
  std::string path_;
  int fd_ = -1;
};

/// Forwards the writer's steps to the caller's probe and implements the stop_after_checkpoints
/// seam.
class SeamProbe : public output::WriterProbe {
 public:
  SeamProbe(output::WriterProbe* next, std::uint64_t stop_after_checkpoints)
      : next_(next), stop_after_(stop_after_checkpoints) {}
  /// The token to request once the checkpoint budget is spent (set for each execution).
  void stop_with(engine::CancelToken* token) noexcept { stop_ = token; }
  void at(Step step) override;

 private:
  output::WriterProbe* next_;
  std::uint64_t stop_after_;
  std::uint64_t named_ = 0;
  engine::CancelToken* stop_ = nullptr;
};

struct Session::Output {
  std::string path;
  std::string partial;
  std::optional<OutputLock> lock;
  std::optional<output::ResultsWriter> writer;
  std::optional<output::ResultsSink<agents::TugOfWar>> sink;
  std::optional<SeamProbe> probe;
  RoundsOutput rounds;                   ///< /rounds under --store rounds (session_rounds.hpp)
  std::vector<engine::Summary> resumed;  ///< the partial file's summaries (resume), else empty
  std::uint64_t already = 0;             ///< runs in the partial file (resume)
  /// Called with FILE.partial, closed and complete, just before it is renamed to FILE.
  std::function<void(const std::string&)> before_rename;

  /// Creates FILE.partial for `session` (removing a stale one, which the session's checks allowed).
  void create(const Session& session, std::uint64_t threads);
  /// Reopens FILE.partial after checking it holds this experiment, seed and storage mode and that
  /// its records agree with its checkpoint; `blocks` loses the blocks already done.
  void resume(const Session& session, engine::BlockRange& blocks, double checkpoint_seconds);
  /// Final checkpoint; complete: renamed to FILE. Returns the path of the file left.
  std::string finish(bool complete);
  /// After a write failure: the file stays exactly as its last checkpoint left it.
  void abandon() noexcept;
  /// The test seam TestSeams::disk_fault, on the open file.
  void inject_fault(const Session& session);
};

/// The results file's root attributes for a session's experiment.
output::Metadata metadata(const Experiment& e, const std::string& command_line, bool store_runs,
                          bool compress, std::uint64_t threads);

}  // namespace wedge::experiments
