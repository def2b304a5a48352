// libFuzzer target: arbitrary bytes read as a results file, as `wedge inspect` reads one
// (experiments::inspect_results: the checked HDF5 layer, the file's invariants, the stored
// experiment resolved without touching the file system) and, when that succeeds, as --resume and
// `wedge merge` verify one (output::verify_runs: blocks and records). A bad file may only ever
// raise wedge's own errors (OutputError, ConfigError); anything else (a crash, a sanitizer report,
// std::bad_alloc, std::out_of_range, a hang) is a bug. The seeds are healthy and crafted files
// (tests/fuzz/results_seeds.sh).
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/session.hpp"
#include "output/results.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

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
