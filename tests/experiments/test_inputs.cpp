// Values in, exactly: one range per setting, exact grids, integer keys, CSV files as other tools
// write them, bounds on what is read and built, merged sweeps, and every problem of a file.
#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "experiments/resources.hpp"
#include "load_error.hpp"
#include "temp_dir.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

using namespace wedge;
using namespace wedge::experiments;
using Catch::Contains;
using Catch::EndsWith;
using Catch::StartsWith;

namespace {

std::string error_of(const std::string& text) { return test::load_error(text); }

std::string error_of(const std::function<void()>& f) { return test::error_text<ConfigError>(f); }

}  // namespace

TEST_CASE("every run setting has one range: command line, files and simulate()", "[inputs]") {
  // The command line's checks (CLI11 validators) return these texts; `--seed -1`, `--seed 2^64`
  // and `--seed 1e23` all ran as seed 2^64 - 1 before.
  CHECK(integer_problem("-1", SEED_RANGE) ==
        "-1 is out of range; must be an integer in [0, 9223372036854775807]");
  CHECK(integer_problem("18446744073709551616", SEED_RANGE) ==
        "18446744073709551616 is out of range; must be an integer in [0, 9223372036854775807]");
  CHECK(integer_problem("1e23", SEED_RANGE) ==
        "1e23 is not an integer; must be an integer in [0, 9223372036854775807]");
  CHECK(integer_problem("9223372036854775808", SEED_RANGE) ==
        "9223372036854775808 is out of range; must be an integer in [0, 9223372036854775807]");
  CHECK(integer_problem("0x10", SEED_RANGE) ==
        "'0x10' is not a number; must be an integer in [0, 9223372036854775807]");
  CHECK(integer_problem("", RUNS_RANGE) ==
        "the value is empty; must be an integer in [1, 4294967296]");
  CHECK(integer_problem("10.0", RUNS_RANGE) ==
        "10.0 is not an integer; must be an integer in [1, 4294967296]");
  CHECK(integer_problem("4294967297", RUNS_RANGE) ==
        "4294967297 is out of range; must be an integer in [1, 4294967296]");
  CHECK(integer_problem("9223372036854775807", SEED_RANGE).empty());
  CHECK(integer_problem(" 7 ", SEED_RANGE).empty());
  CHECK(integer_problem("4294967296", RUNS_RANGE).empty());
  CHECK(parse_integer("42", SEED_RANGE) == 42);
  CHECK(error_of([] { parse_integer("0", THREADS_RANGE); }) ==
        "threads: 0 is out of range; must be an integer in [1, 1024]");
  CHECK(real_problem("nan", PRECISION_RANGE) ==
        "nan is not a number; must be a number in [1e-06, 0.5]");
  CHECK(real_problem("inf", PRECISION_RANGE) ==
        "inf is out of range; must be a number in [1e-06, 0.5]");
  CHECK(real_problem("1e-400", PRECISION_RANGE) ==
        "1e-400 is out of range; must be a number in [1e-06, 0.5]");
  CHECK(real_problem("1e400", PRECISION_RANGE) ==
        "1e400 is out of range; must be a number in [1e-06, 0.5]");
  CHECK(real_problem("0.01", PRECISION_RANGE).empty());
  CHECK(parse_real("0.5", PRECISION_RANGE) == 0.5);

  // wedge.simulate() passes numbers: the same ranges.
  RunSettings run;
  CHECK_NOTHROW(check_run_settings(run));
  run.seed = 1ull << 63;
  CHECK(error_of([&] { check_run_settings(run); }) ==
        "seed = 9223372036854775808: must be an integer in [0, 9223372036854775807]");
  run = RunSettings{};
  run.precision = std::nan("");
  CHECK(error_of([&] { check_run_settings(run); }) ==
        "precision = nan: must be a number in [1e-06, 0.5]");
  run = RunSettings{};
  run.runs = 0;
  CHECK(error_of([&] { check_run_settings(run); }) ==
        "runs = 0: must be an integer in [1, 4294967296]");
  CHECK(error_of([] { check_threads(0); }) == "threads = 0: must be an integer in [1, 1024]");

  // Files.
  CHECK(error_of("[run]\nseed = -1\n") ==
        "bad.toml:2:8: run.seed = -1: must be an integer in [0, 9223372036854775807]");
  CHECK(
      error_of("[run]\nruns = 1e6\n") ==
      "bad.toml:2:8: run.runs: 1000000.0 is not an integer; must be an integer in [1, 4294967296]");
  CHECK(error_of("[run]\nprecision = nan\n") ==
        "bad.toml:2:13: run.precision = nan: must be a number in [1e-06, 0.5]");
  CHECK(error_of("[run]\nmax_runs = 4294967297\n") ==
        "bad.toml:2:12: run.max_runs = 4294967297: must be an integer in [1, 4294967296]");
}

TEST_CASE("the largest seed a run accepts is stored and read back", "[inputs]") {
  test::TempDir dir;
  const auto path = dir.write("seed.toml", "[run]\nseed = 9223372036854775807\n");
  Experiment e = load_experiment(path);
  CHECK(e.run.seed == SEED_RANGE.max);
  const Experiment back = parse_experiment(to_toml(e), "stored");
  CHECK(back.run.seed == SEED_RANGE.max);
}

TEST_CASE("an integer key given 3.0 says so, in TOML, grids, lists, CSV and --set", "[inputs]") {
  const std::string want =
      "negotiation.rounds: 3.0 is not an integer; must be an integer in [1, 100]";
  CHECK(error_of("[negotiation]\nrounds = 3.0\n") == "bad.toml:2:10: " + want);
  CHECK(error_of("[sweep]\ndesign = \"grid\"\n[sweep.keys]\n\"negotiation.rounds\" = [2, 3.0]\n") ==
        "bad.toml:4:28: " + want);
  CHECK(error_of("[sweep]\ndesign = \"list\"\n[sweep.keys]\n\"negotiation.rounds\" = [3.0]\n") ==
        "bad.toml:4:25: " + want);
  CHECK(error_of("[sweep]\ndesign = \"lhs\"\npoints = 4\n[sweep.keys]\n\"negotiation.rounds\" = { "
                 "min = 1.0, max = 4 }\n") ==
        "bad.toml:5:32: negotiation.rounds.min: 1.0 is not an integer; must be an integer in [1, "
        "100]");
  CHECK(error_of("[sweep]\ndesign = \"grid\"\n[sweep.keys]\n\"negotiation.rounds\" = { min = 1, "
                 "max = 4, steps = 3 }\n") ==
        "bad.toml:4:52: sweep.keys.\"negotiation.rounds\": step value 2.5 is not an integer; must "
        "be an integer in [1, 100]");
  const auto& rounds = agents::require_parameter("negotiation.rounds");
  CHECK(error_of([&] { parse_value(rounds, "3.0"); }) == want);
  CHECK(error_of([&] { parse_value(rounds, "3e0"); }) ==
        "negotiation.rounds: 3e0 is not an integer; must be an integer in [1, 100]");
  CHECK(parse_value(rounds, " 3 ") == 3.0);
  CHECK(parse_value(rounds, "+3") == 3.0);
  Experiment e;
  CHECK(error_of([&] { apply_overrides(e, {"negotiation.rounds=3.0"}); }) == want);
  test::TempDir dir;
  dir.write("p.csv", "negotiation.rounds\n3.0\n");
  const auto csv = dir.write("csv.toml", "[sweep]\ndesign = \"list\"\ncsv = \"p.csv\"\n");
  CHECK(error_of([&] { load_experiment(csv); }) == dir.path("p.csv") + ":2:1: " + want);
  // Other kinds of value keep their messages.
  CHECK(error_of([&] { parse_value(rounds, "abc"); }) ==
        "negotiation.rounds = 'abc': not a number; must be an integer in [1, 100]");
  CHECK(error_of([&] { parse_value(rounds, "101"); }) ==
        "negotiation.rounds = 101: must be an integer in [1, 100]");
  const auto& flag = agents::require_parameter("soviet.straits_clause");
  CHECK(parse_value(flag, "TRUE") == 1.0);   // Excel and R write booleans so
  CHECK(parse_value(flag, "False") == 0.0);  // pandas so
  CHECK(error_of([&] { parse_value(flag, "1.0"); }) ==
        "soviet.straits_clause = '1.0': must be true or false");
}

TEST_CASE("grid values are exact: min and max, and the decimals a user would type", "[inputs]") {
  // The old formula, min + (max - min) * i / (steps - 1), made the last value of
  // { min = 0.2, max = 1.0, steps = 4 } 1.0000000000000002, outside dulles.tact's [0, 1].
  REQUIRE(0.2 + (1.0 - 0.2) * 3 / 3 > 1.0);
  const auto four = grid_values(0.2, 1.0, 4);
  CHECK(four.front() == 0.2);
  CHECK(four.back() == 1.0);
  CHECK(four[1] == Approx(0.2 + 0.8 / 3).epsilon(1e-15));
  CHECK(grid_values(0.1, 0.5, 5) == std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5});
  CHECK(grid_values(0.0, 1.0, 11) ==
        std::vector<double>{0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0});
  CHECK(grid_values(1e-7, 3e-7, 3) == std::vector<double>{1e-7, 2e-7, 3e-7});
  CHECK(grid_values(-1.0, 1.0, 5) == std::vector<double>{-1.0, -0.5, 0.0, 0.5, 1.0});
  CHECK(grid_values(0.2, 1.5, 4).back() == 1.5);
  CHECK(grid_values(0.3, 0.3, 1) == std::vector<double>{0.3});
  // Every grid over hundredths whose step is a decimal gives the typed decimals, and every grid
  // its exact ends.
  for (int a = 0; a < 100; a += 3) {
    for (int b = a + 1; b <= 100; b += 7) {
      for (std::uint64_t steps : {2u, 3u, 5u, 6u, 11u}) {
        const auto v = grid_values(a / 100.0, b / 100.0, steps);
        INFO(a << " " << b << " " << steps);
        REQUIRE(v.size() == steps);
        CHECK(v.front() == a / 100.0);
        CHECK(v.back() == b / 100.0);
        for (std::uint64_t i = 0; i < steps; ++i) {
          CHECK(v[i] >= v.front());
          CHECK(v[i] <= v.back());
          // (a + i (b - a) / m) / 100 as a decimal, read by strtod, when it has at most 6 digits.
          const long long m = static_cast<long long>(steps) - 1;
          const long long scaled = 10000LL * a * m + 10000LL * static_cast<long long>(i) * (b - a);
          if (scaled % m == 0) {
            const std::string text = std::to_string(scaled / m) + "e-6";
            CHECK(v[i] == std::strtod(text.c_str(), nullptr));
          }
        }
      }
    }
  }
  // The example loads, and so does a grid of an integer key.
  test::TempDir dir;
  const auto path = dir.write("g.toml",
                              "[sweep]\ndesign = \"grid\"\n[sweep.keys]\n"
                              "\"dulles.tact\" = { min = 0.2, max = 1.0, steps = 4 }\n"
                              "\"negotiation.rounds\" = { min = 2, max = 8, steps = 4 }\n");
  Experiment e = load_experiment(path);
  resolve_design(e);
  CHECK(e.sweep.keys[0].values.back() == 1.0);
  CHECK(e.sweep.keys[1].values == std::vector<double>{2, 4, 6, 8});
  CHECK(e.points.size() == 16);
  CHECK_THAT(error_of("[sweep]\ndesign = \"grid\"\n[sweep.keys]\n\"dulles.tact\" = { min = 0.3, "
                      "max = 0.3, steps = 3 }\n"),
             Contains("steps = 3: must be an integer in [1, 1]"));
}

TEST_CASE("CSV files of points as Excel, R and pandas write them", "[inputs]") {
  test::TempDir dir;
  const auto load = [&](const std::string& csv) {
    dir.write("p.csv", csv);
    Experiment e =
        load_experiment(dir.write("l.toml", "[sweep]\ndesign = \"list\"\ncsv = \"p.csv\"\n"));
    resolve_design(e);
    return e;
  };
  const auto error = [&](const std::string& csv) {
    return error_of([&] { load(csv); }).substr(dir.path("p.csv").size());
  };
  // Excel's "CSV UTF-8": a byte-order mark, CRLF, quoted cells, and rows of empty cells.
  auto e = load(
      "\xEF\xBB\xBF\"dulles.tact\",\"negotiation.rounds\"\r\n0.1,4\r\n\"0.2\",\" 6\"\r\n,\r\n");
  REQUIRE(e.points.size() == 2);
  CHECK(e.values[1] == std::vector<double>{0.2, 6});
  // R's write.csv(df, row.names = FALSE): quoted header, TRUE/FALSE.
  e = load("\"soviet.straits_clause\",\"dulles.tact\"\nTRUE,0.1\nFALSE,0.3\n");
  CHECK(e.values[0] == std::vector<double>{1, 0.1});
  CHECK(e.values[1] == std::vector<double>{0, 0.3});
  // No newline at the end, a value with a quoted quote (refused as a number, intact in the
  // message).
  CHECK(load("dulles.tact\n0.1").points.size() == 1);
  CHECK(error("dulles.tact\n\"0.\"\"1\"\n") ==
        ":2:1: dulles.tact = '0.\"1': not a number; must be [0, 1]");
  // Index columns: pandas' to_csv (empty first name), after a round trip ("Unnamed: 0"), R's
  // write.csv with row names.
  const std::string index =
      ": a row-name or index column? Write the file without it (pandas: df.to_csv(path, "
      "index=False); R: write.csv(df, path, row.names = FALSE))";
  CHECK(error(",dulles.tact\n0,0.1\n") == ":1:1: the first column has no key ('')" + index);
  CHECK(error("Unnamed: 0,dulles.tact\n0,0.1\n") ==
        ":1:1: the first column has no key ('Unnamed: 0')" + index);
  CHECK(error("\"\",\"dulles.tact\"\n\"1\",0.1\n") ==
        ":1:1: the first column has no key ('')" + index);
  // A NUL byte does not cut the message short; neither does any other control character.
  CHECK(error(std::string("dulles.tact\n0.1\0tail\n", 21)) ==
        ":2:1: dulles.tact = '0.1\\x00tail': not a number; must be [0, 1]");
  CHECK(error("dulles.tact\n0.1\x1b[2J\n") ==
        ":2:1: dulles.tact = '0.1\\x1b[2J': not a number; must be [0, 1]");
  // Not comma-separated, not UTF-8, not valid CSV.
  CHECK(error("dulles.tact;dulles.backlash\n0.1;0.2\n") ==
        ":1:1: unknown key 'dulles.tact;dulles.backlash' in the header; values must be separated "
        "by commas, not "
        "semicolons or tabs");
  CHECK(error("dulles.tcat\n0.1\n") ==
        ":1:1: unknown key 'dulles.tcat' in the header (did you mean 'dulles.tact'?)");
  CHECK_THAT(error(std::string("\xFF\xFE"
                               "d\0u\0",
                               6)),
             StartsWith(": the file is UTF-16"));
  CHECK(error("dulles.tact\n\"0.1\n") == ":2:1: not valid CSV: a quoted value is not closed");
  CHECK_THAT(error("dulles.tact\n\"0.1\"x\n"), StartsWith(":2:6: not valid CSV"));
  CHECK(error("dulles.tact,dulles.backlash\n0.1\n") == ":2:1: 1 values for 2 keys");
  CHECK(error("dulles.tact,dulles.tact\n0.1,0.2\n") ==
        ":1:13: key 'dulles.tact' appears twice in the header");
  CHECK(error("dulles.tact\n") ==
        ": no design points (a header row of keys, then one row per point)");
}

TEST_CASE("only regular files are read, with a size cap and a depth cap", "[inputs]") {
  test::TempDir dir;
  // /dev/zero grew a string to 19 GB before; a FIFO blocked forever.
  CHECK_THAT(
      error_of([&] { load_experiment(dir.write("z.toml", "extends = \"/dev/zero\"\n")); }),
      Contains("z.toml:1:11: extends = \"/dev/zero\": not a regular file (a character device)"));
  REQUIRE(::mkfifo(dir.path("fifo").c_str(), 0600) == 0);
  CHECK_THAT(error_of([&] { load_experiment(dir.write("f.toml", "extends = \"fifo\"\n")); }),
             Contains("f.toml:1:11: extends = \"fifo\": not a regular file (a FIFO)"));
  CHECK_THAT(error_of([&] { load_experiment(dir.path("fifo")); }),
             Contains("fifo: not a regular file (a FIFO)"));
  CHECK_THAT(error_of([&] {
               load_experiment(dir.write("c.toml", "[sweep]\ndesign = \"list\"\ncsv = \"fifo\"\n"));
             }),
             Contains("fifo: not a regular file (a FIFO); the CSV file of design points must be a "
                      "regular file"));
  CHECK_THAT(
      error_of([&] {
        load_experiment(dir.write("d.toml", "[sweep]\ndesign = \"list\"\ncsv = \"/dev/zero\"\n"));
      }),
      Contains("/dev/zero: not a regular file (a character device)"));
  // Size: a sparse file just over the limit.
  const auto big = dir.write("big.toml", "");
  std::filesystem::resize_file(big, MAX_EXPERIMENT_FILE_BYTES + 1);
  CHECK_THAT(error_of([&] { load_experiment(big); }),
             Contains("big.toml: 67.1 MB: larger than the limit of 64 MB for an experiment file "
                      "(put long lists of points in a CSV file: sweep.csv)"));
  const auto big_csv = dir.write("big.csv", "");
  std::filesystem::resize_file(big_csv, MAX_CSV_FILE_BYTES + 1);
  CHECK_THAT(
      error_of([&] {
        load_experiment(dir.write("b.toml", "[sweep]\ndesign = \"list\"\ncsv = \"big.csv\"\n"));
      }),
      Contains(
          "big.csv: 268.4 MB: larger than the limit of 256 MB for a CSV file of design points"));
  // Depth: 15,000 files overflowed the stack before; the chain stops at 64 files.
  for (std::size_t i = 1; i < 70; ++i)
    dir.write(fmt::format("chain/c{}.toml", i), fmt::format("extends = \"c{}.toml\"\n", i + 1));
  dir.write("chain/c70.toml", "[dulles]\ntact = 0.5\n");
  CHECK_THAT(
      error_of([&] { load_experiment(dir.path("chain/c1.toml")); }),
      Contains("c64.toml:1:11: extends: the chain of extended files is longer than 64 files"));
  CHECK(load_experiment(dir.path("chain/c10.toml")).base.dulles.tact == 0.5);  // 61 files
}

TEST_CASE("a child's sweep table merges into its parent's", "[inputs]") {
  test::TempDir dir;
  dir.write("parent.toml",
            "[sweep]\ndesign = \"lhs\"\npoints = 64\n[sweep.keys]\n"
            "\"dulles.tact\" = { min = 0.0, max = 1.0 }\n\"dulles.backlash\" = { min = 0.0, max = "
            "0.3 }\n");
  // Setting only points ("[sweep] needs design" before).
  Experiment e = load_experiment(
      dir.write("points.toml", "extends = \"parent.toml\"\n[sweep]\npoints = 16\n"));
  resolve_design(e);
  CHECK(e.sweep.design == Design::lhs);
  CHECK(e.points.size() == 16);
  CHECK(e.swept_keys == std::vector<std::string>{"dulles.tact", "dulles.backlash"});
  // A key replaced keeps its place; a new key comes after the parent's.
  e = load_experiment(dir.write("keys.toml",
                                "extends = \"parent.toml\"\n[sweep.keys]\n"
                                "\"alliance.drift_sd\" = { min = 0.0, max = 0.1 }\n"
                                "\"dulles.tact\" = { min = 0.5, max = 0.6 }\n"));
  resolve_design(e);
  CHECK(e.swept_keys ==
        std::vector<std::string>{"dulles.tact", "dulles.backlash", "alliance.drift_sd"});
  CHECK(e.sweep.points == 64);
  for (const auto& p : e.points) CHECK(p.dulles.tact >= 0.5);
  // Another design without points drops the parent's points; its keys must suit the design.
  e = load_experiment(
      dir.write("grid.toml",
                "extends = \"parent.toml\"\n[sweep]\ndesign = \"grid\"\n[sweep.keys]\n"
                "\"dulles.tact\" = [0.1, 0.2]\n\"dulles.backlash\" = [0.0]\n"));
  resolve_design(e);
  CHECK(e.points.size() == 2);
  CHECK_THAT(error_of([&] {
               load_experiment(
                   dir.write("g2.toml", "extends = \"parent.toml\"\n[sweep]\ndesign = \"grid\"\n"));
             }),
             Contains("parent.toml:5:17: sweep.keys.\"dulles.tact\": a grid range needs steps"));
  // csv and keys exclude each other: the child's choice drops the parent's other.
  dir.write("p.csv", "dulles.tact\n0.1\n0.2\n0.3\n");
  e = load_experiment(dir.write(
      "csv.toml", "extends = \"parent.toml\"\n[sweep]\ndesign = \"list\"\ncsv = \"p.csv\"\n"));
  CHECK(e.sweep.keys.size() == 1);
  CHECK(e.sweep.keys[0].values.size() == 3);
  e = load_experiment(dir.write("back.toml",
                                "extends = \"csv.toml\"\n[sweep]\ndesign = "
                                "\"grid\"\n[sweep.keys]\n\"dulles.tact\" = [0.5]\n"));
  CHECK(e.sweep.csv.empty());
  CHECK(e.sweep.keys[0].values == std::vector<double>{0.5});
}

TEST_CASE("validate lists every problem in line order, and a run stops at the first of them",
          "[inputs]") {
  test::TempDir dir;
  const auto parent = dir.write("parent.toml", "[dulles]\ntact = 2\n[negotiation]\nrounds = 0\n");
  const auto path = dir.write("many.toml",
                              "extends = \"parent.toml\"\n"
                              "[sweep]\ndesign = \"grid\"\n[sweep.keys]\n"
                              "\"dulles.threat_strength\" = [0.0, -1.0, 2.0, \"x\"]\n"
                              "[run]\nruns = 0\nseed = -1\nrnus = 5\n"
                              "[dulles]\nbacklash = 0.1\ntcat = 0.3\n"
                              "[negotiation]\nrounds = 3.0\n");
  const std::vector<std::string> expected{
      parent + ":2:8: dulles.tact = 2: must be [0, 1]",
      parent + ":4:10: negotiation.rounds = 0: must be an integer in [1, 100]",
      path + ":5:34: dulles.threat_strength = -1.0: must be [0, 5]",
      path + ":5:45: dulles.threat_strength = 'x': must be a number, [0, 5]",
      path + ":7:8: run.runs = 0: must be an integer in [1, 4294967296]",
      path + ":8:8: run.seed = -1: must be an integer in [0, 9223372036854775807]",
      path +
          ":9:1: unknown key 'rnus' in [run] (did you mean 'runs'? valid: runs, seed, precision, "
          "crn, max_runs)",
      path + ":12:1: unknown key 'dulles.tcat' (did you mean 'dulles.tact'?)",
      path + ":14:10: negotiation.rounds: 3.0 is not an integer; must be an integer in [1, 100]",
      "unknown parameter 'dulles.tcat' (did you mean 'dulles.tact'?)"};
  CHECK(experiment_problems(path, {"dulles.tcat=1"}) == expected);
  // A run reports the first of them (toml++ visits keys in name order, not line order).
  CHECK(error_of([&] { load_experiment(path); }) == expected.front());
  CHECK(experiment_problems(WEDGE_SOURCE_DIR "/experiments/sweeps/binding_saltelli.toml").empty());
  // A problem of the resolved design (no position) comes last.
  const auto design = dir.write("design.toml",
                                "[run]\nruns = 0\n[sweep]\ndesign = \"grid\"\n[sweep.keys]\n"
                                "\"dulles.credibility_min\" = [0.1, 0.9]\n");
  CHECK(experiment_problems(design).size() ==
        1);  // the design is not resolved while the file has problems
  CHECK_THAT(experiment_problems(design, {"runs=1"}).back(), Contains("unknown parameter 'runs'"));
  // At most 200 lines, the last saying how many more.
  std::string values;
  for (int i = 0; i < 300; ++i) values += (i ? ", " : "") + std::string("2.0");
  const auto lots = experiment_problems(
      dir.write("lots.toml",
                "[sweep]\ndesign = \"grid\"\n[sweep.keys]\n\"dulles.tact\" = [" + values + "]\n"));
  REQUIRE(lots.size() == 201);
  CHECK(lots.back() == "(100 more problems not shown)");
}

TEST_CASE("the scenario sections of a file come from the parameter registry", "[inputs]") {
  CHECK(scenario_sections() == std::vector<std::string>{"negotiation", "soviet", "matsumoto",
                                                        "shigemitsu", "hatoyama", "japan", "dulles",
                                                        "alliance"});
  for (const auto& p : agents::parameters()) {
    const auto head = p.section.substr(0, p.section.find('.'));
    CHECK(std::find(scenario_sections().begin(), scenario_sections().end(), head) !=
          scenario_sections().end());
  }
  CHECK_THAT(error_of("[dullse]\ntact = 0.3\n"),
             StartsWith("bad.toml:1:2: unknown section [dullse] (did you mean [dulles]? valid: "
                        "extends, description, run, "
                        "sweep, calibrate, negotiation, soviet, matsumoto, shigemitsu, hatoyama, "
                        "japan, dulles, alliance)"));
}

TEST_CASE("a stored experiment never makes wedge read another file", "[inputs]") {
  const std::string stored = "[sweep]\ndesign = \"list\"\ncsv = \"/etc/passwd\"\n";
  CHECK_THAT(error_of([&] { parse_experiment(stored, "f.h5 (experiment attribute)", false); }),
             StartsWith("f.h5 (experiment attribute): the experiment names a CSV file (sweep.csv = "
                        "\"/etc/passwd\")"));
  // What wedge stores holds the points themselves and loads without files.
  test::TempDir dir;
  dir.write("p.csv", "dulles.tact\n0.1\n0.2\n");
  Experiment e =
      load_experiment(dir.write("l.toml", "[sweep]\ndesign = \"list\"\ncsv = \"p.csv\"\n"));
  resolve_design(e);
  Experiment back = parse_experiment(to_toml(e), "stored", false);
  resolve_design(back);
  CHECK(back.values == e.values);
}

TEST_CASE("what --set is given is shown escaped, whatever it holds", "[inputs]") {
  Experiment e;
  CHECK(error_of([&] { apply_overrides(e, {std::string("dulles.tact=0.1\0x", 17)}); }) ==
        "dulles.tact = '0.1\\x00x': not a number; must be [0, 1]");
  CHECK(error_of([&] { apply_overrides(e, {"dulles.tact"}); }) ==
        "--set 'dulles.tact': expected key=value, e.g. dulles.tact=0.9");
  CHECK(error_of([&] { apply_overrides(e, {"dulles.tact= "}); }) ==
        "--set 'dulles.tact= ': expected key=value, e.g. dulles.tact=0.9");
  apply_overrides(e, {" dulles.tact = 0.25 "});
  CHECK(e.base.dulles.tact == 0.25);
}

TEST_CASE("what a run needs is estimated before it starts and refused with the numbers",
          "[inputs]") {
  Experiment e;
  e.sweep.design = Design::grid;
  e.sweep.keys = {SweepKey{"dulles.tact", grid_values(0.0, 1.0, 1000), 0, 1, 1000, true}};
  // Precision mode makes each batch's blocks whole: a first batch of 2^32 runs at 1,000 points
  // is 2^31 blocks of 32 bytes, a 67 GB plan (built before, until bad_alloc).
  const auto huge = estimate_needs(e, {1ull << 32, 1.0, false, false, false, 1ull << 32, true});
  const std::uint64_t plan = 1000ull * (1ull << 21) * 32;
  CHECK(huge.memory_bytes > plan);
  CHECK(huge.memory_bytes < plan + plan / 100);
  CHECK_THAT(
      error_of([&] {
        check_needs(huge, {16'000'000'000ull, std::nullopt});
      }),
      StartsWith("the run needs about 67.2 GB of memory (1000 design points x") &&
          Contains("2097152000 blocks of a batch x 32 bytes) but this machine allows 16.0 GB"));
  // A fixed plan computes its blocks a wave at a time (engine::BlockRange): the same 2^32 runs
  // at 1,000 points need the points' share and the threads' buffers, not the plan.
  const auto fixed = estimate_needs(e, {1ull << 32, 1.0, false, false, false, 1ull << 32});
  CHECK(fixed.memory_bytes < 200'000'000ull);
  CHECK_THAT(fixed.memory_detail, !Contains("blocks"));
  CHECK_NOTHROW(check_needs(fixed, {16'000'000'000ull, std::nullopt}));
  // 250,000 points, summaries only: about 6 GB of file.
  e.sweep.keys = {SweepKey{"dulles.tact", grid_values(0.0, 1.0, 500), 0, 1, 500, true},
                  SweepKey{"dulles.backlash", grid_values(0.0, 0.3, 500), 0, 0.3, 500, true}};
  const auto summaries = estimate_needs(e, {1, 1.0, true, false, false});
  CHECK(byte_text(summaries.file_bytes) == "6.0 GB");
  CHECK(check_needs(summaries, {64'000'000'000ull, 100'000'000'000ull}) ==
        "the results file will take about 6.0 GB (250000 points x 23.9 KB of summaries)");
  CHECK_THROWS_AS(check_needs(summaries, {64'000'000'000ull, 5'000'000'000ull}), OutputError);
  // A full file system (0 bytes free) is refused like a small one (it was taken for "unknown",
  // and the run then failed creating its partial file with ENOSPC); unknown free space is not.
  CHECK_THROWS_WITH(check_needs(summaries, {64'000'000'000ull, 0}),
                    StartsWith("the results file would take about 6.0 GB") &&
                        Contains("but its file system has 0 bytes free"));
  CHECK_NOTHROW(check_needs(summaries, {64'000'000'000ull, std::nullopt}));
  CHECK_THAT(
      error_of([&] {
        try {
          check_needs(summaries, {64'000'000'000ull, 5'000'000'000ull});
        } catch (const OutputError& err) {
          throw ConfigError(err.what());
        }
      }),
      StartsWith(
          "the results file would take about 6.0 GB (250000 points x 23.9 KB of summaries) but its "
          "file system has 5.0 GB free; free space, write elsewhere, or use fewer points or fewer "
          "runs per point"));
  // 10^5 points x 2^32 runs with summaries only: the /blocks rows (one per 2,048 runs) are
  // nearly all of the file, and the message says so (it said "of summaries" and advised
  // --store summary, already in force); with records, --store summary is the advice.
  e.sweep.keys = {SweepKey{"dulles.tact", grid_values(0.0, 1.0, 1000), 0, 1, 1000, true},
                  SweepKey{"dulles.backlash", grid_values(0.0, 0.3, 100), 0, 0.3, 100, true}};
  const auto blocks = estimate_needs(e, {1ull << 32, 1.0, true, false, false, 1ull << 32});
  CHECK_THAT(blocks.file_detail, Contains("+ 209715200000 /blocks rows x "));
  // The refusal of `needs` on a 64 GB, 5 GB-free machine (an OutputError, as error_of's text).
  const auto disk_error = [](const auto& needs) {
    return error_of([&] {
      try {
        check_needs(needs, {64'000'000'000ull, 5'000'000'000ull});
      } catch (const OutputError& err) {
        throw ConfigError(err.what());
      }
    });
  };
  CHECK_THAT(disk_error(blocks), EndsWith("use fewer points or fewer runs per point"));
  const auto with_records = estimate_needs(e, {1ull << 32, 1.0, true, true, false, 1ull << 32});
  CHECK_THAT(disk_error(with_records), EndsWith("use --store summary or fewer runs"));
  // Small runs pass silently; per-run records are counted (25 bytes for up to 255 points).
  Experiment one;
  const auto small = estimate_needs(one, {1'000'000, 1.0, true, true, false});
  CHECK(check_needs(small, machine_limits("")).empty());
  CHECK(small.file_bytes > 25'000'000);
  CHECK(small.file_bytes < 27'000'000);
  CHECK(machine_limits("").memory_bytes > 0);
}

TEST_CASE(
    "per-round records (store rounds) are in the results file's estimate: refused when even one "
    "round a run "
    "cannot fit",
    "[inputs]") {
  // 10^9 baseline runs: ~25 GB of records (the estimate without rounds, a tester's "about 25.1
  // GB"), plus a 20-byte /rounds row per round (1 to negotiation.rounds = 8 a run; the baseline
  // plays ~3.6, measured ~106-130 bytes a run in all) and 8 bytes of run_begin a run.
  Experiment one;
  const RunShape runs{1'000'000'000, 1.0, true, true, false};
  RunShape rounds = runs;
  rounds.store_rounds = true;
  const auto plain = estimate_needs(one, runs);
  const auto with_rounds = estimate_needs(one, rounds);
  CHECK(plain.file_bytes_min == plain.file_bytes);
  CHECK(with_rounds.file_bytes_min == plain.file_bytes + 1'000'000'000ull * (20 + 8));
  CHECK(with_rounds.file_bytes == plain.file_bytes + 1'000'000'000ull * (8 * 20 + 8));
  CHECK_THAT(with_rounds.file_detail,
             EndsWith("+ 1000000000 runs x 1 to 8 rounds (negotiation.rounds bounds the rounds a "
                      "run plays; the baseline plays 3.6 on average) x 20 bytes per round + 8 "
                      "bytes of run_begin per run"));
  // Enough space for the runs, not for one round of each: refused (exit 3) up front; the old
  // estimate let it start.
  const MachineLimits forty{64'000'000'000ull, 40'000'000'000ull};
  CHECK(check_needs(plain, forty).starts_with("the results file will take about 25.1 GB"));
  CHECK_THROWS_AS(check_needs(with_rounds, forty), OutputError);
  CHECK_THAT(
      error_of([&] {
        try {
          check_needs(with_rounds, forty);
        } catch (const OutputError& err) {
          throw ConfigError(err.what());
        }
      }),
      StartsWith("the results file would take 53.1 GB to 193.1 GB (1 point x ") &&
          EndsWith("but its file system has 40.0 GB free; free space, write elsewhere, or use "
                   "--store runs, --store summary or fewer runs"));
  // Room for the fewest rounds, not the most: a warning that says so.
  CHECK_THAT(check_needs(with_rounds, {64'000'000'000ull, 100'000'000'000ull}),
             StartsWith("the results file will take 53.1 GB to 193.1 GB (") &&
                 Contains("its file system has 100.0 GB free: it fits only if the runs play "
                          "fewer rounds than negotiation.rounds allows"));
  CHECK(check_needs(with_rounds, {64'000'000'000ull, 300'000'000'000ull})
            .starts_with("the results file will take 53.1 GB to 193.1 GB ("));
  // The bound is the most rounds of any design point (here a swept negotiation.rounds up to 20).
  Experiment swept;
  swept.sweep.design = Design::grid;
  swept.sweep.keys = {SweepKey{"negotiation.rounds", {2, 5, 20}, 0, 0, 0, false}};
  const auto sweep_rounds = estimate_needs(swept, rounds);
  CHECK_THAT(sweep_rounds.file_detail, Contains("runs x 1 to 20 rounds"));
}
