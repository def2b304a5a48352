#pragma once
/// The one wording of a loop of symbolic links in a path the user named (an input or an output:
/// results files, --out and its FILE.partial and FILE.lock, experiment, extends and CSV files).
/// Every command that takes a path checks it with these, so a loop reads the same everywhere.
#include <sys/stat.h>

#include <cerrno>
#include <string>

namespace wedge::output {

/// Whether resolving `path` (the file itself or a directory on the way) meets a loop of symbolic
/// links: stat(2) fails with ELOOP (more than the kernel's 40 links followed).
inline bool symlink_loop(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) != 0 && errno == ELOOP;
}

/// What a loop is called, after the path and ": ".
inline constexpr const char* SYMLINK_LOOP = "too many levels of symbolic links";

/// "PATH: too many levels of symbolic links" (the caller's error type gives the exit code: bad
/// input 2 for experiment files, 3 for results files and outputs).
inline std::string symlink_loop_message(const std::string& path) {
  return path + ": " + SYMLINK_LOOP;
}

}  // namespace wedge::output
