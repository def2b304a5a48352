// MODEL.md §7: the validation targets of the baseline (V1-V7) and the directional counterfactuals
// (C1-C4, C7), as statistical tests at the 99% level with a fixed seed. Intervals come from the
// counts (Wilson for proportions; paired differences for counterfactuals, which share streams
// with the baseline run by run: same seed, same replicate).
#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/runner.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

using namespace wedge;
using agents::RunRecord;
using agents::Scenario;
using agents::TugOfWar;

namespace {

constexpr double Z99 = 2.5758293035489004;  // two-sided 99%
constexpr std::uint64_t SEED = 19560819;    // Dulles meets Shigemitsu in London
constexpr std::uint64_t BASELINE_RUNS = 1'000'000;
constexpr std::uint64_t PAIRED_RUNS = 300'000;

/// Keeps every record of every point (small: a few hundred thousand records).
struct KeepAll : engine::RecordSink<RunRecord> {
  std::vector<std::vector<RunRecord>> by_point;
  explicit KeepAll(std::size_t points) : by_point(points) {}
  void consume(std::span<const engine::Block> blocks, std::span<const RunRecord> records, std::span<const engine::Summary>) override {
    std::size_t i = 0;
    for (const auto& b : blocks) {
      for (std::uint32_t k = 0; k < b.count; ++k) by_point[b.point].push_back(records[i++]);
    }
  }
};

/// Counts declarations by islands promised (V6 needs the cross-tabulation).
struct DeclarationIslands : engine::RecordSink<RunRecord> {
  std::uint64_t counts[3] = {0, 0, 0};
  void consume(std::span<const engine::Block>, std::span<const RunRecord> records, std::span<const engine::Summary>) override {
    for (const auto& r : records) {
      if (r.format == agents::Format::declaration) ++counts[r.islands_promised / 2];
    }
  }
};

struct Baseline {
  engine::Summary summary;
  DeclarationIslands declarations;
};

const Baseline& baseline() {
  static const Baseline b = [] {
    auto summaries = engine::make_summaries<TugOfWar>(1);
    DeclarationIslands decl;
    engine::RunOptions options;
    options.seed = SEED;
    const auto blocks = engine::make_blocks(engine::full_plan(1, BASELINE_RUNS));
    engine::run_blocks<TugOfWar>({Scenario{}}, blocks, summaries, options, &decl);
    return Baseline{summaries[0], decl};
  }();
  return b;
}

std::uint64_t count(const engine::Summary& s, std::string_view field, std::string_view category) {
  const int f = s.categorical_index(field);
  REQUIRE(f >= 0);
  const auto& cats = s.layout().categorical[static_cast<std::size_t>(f)].categories;
  const auto it = std::find(cats.begin(), cats.end(), category);
  REQUIRE(it != cats.end());
  return s.counts(static_cast<std::size_t>(f))[static_cast<std::size_t>(it - cats.begin())];
}

engine::Interval ci99(std::uint64_t k, std::uint64_t n) { return engine::wilson(k, n, Z99); }

/// Paired difference of an indicator between a counterfactual and the baseline, run by run.
struct Difference {
  double mean = 0.0;
  double low = 0.0;   ///< 99% interval
  double high = 0.0;
};

Difference paired(const std::vector<RunRecord>& counterfactual, const std::vector<RunRecord>& base,
                  const std::function<bool(const RunRecord&)>& indicator) {
  REQUIRE(counterfactual.size() == base.size());
  const double n = static_cast<double>(base.size());
  double sum = 0.0;
  double sum2 = 0.0;
  for (std::size_t i = 0; i < base.size(); ++i) {
    const double d = (indicator(counterfactual[i]) ? 1.0 : 0.0) - (indicator(base[i]) ? 1.0 : 0.0);
    sum += d;
    sum2 += d * d;
  }
  const double mean = sum / n;
  const double var = (sum2 - n * mean * mean) / (n - 1.0);
  const double half = Z99 * std::sqrt(var / n);
  return {mean, mean - half, mean + half};
}

/// Runs the baseline and a counterfactual on the same streams (common random numbers).
std::vector<std::vector<RunRecord>> run_pair(const std::vector<std::string>& changes) {
  Scenario cf;
  for (const auto& c : changes) agents::apply_assignment(cf, c);
  cf.validate();
  auto summaries = engine::make_summaries<TugOfWar>(2);
  KeepAll keep(2);
  engine::RunOptions options;
  options.seed = SEED;
  options.crn = true;  // replicate r: the same stream in both scenarios
  const auto blocks = engine::make_blocks(engine::full_plan(2, PAIRED_RUNS));
  engine::run_blocks<TugOfWar>({Scenario{}, cf}, blocks, summaries, options, &keep);
  return std::move(keep.by_point);
}

bool treaty(const RunRecord& r) { return r.format == agents::Format::treaty; }
bool declaration(const RunRecord& r) { return r.format == agents::Format::declaration; }
bool intact(const RunRecord& r) { return r.alliance == agents::AllianceState::intact; }

}  // namespace

TEST_CASE("V1: the declaration is the most frequent format, P >= 0.55", "[validation]") {
  const auto& s = baseline().summary;
  const auto decl = ci99(count(s, "format", "declaration"), s.runs());
  CHECK(decl.low >= 0.55);
  CHECK(decl.low > ci99(count(s, "format", "treaty"), s.runs()).high);
  CHECK(decl.low > ci99(count(s, "format", "none"), s.runs()).high);
}

TEST_CASE("V2: P(treaty) <= 0.25", "[validation]") {
  const auto& s = baseline().summary;
  CHECK(ci99(count(s, "format", "treaty"), s.runs()).high <= 0.25);
}

TEST_CASE("V3: P(alliance intact) >= 0.80 and P(any rupture) <= 0.01", "[validation]") {
  const auto& s = baseline().summary;
  CHECK(ci99(count(s, "alliance", "intact"), s.runs()).low >= 0.80);
  const auto rupture =
      count(s, "alliance", "rupture_neutral") + count(s, "alliance", "rupture_realign");
  CHECK(ci99(rupture, s.runs()).high <= 0.01);
}

TEST_CASE("V4: P(okinawa = us_claim) <= 0.05", "[validation]") {
  const auto& s = baseline().summary;
  CHECK(ci99(count(s, "okinawa", "us_claim"), s.runs()).high <= 0.05);
}

TEST_CASE("V5: the median number of rounds is between 3 and 6", "[validation]") {
  const auto& s = baseline().summary;
  std::uint64_t up_to_2 = count(s, "rounds", "1") + count(s, "rounds", "2");
  std::uint64_t up_to_6 = up_to_2;
  for (const char* r : {"3", "4", "5", "6"}) up_to_6 += count(s, "rounds", r);
  // median >= 3 <=> F(2) < 1/2; median <= 6 <=> F(6) >= 1/2.
  CHECK(ci99(up_to_2, s.runs()).high < 0.5);
  CHECK(ci99(up_to_6, s.runs()).low >= 0.5);
}

TEST_CASE("V6: among declarations, two islands promised is the most frequent value",
          "[validation]") {
  const auto& d = baseline().declarations.counts;
  const std::uint64_t n = d[0] + d[1] + d[2];
  REQUIRE(n > 0);
  const auto two = ci99(d[1], n);
  CHECK(two.low > ci99(d[0], n).high);
  CHECK(two.low > ci99(d[2], n).high);
}

TEST_CASE("V7: an Okinawa threat is issued in 30-65% of runs", "[validation]") {
  const auto& s = baseline().summary;
  const auto issued = ci99(s.runs() - count(s, "threat_round", "0"), s.runs());
  CHECK(issued.low >= 0.30);
  CHECK(issued.high <= 0.65);
}

TEST_CASE("C1: without the straits clause P(treaty) rises, by less than 0.15", "[validation]") {
  const auto runs = run_pair({"soviet.straits_clause=false", "dulles.gravity_straits=0"});
  const auto d = paired(runs[1], runs[0], treaty);
  CHECK(d.low > 0.0);
  CHECK(d.high < 0.15);
}

TEST_CASE("C2: without the Okinawa threat P(treaty) rises by >= 0.1 and P(declaration) falls",
          "[validation]") {
  const auto runs = run_pair({"dulles.threat_strength=0"});
  CHECK(paired(runs[1], runs[0], treaty).low >= 0.1);
  CHECK(paired(runs[1], runs[0], declaration).high < 0.0);
}

TEST_CASE("C3: with weak US rewards P(alliance intact) falls", "[validation]") {
  const auto runs = run_pair({"dulles.reward_power=0.2"});
  CHECK(paired(runs[1], runs[0], intact).high < 0.0);
}

TEST_CASE("C4: heavy tactless coercion lowers P(treaty) and raises P(strained or rupture)",
          "[validation]") {
  const auto runs = run_pair({"dulles.threat_strength=2", "dulles.tact=0"});
  CHECK(paired(runs[1], runs[0], treaty).high < 0.0);
  CHECK(paired(runs[1], runs[0], [](const RunRecord& r) { return !intact(r); }).low > 0.0);
}

TEST_CASE("C7: a credible four-island offer raises P(treaty) by at least 0.1", "[validation]") {
  const auto runs = run_pair({"soviet.four_island_prob=0.5"});
  CHECK(paired(runs[1], runs[0], treaty).low >= 0.1);
}
