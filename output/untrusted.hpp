#pragma once
/// Reading results files from elsewhere in a child process first (docs/design.md, "Reading files
/// from elsewhere"; docs/reliability.md). Debian 12's HDF5 1.10.8 itself crashes (SIGSEGV in
/// H5HG_read, a heap overflow in H5Aexists) or allocates what a damaged file claims (4 GiB in
/// H5T__conv_vlen) on some damaged files, before any check of wedge's can see the bytes. So every
/// command that opens a file it did not just write runs its metadata read in a forked child
/// first, under a memory and a time limit; a child that dies, runs out of memory or out of time
/// makes the file "damaged", and only a child that succeeded lets the parent read for real. HDF5
/// is deterministic, so the parent's read takes the child's path.
#include <cstdint>
#include <functional>
#include <string>

namespace wedge::output::untrusted {

/// What the child may use.
struct Limits {
  /// Address space the child may add to what it inherits (RLIMIT_AS = inherited + this), bytes.
  std::uint64_t memory_bytes = 0;
  /// Wall-clock time the child may take, seconds; then it is killed (SIGKILL).
  double seconds = 0;
};

/// The limits every command uses: 2 GiB of memory (half of the machine's physical memory when
/// that is less), 60 s; or those set by set_default_limits.
Limits default_limits();
/// Replaces the default limits for this process (the results fuzzer: 1 s, within libFuzzer's
/// own time limit per input).
void set_default_limits(const Limits& limits);

/// Runs `read` (which must read `path` exactly as the caller will read it afterwards, and write
/// nothing) in a forked child, and returns when it succeeded. Throws:
///  - the child's own error, with its type and text, when `read` threw a wedge::Error
///    (ConfigError, OutputError, Interrupted);
///  - OutputError("PATH is damaged: reading its metadata crashed the HDF5 library (SIGSEGV);
///    nothing was written") when the child died by a signal (or a sanitizer stopped it), ran out
///    of memory (an allocation failed under the limit) or out of time;
///  - Interrupted when the child died of SIGINT or SIGTERM (the user's Ctrl-C reaches both);
///  - OutputError when no child can be started (fork or pipe failed).
/// The child only reads: it resets the crash signals to their default action, sends its standard
/// error (and glibc's fatal messages) to /dev/null in a build without sanitizers (the parent's
/// message says what happened; a crash had shown glibc's "double free" line first), sets the
/// limits, runs `read`, reports through a pipe and ends with _exit (no exit handlers: HDF5 files
/// the parent has open are not flushed by the child). Call it from the thread that reads, before
/// worker threads call HDF5 (a child has only the forking thread; see docs/design.md).
void probe(const std::string& path, const std::function<void()>& read,
           const Limits& limits = default_limits());

}  // namespace wedge::output::untrusted
