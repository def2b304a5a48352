// libFuzzer target: experiment text and --set assignments. Bad input may only ever raise
// ConfigError; anything else (a crash, a sanitizer report, another exception, a hang) is a bug.
#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/experiment.hpp"
#include "experiments/loader.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  wedge::experiments::Experiment e;
  bool valid = true;
  try {
    e = wedge::experiments::parse_experiment(text, "fuzz.toml");
    wedge::experiments::resolve_design(e);
  } catch (const wedge::ConfigError&) {
    valid = false;
  }
  if (valid) {
    // What a results file stores must load again, to the same text: a failure here is a bug.
    const std::string stored = wedge::experiments::to_toml(e);
    try {
      auto again = wedge::experiments::parse_experiment(stored, "again.toml");
      wedge::experiments::resolve_design(again);
      if (wedge::experiments::to_toml(again) != stored) __builtin_trap();
    } catch (const wedge::ConfigError&) {
      __builtin_trap();
    }
  }
  try {
    wedge::agents::Scenario s;
    wedge::agents::apply_assignment(s, text.substr(0, text.find('\n')));
    s.validate();
  } catch (const wedge::ConfigError&) {
  }
  return 0;
}
