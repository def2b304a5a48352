#include "output/untrusted.hpp"

#include "engine/error.hpp"
#include "output/hdf5.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>

// The sanitizers (the fuzz and dev builds) reserve terabytes of address space for their shadow
// memory, so RLIMIT_AS cannot bound the child there; their allocator's own limit does
// (tests/fuzz/fuzz_results.cpp sets max_allocation_size_mb).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WEDGE_UNTRUSTED_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define WEDGE_UNTRUSTED_SANITIZED 1
#endif
#endif

// Defined by every sanitizer runtime (weak: null in a build without one).
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)());

namespace wedge::output::untrusted {

namespace {

constexpr std::uint64_t GIB = 1ull << 30;

// What the child reports: one byte, then the error's text.
constexpr char OK = 'O';
constexpr char CONFIG_ERROR = 'C';
constexpr char OUTPUT_ERROR = 'E';
constexpr char INTERRUPTED = 'I';
constexpr char OUT_OF_MEMORY = 'M';  // then the memory budget in bytes, '\n', where it ran out
constexpr char OTHER_ERROR = 'X';
// The child's exit status when a sanitizer stopped it (a memory error in HDF5 that an intercepted
// memcpy or strlen saw; libFuzzer's own death callback would record the child as the fuzzer's
// crash).
constexpr int SANITIZER_EXIT = 97;
// The child's exit status when its read ran out of memory, by explicit evidence only: a
// std::bad_alloc, or an HDF5 call that failed allocating (its error stack, or malloc's ENOMEM in
// errno right after the failed call: h5::allocation_failed). errno at the catch is no evidence:
// glibc's malloc leaves ENOMEM there after a failed sbrk even when its mmap fallback succeeds, and
// the sanitizers' allocators set it too (a stale ENOMEM made a plain error "out of memory").
constexpr int OUT_OF_MEMORY_EXIT = 98;

void sanitizer_death() { ::_exit(SANITIZER_EXIT); }

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

/// The address space this process has mapped, in bytes (/proc/self/statm), 0 if unknown.
std::uint64_t mapped_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long pages = 0;
  const int got = std::fscanf(f, "%llu", &pages);
  std::fclose(f);
  return got == 1 ? pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

[[noreturn]] void run_child(int out, const std::function<void()>& read, const Limits& limits) {
  // Crashes end the child by their signal, for the parent to see (not a sanitizer's or
  // libFuzzer's handler, which would report the child as the parent's crash); Ctrl-C ends it too.
  for (int sig :
       {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGINT, SIGTERM, SIGXCPU}) {
    std::signal(sig, SIG_DFL);
  }
  std::signal(SIGPIPE, SIG_IGN);  // a parent gone: the report fails quietly
#ifndef WEDGE_UNTRUSTED_SANITIZED
  // The C library's own words when HDF5 crashes the child ("free(): double free detected in
  // tcache 2") would come before the parent's message, which names the file and what happened:
  // the child's standard error goes nowhere, and glibc's fatal messages there rather than to the
  // terminal. (HDF5's error stack is off already; a sanitized build keeps its reports.)
  ::setenv("LIBC_FATAL_STDERR_", "1", 1);
  if (const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC); null >= 0) {
    ::dup2(null, STDERR_FILENO);
    ::close(null);
  }
#endif
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(sanitizer_death);
  // The memory the read may add: the limit asked for, or less when the user's own address-space
  // limit (ulimit -v) leaves less; what the message names.
  std::uint64_t budget = limits.memory_bytes;
#ifndef WEDGE_UNTRUSTED_SANITIZED
  rlimit as{};
  ::getrlimit(RLIMIT_AS, &as);
  const std::uint64_t mapped = mapped_bytes();
  const std::uint64_t cap = mapped + limits.memory_bytes;
  // Never above the user's own limits (soft or hard): they were set on purpose.
  rlim_t want = cap;
  if (as.rlim_cur != RLIM_INFINITY) want = std::min<rlim_t>(want, as.rlim_cur);
  if (as.rlim_max != RLIM_INFINITY) want = std::min<rlim_t>(want, as.rlim_max);
  as.rlim_cur = want;
  ::setrlimit(RLIMIT_AS, &as);
  ::getrlimit(RLIMIT_AS, &as);
  if (as.rlim_cur != RLIM_INFINITY)
    budget = std::min<std::uint64_t>(budget, as.rlim_cur > mapped ? as.rlim_cur - mapped : 0);
#endif
  // CPU time as a second bound, should the parent not be there to kill the child.
  rlimit cpu{};
  ::getrlimit(RLIMIT_CPU, &cpu);
  const auto seconds = static_cast<rlim_t>(limits.seconds) + 1;
  if (cpu.rlim_max == RLIM_INFINITY || seconds < cpu.rlim_max) cpu.rlim_cur = seconds;
  ::setrlimit(RLIMIT_CPU, &cpu);

  std::string report;
  const auto out_of_memory = [&](const std::string& where) {
    return std::string(1, OUT_OF_MEMORY) + std::to_string(budget) + "\n" + where;
  };
  h5::reset_allocation_failed();  // what the parent saw is no evidence of the child's failure
  errno = 0;
  try {
    read();
    report = std::string(1, OK);
  } catch (const std::bad_alloc&) {
    report = out_of_memory("");
  } catch (const ConfigError& e) {
    report = std::string(1, CONFIG_ERROR) + e.what();
  } catch (const OutputError& e) {
    report =
        h5::allocation_failed() ? out_of_memory(e.what()) : std::string(1, OUTPUT_ERROR) + e.what();
  } catch (const Interrupted& e) {
    report = std::string(1, INTERRUPTED) + e.what();
  } catch (const std::exception& e) {
    report = std::string(1, OTHER_ERROR) + e.what();
  } catch (...) {
    report = std::string(1, OTHER_ERROR) + "an unknown exception";
  }
  write_all(out, report);
  ::_exit(report.front() == OUT_OF_MEMORY ? OUT_OF_MEMORY_EXIT : 0);
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev != nullptr ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

std::string byte_limit(std::uint64_t bytes) {
  if (bytes % GIB == 0) return fmt::format("{} GiB", bytes / GIB);
  return fmt::format("{} MiB", bytes >> 20);
}

[[noreturn]] void damaged(const std::string& path, const std::string& what) {
  throw OutputError(fmt::format("{} is damaged: {}; nothing was written", path, what));
}

}  // namespace

namespace {
std::optional<Limits> chosen_limits;
}  // namespace

void set_default_limits(const Limits& limits) { chosen_limits = limits; }

Limits default_limits() {
  if (chosen_limits) return *chosen_limits;
  Limits limits;
  limits.memory_bytes = 2 * GIB;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    const std::uint64_t half =
        static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 2;
    if (half < limits.memory_bytes) limits.memory_bytes = half;
  }
  limits.seconds = 60;
  return limits;
}

void probe(const std::string& path, const std::function<void()>& read, const Limits& limits) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw OutputError(fmt::format("{}: cannot check the file in a child process: pipe: {}", path,
                                  std::strerror(errno)));
  }
  std::fflush(nullptr);  // nothing buffered is written twice (the child never flushes anyway)
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw OutputError(fmt::format("{}: cannot check the file in a child process: fork: {}", path,
                                  std::strerror(err)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], read, limits);
  }
  ::close(fds[1]);

  // Read the report until the child closes the pipe (it ends), or until the time limit.
  std::string report;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long long>(limits.seconds * 1000));
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of file: the child has ended (or closed the pipe by dying)
    report.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  if (timed_out) {
    damaged(path, fmt::format("reading its metadata took longer than {:g} s (the HDF5 library did "
                              "not finish)",
                              limits.seconds));
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGINT || sig == SIGTERM)
      throw Interrupted(fmt::format("interrupted while reading {}", path));
    if (sig == SIGXCPU) {
      damaged(path, fmt::format("reading its metadata took longer than {:g} s of CPU time (the "
                                "HDF5 library did not finish)",
                                limits.seconds));
    }
    if (sig == SIGKILL) {  // not ours (that is timed_out): the kernel's, out of memory
      damaged(path, "reading its metadata was killed (SIGKILL; out of memory?)");
    }
    damaged(path,
            fmt::format("reading its metadata crashed the HDF5 library ({})", signal_name(sig)));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == SANITIZER_EXIT) {
    damaged(path,
            "reading its metadata crashed the HDF5 library (a memory error the sanitizer "
            "stopped)");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == OUT_OF_MEMORY_EXIT && !report.empty() &&
      report.front() == OUT_OF_MEMORY) {
    // "M<budget>\n<where it ran out>" ("attribute fmt_version: cannot read: ...", without the
    // file's name).
    const auto newline = report.find('\n');
    std::uint64_t budget = limits.memory_bytes;
    if (newline != std::string::npos) {
      const std::string digits = report.substr(1, newline - 1);
      if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos)
        budget = std::stoull(digits);
    }
    std::string where = newline == std::string::npos ? std::string() : report.substr(newline + 1);
    if (const std::string prefix = path + ": damaged: "; where.starts_with(prefix))
      where.erase(0, prefix.size());
    damaged(path, fmt::format("reading its metadata needed more than {} of memory{} (the HDF5 "
                              "library allocates what the file claims){}",
                              byte_limit(budget),
                              budget < limits.memory_bytes
                                  ? " (what the address-space limit in force, ulimit -v, left)"
                                  : "",
                              where.empty() ? "" : fmt::format("; at {}", where)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || report.empty()) {
    damaged(path, fmt::format("reading its metadata crashed the HDF5 library (the reading "
                              "process ended with status {})",
                              WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
  const std::string text = report.substr(1);
  switch (report.front()) {
    case OK:
      return;
    case CONFIG_ERROR:
      throw ConfigError(text);
    case OUTPUT_ERROR:
      throw OutputError(text);
    case INTERRUPTED:
      throw Interrupted(text);
    default:  // not an error of a file: a defect of wedge's, reported as the parent would
      throw std::runtime_error(text);
  }
}

}  // namespace wedge::output::untrusted
