// libFuzzer target: experiment text (stored and as a file), CSV files of design points, --set
// assignments and numeric option texts. Bad input may only ever raise ConfigError; anything else
// (a crash, a sanitizer report, another exception, a hang) is a bug, and so is a disagreement
// between `wedge validate` (every problem) and a run (the first problem).
#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/experiment.hpp"
#include "experiments/loader.hpp"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

/// A file holding `text` while it lives, in memory (/dev/shm) where possible so that other
/// processes' disk traffic never stalls the run, named by this process's id, removed at the end
/// of each input (libFuzzer may end the process without running exit handlers).
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& text) {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = std::string(dir) + "/wedge-fuzz-" + std::to_string(::getpid()) + "-" + name;
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Designs of more points than this are not resolved: under ASan a 100,000-point grid takes
/// seconds, and mutations of such seeds would slow the run to a crawl for no new code.
constexpr std::uint64_t MAX_POINTS = 20'000;

bool small(const wedge::experiments::Experiment& e) {
  try {
    return wedge::experiments::design_points(e) <= MAX_POINTS;
  } catch (const wedge::ConfigError&) {
    return true;  // too many points: refused before anything is built
  }
}

/// The stored-experiment round trip: what a results file stores must load again, to the same text.
void stored(const std::string& text) {
  wedge::experiments::Experiment e;
  try {
    e = wedge::experiments::parse_experiment(text, "fuzz.toml");
    if (!small(e)) return;
    wedge::experiments::resolve_design(e);
  } catch (const wedge::ConfigError&) {
    return;
  }
  const std::string toml = wedge::experiments::to_toml(e);
  try {
    auto again = wedge::experiments::parse_experiment(toml, "again.toml", false);
    wedge::experiments::resolve_design(again);
    if (wedge::experiments::to_toml(again) != toml) __builtin_trap();
  } catch (const wedge::ConfigError&) {
    __builtin_trap();
  }
}

/// The text as an experiment file: validate's list is empty exactly when the file loads and
/// resolves, and a run's error is the first line validate prints.
void file(const std::string& text) {
  const TempFile toml("fuzz.toml", text);
  const std::string& path = toml.path();
  try {
    if (!small(wedge::experiments::load_experiment(path))) return;
  } catch (const wedge::ConfigError&) {
  }
  const auto problems = wedge::experiments::experiment_problems(path);
  std::string error;
  try {
    auto e = wedge::experiments::load_experiment(path);
    wedge::experiments::resolve_design(e);
  } catch (const wedge::ConfigError& err) {
    error = err.what();
  }
  if (problems.empty() != error.empty()) __builtin_trap();
  if (!error.empty() && problems.front() != error) __builtin_trap();
}

/// The text as a CSV file of design points.
void csv(const std::string& text) {
  const TempFile points("fuzz.csv", text);
  const TempFile toml("csv.toml", "[sweep]\ndesign = \"list\"\ncsv = \"" + points.path() + "\"\n");
  try {
    auto e = wedge::experiments::load_experiment(toml.path());
    wedge::experiments::resolve_design(e);
  } catch (const wedge::ConfigError&) {
  }
}

/// The first line as a --set assignment and as option values.
void line(const std::string& first) {
  try {
    wedge::experiments::Experiment e;
    wedge::experiments::apply_overrides(e, {first});
    e.base.validate();
  } catch (const wedge::ConfigError&) {
  }
  // An accepted integer text reads back as the number it spells.
  if (wedge::experiments::integer_problem(first, wedge::experiments::SEED_RANGE).empty()) {
    const auto seed = wedge::experiments::parse_integer(first, wedge::experiments::SEED_RANGE);
    if (first.find(std::to_string(seed)) == std::string::npos && seed != 0) __builtin_trap();
  }
  if (wedge::experiments::real_problem(first, wedge::experiments::PRECISION_RANGE).empty()) {
    const double v = wedge::experiments::parse_real(first, wedge::experiments::PRECISION_RANGE);
    if (!(v >= 1e-6 && v <= 0.5)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  stored(text);
  file(text);
  csv(text);
  line(text.substr(0, text.find('\n')));
  return 0;
}
