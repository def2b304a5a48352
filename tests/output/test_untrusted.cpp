// The child-process guard for results files from elsewhere (output/untrusted.hpp): what the child
// reports reaches the parent as the same error; a child that crashes, runs out of memory or out of
// time makes the file damaged; the child changes nothing in the parent. The files that crash
// Debian's HDF5 itself are run through `wedge inspect`, `merge` and `--resume` by
// tests/output/untrusted_files.sh.
#include "../error_text.hpp"
#include "engine/error.hpp"
#include "output/hdf5.hpp"
#include "output/untrusted.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <vector>

using namespace wedge;
namespace untrusted = wedge::output::untrusted;

namespace {

/// Limits small enough for a test: 256 MiB, 2 s.
// A small memory limit; the time limit is the default's (60 s): only the time-limit case below
// sets its own, and 2 s let a crash case under TSan and load report the time limit instead.
untrusted::Limits small_limits() { return {.memory_bytes = 256ull << 20, .seconds = 60}; }

std::string probe_error(const std::function<void()>& read,
                        const untrusted::Limits& limits = small_limits()) {
  return test::error_text<OutputError>([&] { untrusted::probe("F.h5", read, limits); });
}

}  // namespace

TEST_CASE("a child that succeeds lets the caller go on, and changes nothing in the parent") {
  int touched = 0;
  untrusted::probe(
      "F.h5", [&] { touched = 1; }, small_limits());
  CHECK(touched == 0);  // the child's memory is its own
}

TEST_CASE("the child's own errors reach the parent with their type and text") {
  CHECK(probe_error([] { throw OutputError("F.h5: damaged: /summary: missing"); }) ==
        "F.h5: damaged: /summary: missing");
  CHECK(test::error_text<ConfigError>([] {
          untrusted::probe(
              "F.h5", [] { throw ConfigError("merge: not shards of one run"); }, small_limits());
        }) == "merge: not shards of one run");
  CHECK(test::error_text<Interrupted>([] {
          untrusted::probe(
              "F.h5", [] { throw Interrupted("interrupted while reading F.h5"); }, small_limits());
        }) == "interrupted while reading F.h5");
  // Not an error of the file: a defect, reported as such (exit code 1 in main), not as damage.
  CHECK(test::error_text<std::runtime_error>([] {
          untrusted::probe(
              "F.h5", [] { throw std::out_of_range("vector::_M_range_check"); }, small_limits());
        }) == "vector::_M_range_check");
}

TEST_CASE("a child that crashes makes the file damaged, naming the signal") {
  CHECK(probe_error([] { std::raise(SIGSEGV); }) ==
        "F.h5 is damaged: reading its metadata crashed the HDF5 library (SIGSEGV); nothing was "
        "written");
  CHECK(probe_error([] { std::abort(); }) ==
        "F.h5 is damaged: reading its metadata crashed the HDF5 library (SIGABRT); nothing was "
        "written");
  CHECK(probe_error([] { ::_exit(5); }) ==
        "F.h5 is damaged: reading its metadata crashed the HDF5 library (the reading process "
        "ended with status 5); nothing was written");
}

TEST_CASE("a child of SIGINT or SIGTERM is an interruption, not damage") {
  CHECK(test::error_text<Interrupted>([] {
          untrusted::probe(
              "F.h5", [] { std::raise(SIGINT); }, small_limits());
        }) == "interrupted while reading F.h5");
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// (The sanitizers' shadow memory rules out an address-space limit: see output/untrusted.cpp.)
TEST_CASE("a child that needs more memory than the limit makes the file damaged") {
  const std::string want =
      "F.h5 is damaged: reading its metadata needed more than 256 MiB of memory (the HDF5 library "
      "allocates what the file claims); nothing was written";
  CHECK(probe_error([] {
          std::vector<char> huge(1ull << 30);  // 1 GiB: std::bad_alloc under the limit
          huge[0] = 1;
        }) == want);
  // C's malloc fails with ENOMEM inside an HDF5 call, which then fails (reported through the
  // checked layer: errno is read right after the failed call).
  CHECK_THAT(
      probe_error([] {
        std::unique_ptr<void, decltype(&std::free)> p(std::malloc(1ull << 30), &std::free);
        if (p == nullptr) output::h5::check(-1, "F.h5: damaged: attribute x: cannot read");
      }),
      Catch::StartsWith("F.h5 is damaged: reading its metadata needed more than 256 MiB of memory "
                        "(the HDF5 library allocates what the file claims); at attribute x: "
                        "cannot read"));
  // The message names the memory the child had: less than the limit asked for when the user's
  // own address-space limit (ulimit -v) leaves less.
  {
    rlimit before{};
    REQUIRE(::getrlimit(RLIMIT_AS, &before) == 0);
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    REQUIRE(std::fscanf(f, "%llu", &pages) == 1);
    std::fclose(f);
    rlimit lower = before;
    lower.rlim_cur = pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) + (128ull << 20);
    REQUIRE(::setrlimit(RLIMIT_AS, &lower) == 0);
    const auto error = probe_error([] {
      std::vector<char> huge(1ull << 30);
      huge[0] = 1;
    });
    REQUIRE(::setrlimit(RLIMIT_AS, &before) == 0);
    CHECK_THAT(error, Catch::Matches("F\\.h5 is damaged: reading its metadata needed more than "
                                     "1[0-2][0-9] MiB of memory \\(what the address-space limit "
                                     "in force, ulimit -v, left\\) .*"));
  }
  // The limit is above what the child inherits: a parent that holds more than the limit already
  // can still read.
  std::vector<char> held(300ull << 20, 1);
  untrusted::probe(
      "F.h5", [] { std::vector<char> small(64ull << 20, 1); }, small_limits());
  CHECK(held.back() == 1);
}
#endif

TEST_CASE("out of memory only on the child's own evidence, not a stale errno or the parent's") {
  // A plain error with ENOMEM left in errno (glibc's malloc leaves it after a failed sbrk whose
  // mmap fallback succeeded; the sanitizers' allocators too): the error, not "out of memory".
  CHECK(probe_error([] {
          errno = ENOMEM;
          throw OutputError("F.h5: damaged: /summary: missing");
        }) == "F.h5: damaged: /summary: missing");
  // An allocation failure the parent saw before the fork is no evidence of the child's.
  errno = ENOMEM;
  CHECK_THROWS_AS(output::h5::check(-1, "in the parent"), OutputError);
  CHECK(output::h5::allocation_failed());
  CHECK(probe_error([] { throw OutputError("F.h5: damaged: /summary: missing"); }) ==
        "F.h5: damaged: /summary: missing");
  output::h5::reset_allocation_failed();
}

TEST_CASE("a child that takes longer than the limit is killed, and the file is damaged") {
  CHECK(probe_error([] { ::sleep(30); }, {.memory_bytes = 256ull << 20, .seconds = 0.3}) ==
        "F.h5 is damaged: reading its metadata took longer than 0.3 s (the HDF5 library did not "
        "finish); nothing was written");
}

TEST_CASE("the default limits are 2 GiB (at most half the machine's memory) and 60 s") {
  const auto limits = untrusted::default_limits();
  const auto half = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                    static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 2;
  CHECK(limits.memory_bytes == std::min<std::uint64_t>(2ull << 30, half));
  CHECK(limits.seconds == 60);
}
