// The regression driver (tests/regression/README.md): runs an experiment as `wedge run` resolves
// it, but with a chosen SIMD lane width and thread count, prints the `--json` document on stdout
// and writes every run's observed record columns, in the order the results file stores them, to
// a file whose SHA-256 regress.py compares with the pin.
//
//   wedge_regress --width W --threads T --records FILE [EXPERIMENT.toml] [--runs N] [--seed S]
//                 [--set key=value]... [--crn] [--precision E] [--max-runs N]
//
// Exit codes: 0 done, 2 bad arguments or experiment, 77 the CPU or build lacks width W.
#include "agents/kernel.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "engine/precision.hpp"
#include "engine/runner.hpp"
#include "experiments/experiment.hpp"
#include "experiments/loader.hpp"
#include "experiments/report.hpp"
#include "experiments/session.hpp"

#include <tbb/global_control.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using wedge::agents::RunRecord;
using wedge::agents::TugOfWar;

/// The model with its lane width fixed (instead of the widest the CPU has).
template <int W>
struct AtWidth : TugOfWar {
  static void run_block(const wedge::agents::Scenario& s, const wedge::engine::StreamKey& key,
                        std::uint32_t count, RunRecord* out) {
    if (!wedge::agents::run_block_width(W, s, key.seed, key.point, key.replicate, count, out)) {
      std::fprintf(stderr, "wedge_regress: lane width %d is not available\n", W);
      std::exit(77);
    }
  }
};

/// Writes each record's observed columns (categories as little-endian uint16, then continuous
/// values as their IEEE-754 bits, little-endian uint64) in the order it receives them.
class ColumnWriter : public wedge::engine::RecordSink<RunRecord> {
 public:
  explicit ColumnWriter(std::FILE* out) : out_(out) {}
  void consume(std::span<const wedge::engine::Block> /*blocks*/, std::span<const RunRecord> records,
               std::span<const wedge::engine::Summary> /*summaries*/) override {
    std::array<std::uint16_t, wedge::engine::MAX_FIELDS> cats{};
    std::array<double, wedge::engine::MAX_FIELDS> values{};
    std::vector<unsigned char> bytes;
    for (const RunRecord& r : records) {
      TugOfWar::observe(r, cats.data(), values.data());
      for (std::size_t i = 0; i < categorical_; ++i) {
        bytes.push_back(static_cast<unsigned char>(cats[i] & 0xFF));
        bytes.push_back(static_cast<unsigned char>(cats[i] >> 8));
      }
      for (std::size_t i = 0; i < continuous_; ++i) {
        std::uint64_t bits = 0;
        std::memcpy(&bits, &values[i], sizeof bits);
        for (int b = 0; b < 8; ++b) bytes.push_back(static_cast<unsigned char>(bits >> (8 * b)));
      }
    }
    if (std::fwrite(bytes.data(), 1, bytes.size(), out_) != bytes.size()) {
      throw std::runtime_error("cannot write the records file");
    }
  }

 private:
  std::FILE* out_;
  std::size_t categorical_ =
      wedge::engine::FieldLayout::from(TugOfWar::fields()).categorical.size();
  std::size_t continuous_ = wedge::engine::FieldLayout::from(TugOfWar::fields()).continuous.size();
};

struct Args {
  int width = 1;
  unsigned threads = 1;
  std::string records;
  std::string file;
  std::vector<std::string> sets;
  std::optional<std::uint64_t> runs, seed, max_runs;
  std::optional<double> precision;
  bool crn = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw wedge::ConfigError(arg + ": needs a value");
      return argv[++i];
    };
    if (arg == "--width")
      a.width = std::stoi(value());
    else if (arg == "--threads")
      a.threads = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--records")
      a.records = value();
    else if (arg == "--set")
      a.sets.push_back(value());
    else if (arg == "--runs")
      a.runs = std::stoull(value());
    else if (arg == "--seed")
      a.seed = std::stoull(value());
    else if (arg == "--max-runs")
      a.max_runs = std::stoull(value());
    else if (arg == "--precision")
      a.precision = std::stod(value());
    else if (arg == "--crn")
      a.crn = true;
    else if (!arg.starts_with("--") && a.file.empty())
      a.file = arg;
    else
      throw wedge::ConfigError("unknown argument " + arg);
  }
  if (a.records.empty()) throw wedge::ConfigError("--records FILE is needed");
  return a;
}

template <int W>
void run(const wedge::experiments::Experiment& e, const Args& a, ColumnWriter& sink,
         std::vector<wedge::engine::Summary>& summaries) {
  using Model = AtWidth<W>;
  wedge::engine::RunOptions options;
  options.seed = e.run.seed;
  options.crn = e.run.crn;
  if (e.run.precision) {
    // As `wedge run --precision`: outcomes format and alliance; the first batch is --runs if
    // given, else 10,000 (at most max_runs).
    wedge::engine::PrecisionTarget target;
    target.half_width = *e.run.precision;
    const auto layout = wedge::engine::FieldLayout::from(TugOfWar::fields());
    for (std::size_t i = 0; i < layout.categorical.size(); ++i) {
      if (layout.categorical[i].name == "format" || layout.categorical[i].name == "alliance") {
        target.fields.push_back(static_cast<int>(i));
      }
    }
    target.first_batch = a.runs ? *a.runs : std::min<std::uint64_t>(10'000, e.run.max_runs);
    target.max_replicates = e.run.max_runs;
    wedge::engine::run_to_precision<Model>(e.points, summaries, options, target, &sink);
  } else {
    const auto blocks = wedge::engine::make_blocks(
        wedge::engine::full_plan(static_cast<std::uint32_t>(e.points.size()), e.run.runs));
    wedge::engine::run_blocks<Model>(e.points, blocks, summaries, options, &sink);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    using namespace wedge::experiments;
    Experiment e = a.file.empty() ? Experiment{} : load_experiment(a.file);
    apply_overrides(e, a.sets);
    if (a.runs) e.run.runs = *a.runs;
    if (a.seed) e.run.seed = *a.seed;
    e.run.crn = e.run.crn || a.crn;
    if (a.precision) e.run.precision = a.precision;
    if (a.max_runs) e.run.max_runs = *a.max_runs;
    resolve_design(e);

    if (a.width != 1 && a.width != 4 && a.width != 8 && a.width != 16)
      throw wedge::ConfigError("--width must be 1, 4, 8 or 16");
    if (!wedge::agents::run_block_width(a.width, wedge::agents::Scenario{}, 0, 0, 0, 0, nullptr)) {
      std::fprintf(stderr, "wedge_regress: lane width %d is not available on this CPU or build\n",
                   a.width);
      return 77;
    }
    std::FILE* records = std::fopen(a.records.c_str(), "wb");
    if (records == nullptr) throw wedge::ConfigError(a.records + ": cannot create");
    ColumnWriter sink(records);
    auto summaries = wedge::engine::make_summaries<TugOfWar>(e.points.size());
    {
      const tbb::global_control threads(tbb::global_control::max_allowed_parallelism, a.threads);
      switch (a.width) {
        case 1:
          run<1>(e, a, sink, summaries);
          break;
        case 4:
          run<4>(e, a, sink, summaries);
          break;
        case 8:
          run<8>(e, a, sink, summaries);
          break;
        default:
          run<16>(e, a, sink, summaries);
          break;
      }
    }
    if (std::fclose(records) != 0) throw wedge::ConfigError(a.records + ": cannot write");
    // As `wedge run --json`: in precision mode the document starts with its "precision" member.
    wedge::experiments::JsonOptions json;
    if (const auto p =
            wedge::experiments::precision_outcome(e, {"format", "alliance"}, summaries)) {
      json.head["precision"] = wedge::experiments::precision_json(*p);
    }
    std::fputs(results_json(e, summaries, json).c_str(), stdout);
    return 0;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "wedge_regress: %s\n", ex.what());
    return 2;
  }
}
