// The JSON documents: built with nlohmann::json (escaped), linear in points, interruptible.
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "engine/runner.hpp"
#include "experiments/loader.hpp"
#include "experiments/report.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

using namespace wedge;
using namespace wedge::experiments;
using Json = nlohmann::ordered_json;

namespace {

/// A grid experiment with `points` points and summaries holding a few counts.
std::pair<Experiment, std::vector<engine::Summary>> grid(std::size_t points) {
  Experiment e;
  e.sweep.design = Design::grid;
  e.sweep.keys = {SweepKey{"dulles.tact", grid_values(0.0, 1.0, points), 0, 1, points, true}};
  resolve_design(e);
  auto summaries = engine::make_summaries<agents::TugOfWar>(points);
  for (std::size_t p = 0; p < points; ++p) {
    // p + 1 runs, each a treaty (format category 2), every other field at its first category.
    std::uint16_t categories[engine::MAX_FIELDS] = {};
    const double values[engine::MAX_FIELDS] = {};
    categories[0] = 2;
    for (std::size_t r = 0; r <= p; ++r) summaries[p].add(categories, values);
  }
  return {e, summaries};
}

/// What print_table writes for `e` and `summaries`, read back from a temporary file.
std::string table_text(const Experiment& e, const std::vector<engine::Summary>& summaries) {
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  print_table(file, e, summaries);
  std::rewind(file);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) text += static_cast<char>(c);
  std::fclose(file);
  return text;
}

}  // namespace

TEST_CASE("json_text escapes every string and writes no invalid number", "[report]") {
  const Json value = {{"quote\"key", "a\"b\\c\nd\x01"},
                      {"bytes", std::string("\xff\xfe ok")},
                      {"nan", std::nan("")},
                      {"inf", std::numeric_limits<double>::infinity()},
                      {"big", std::numeric_limits<std::uint64_t>::max()},
                      {"neg", -3},
                      {"real", 0.1},
                      {"whole", 2.0},
                      {"list", Json::array({true, nullptr, "x"})}};
  CHECK(json_text(value) ==
        "{\"quote\\\"key\": \"a\\\"b\\\\c\\nd\\u0001\", \"bytes\": \"\xEF\xBF\xBD\xEF\xBF\xBD "
        "ok\", \"nan\": null, "
        "\"inf\": null, \"big\": 18446744073709551615, \"neg\": -3, \"real\": 0.1, \"whole\": 2, "
        "\"list\": [true, null, \"x\"]}");
  CHECK(Json::parse(json_text(value))["quote\"key"] == "a\"b\\c\nd\x01");
}

TEST_CASE("the results document: one writer for run, inspect and simulate, names escaped",
          "[report]") {
  auto [e, summaries] = grid(5);
  JsonOptions options;
  options.head = {{"path", "we\"ird\\dir/r.h5"}, {"complete", true}};
  const std::string text = results_json(e, summaries, options);
  const Json doc = Json::parse(text);
  CHECK(doc["path"] == "we\"ird\\dir/r.h5");
  CHECK(doc["seed"] == 1);
  REQUIRE(doc["points"].size() == 5);
  CHECK(doc["points"][4]["index"] == 4);
  CHECK(doc["points"][4]["runs"] == 5);
  CHECK(doc["points"][4]["params"]["dulles.tact"] == 1.0);
  CHECK(doc["points"][2]["params"]["dulles.tact"] == 0.5);
  CHECK(doc["points"][4]["counts"]["format"]["treaty"] == 5);
  // Rounds show 1..negotiation.rounds (8 by default) only.
  CHECK(doc["points"][0]["counts"]["rounds"].size() == 8);
  // The streamed document is the same text.
  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  write_results_json(file, e, summaries, options);
  std::rewind(file);
  std::string streamed;
  for (int c; (c = std::fgetc(file)) != EOF;) streamed += static_cast<char>(c);
  std::fclose(file);
  CHECK(streamed == text);
  // Without a head, the document of `wedge run --json` (README).
  CHECK(results_json(e, summaries)
            .rfind("{\"seed\": 1, \"points\": [{\"index\": 0, \"params\": {\"dulles.tact\": 0}, "
                   "\"runs\": 1, \"counts\": {\"format\": {\"none\": 0, \"declaration\": 0, "
                   "\"treaty\": 1}",
                   0) == 0);
}

TEST_CASE("non-finite statistics are null in the document, not nan or inf (invalid JSON)",
          "[report]") {
  auto [e, summaries] = grid(2);
  summaries[1].continuous(0).set_raw({3, std::nan(""), 0.0, 0.0,
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::infinity()});
  const Json doc = Json::parse(results_json(e, summaries));
  const auto& stats = doc["points"][1]["stats"]["alignment"];
  CHECK(stats["mean"].is_null());
  CHECK(stats["min"].is_null());
  CHECK(stats["max"].is_null());
  CHECK(doc["points"][0]["stats"]["alignment"]["mean"] == 0.0);
}

TEST_CASE("writing the results document stops when asked, between points", "[report]") {
  auto [e, summaries] = grid(50);
  int asked = 0;
  JsonOptions options;
  options.should_stop = [&] { return ++asked > 3; };
  CHECK_THROWS_AS(results_json(e, summaries, options), Interrupted);
  asked = 0;
  CHECK_THROWS_WITH(results_json(e, summaries, options),
                    "interrupted while writing the JSON document, after 3 of 50 points");
  options.should_stop = [] { return false; };
  CHECK(Json::parse(results_json(e, summaries, options))["points"].size() == 50);
}

TEST_CASE("params --json lists every parameter, one per line", "[report]") {
  const std::string text = params_json();
  const Json doc = Json::parse(text);
  REQUIRE(doc.size() == agents::parameters().size());
  CHECK(doc[0]["key"] == "negotiation.rounds");
  CHECK(doc[0]["default"] == 8);
  CHECK(text.rfind("[{\"key\": \"negotiation.rounds\", \"section\": \"negotiation\", \"type\": "
                   "\"integer\", \"default\": 8, "
                   "\"min\": 1, \"max\": 100, \"min_exclusive\": false, \"range\": \"an integer in "
                   "[1, 100]\"",
                   0) == 0);
  for (const auto& p : doc) CHECK_FALSE(p["meaning"].get<std::string>().empty());
}

TEST_CASE("the sweep table prints each point's probabilities rounded as fmt's {:>8.4f} does",
          "[report]") {
  // Shares that are exact ties at 4 decimals (k/32) round to even, as fmt and printf round the
  // exact binary value; a point without runs prints zeros. Hand-computed lines.
  auto [e, summaries] = grid(3);
  for (auto& s : summaries) s.reset();
  const auto add = [&](std::size_t p, std::size_t runs) {
    for (std::size_t r = 0; r < runs; ++r) {
      std::uint16_t categories[engine::MAX_FIELDS] = {};
      const double values[engine::MAX_FIELDS] = {};
      categories[0] = r == 0 ? 2 : 1;             // format: treaty once, then declaration
      categories[2] = r < 2 ? 2 : r < 3 ? 3 : 0;  // alliance: 2 neutral, 1 realign ruptures
      categories[3] = r < 5 ? 1 : 0;              // okinawa: us_claim in the first 5 runs
      summaries[p].add(categories, values);
    }
  };
  add(0, 32);
  add(1, 3);
  const std::string text = table_text(e, summaries);
  // point, dulles.tact (width 11), runs, treaty, decl, none, intact, rupture, okinawa: 1/32 =
  // 0.03125 -> 0.0312, 31/32 = 0.96875 -> 0.9688, 29/32 = 0.90625 -> 0.9062, 3/32 = 0.09375 ->
  // 0.0938, 5/32 = 0.15625 -> 0.1562; 1/3 -> 0.3333, 2/3 -> 0.6667, 2/3 + 1/3 -> 1.0000.
  CHECK(text.find("\n     0           0         32   0.0312   0.9688   0.0000   0.9062   0.0938   "
                  "0.1562\n") != std::string::npos);
  CHECK(text.find("\n     1         0.5          3   0.3333   0.6667   0.0000   0.0000   1.0000   "
                  "1.0000\n") != std::string::npos);
  CHECK(text.find("\n     2           1          0   0.0000   0.0000   0.0000   0.0000   0.0000   "
                  "0.0000\n") != std::string::npos);
  CHECK(text.starts_with("grid design, 3 points, seed "));
  CHECK(
      text.ends_with("\n(probabilities; okinawa = P(US claims Okinawa); `--json` gives every "
                     "count)\n"));
}

TEST_CASE("the sweep table writes point numbers, swept values and runs as fmt did", "[report]") {
  // The line's start was fmt's "{:>6} {:>11.6g} {:>10}" (dulles.tact is 11 wide); it is written
  // by std::to_chars now. Values where %g switches between fixed and exponent, rounds up to a new
  // digit, or is near the ends of the doubles, then random doubles of every magnitude.
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                0.5,
                                0.1 + 0.2,
                                2.0 / 3.0,
                                1e-5,
                                9.999995e-5,
                                9.9999949e-5,
                                0.0001,
                                0.000123456789,
                                999999.5,
                                999999.4,
                                1e6,
                                123456.5,
                                1234567.0,
                                1e300,
                                -1e-300,
                                5e-324,
                                1.7976931348623157e308,
                                0.999999,
                                0.9999995,
                                99999.95,
                                -123.456789};
  std::mt19937_64 random(13);
  while (values.size() < 3000) {
    const double mantissa = std::uniform_real_distribution<double>(-1.0, 1.0)(random);
    const int exponent = std::uniform_int_distribution<int>(-1070, 1020)(random);
    values.push_back(std::ldexp(mantissa, exponent));
    // Short decimals (what grids and lists hold): 6 to 7 digits, point anywhere.
    values.push_back(std::round(mantissa * 1e7) / std::pow(10.0, (exponent & 0xff) % 12));
  }
  auto [e, summaries] = grid(values.size());
  for (std::size_t p = 0; p < values.size(); ++p) {
    e.values[p][0] = values[p];
    summaries[p].reset();
    std::uint16_t categories[engine::MAX_FIELDS] = {};
    const double zero[engine::MAX_FIELDS] = {};
    for (std::size_t r = 0; r < p % 5; ++r) summaries[p].add(categories, zero);
  }
  const std::string text = table_text(e, summaries);
  std::size_t at = text.find('\n', text.find('\n') + 1) + 1;  // after the two header lines
  std::size_t wrong = 0;
  for (std::size_t p = 0; p < values.size(); ++p) {
    const std::string expected = fmt::format("{:>6} {:>11.6g} {:>10} ", p, values[p], p % 5);
    const std::size_t end = text.find('\n', at);
    const std::string line = text.substr(at, end - at);
    if (!line.starts_with(expected)) {
      if (++wrong <= 5) FAIL_CHECK(fmt::format("point {}: '{}' for '{}'", p, line, expected));
    }
    at = end + 1;
  }
  CHECK(wrong == 0);
  CHECK(text.substr(at).starts_with("(probabilities;"));
}
