// libFuzzer target: arbitrary bytes read as a results file, as `wedge inspect` reads one
// (experiments::inspect_results: the checked HDF5 layer, the file's invariants, the stored
// experiment resolved without touching the file system) and, when that succeeds, as --resume and
// `wedge merge` verify one (output::verify_runs: blocks and records). A bad file may only ever
// raise wedge's own errors (OutputError, ConfigError); anything else (a crash, a sanitizer report,
// std::bad_alloc, std::out_of_range, a hang) is a bug. The seeds are healthy and crafted files
// (tests/fuzz/results_seeds.sh).
//
// inspect_results reads the file in a forked child first, as `wedge inspect` does
// (output/untrusted.hpp): a crash or an allocation of what the file claims inside Debian's HDF5
// then becomes a "damaged" OutputError here, and the child ends by its signal or by _exit (its
// sanitizer report, if any, is printed but stops only the child: results_smoke.sh fails on any
// report not raised inside libhdf5). The parent then reads the file for real, instrumented, as
// the commands do. Under ASan the child cannot have an address-space limit (the shadow memory);
// an allocation above 2 GiB returns null instead (the options below), which HDF5 reports.
extern "C" const char* __asan_default_options() {  // NOLINT: the sanitizer's hook
  // A smaller quarantine (256 MB by default) keeps the process small, and its fork fast.
  return "allocator_may_return_null=1:max_allocation_size_mb=2048:detect_leaks=0:"
         "quarantine_size_mb=16";
}
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/session.hpp"
#include "output/results.hpp"
#include "output/untrusted.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // A file on which HDF5 never finishes is damaged after 1 s (the commands wait 60 s), before
  // libFuzzer's own limit per input (-timeout=10 in results_smoke.sh) calls it a hang.
  auto limits = wedge::output::untrusted::default_limits();
  limits.seconds = 1;
  wedge::output::untrusted::set_default_limits(limits);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/wedge-fuzz-results-" + std::to_string(::getpid()) + ".h5";
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (out == nullptr) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, out) != size) __builtin_trap();
  std::fclose(out);
  try {
    const auto inspected = wedge::experiments::inspect_results(path);
    const auto layout = wedge::engine::FieldLayout::from(wedge::agents::TugOfWar::fields());
    (void)wedge::output::verify_runs(inspected.info, layout);
  } catch (const wedge::Error&) {
    // A damaged, foreign or unreadable file, reported as such.
  }
  return 0;
}
