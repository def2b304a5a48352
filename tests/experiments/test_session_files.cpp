// The application layer's results files from elsewhere (issue 15, items 2, 4, 5): --resume checks
// every option that defines the plan; a damaged partial under --resume is damage, not another
// process's lock; the lock file and --force touch regular files only; merge never replaces an
// input; a stored experiment never makes wedge read another file.
#include "engine/error.hpp"
#include "experiments/session.hpp"
#include "temp_dir.hpp"

#include <hdf5.h>
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace wedge;
using namespace wedge::experiments;
namespace fs = std::filesystem;

namespace {

Experiment baseline(std::uint64_t runs, std::uint64_t seed = 5) {
  ExperimentSource source;
  source.runs = runs;
  source.seed = seed;
  return resolve(source);
}

SessionOptions to_file(const std::string& path) {
  SessionOptions o;
  o.threads = 2;
  o.wave = 1;
  o.output.path = path;
  o.output.checkpoint_seconds = 0.0;
  return o;
}

/// A partial file of `blocks` blocks of a 20,000-run baseline (with the given options).
void partial(const std::string& path, SessionOptions o, std::uint64_t blocks = 3) {
  o.output.path = path;
  o.testing.stop_after_blocks = blocks;
  REQUIRE(Session(baseline(20'000), o).execute().interrupted);
  REQUIRE(fs::exists(path + ".partial"));
}

std::string bytes(const std::string& path) {
  // Through rdbuf, not istreambuf_iterator, whose inlined streambuf GCC 12 flags
  // (-Wnull-dereference).
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string resume_error(const std::string& path, const Experiment& e, SessionOptions o) {
  o.output.path = path;
  o.output.resume = true;
  try {
    Session(e, o).execute();
  } catch (const Error& err) {
    return err.what();
  }
  return "(resumed)";
}

}  // namespace

TEST_CASE("every option that defines the plan is checked against the file by --resume",
          "[session][files]") {
  test::TempDir dir;
  const auto whole = dir.path("whole.h5");
  partial(whole, to_file(whole));
  const std::string before = bytes(whole + ".partial");
  const std::string refused = "--resume: " + whole + ".partial ";
  SessionOptions o = to_file(whole);
  o.shard = {1, 2};
  // Once this finished a file labelled complete with half the runs.
  CHECK_THAT(
      resume_error(whole, baseline(20'000), o),
      Catch::StartsWith(refused + "was written as a whole run (no --shard), not as --shard 1/2"));
  CHECK_THAT(resume_error(whole, baseline(30'000), to_file(whole)),
             Catch::StartsWith(refused + "was run with --runs 20000, not 30000"));
  CHECK_THAT(resume_error(whole, baseline(20'000, 6), to_file(whole)),
             Catch::StartsWith(refused + "was run with seed 5, not 6"));
  Experiment crn = baseline(20'000);
  crn.run.crn = true;
  CHECK_THAT(resume_error(whole, crn, to_file(whole)),
             Catch::StartsWith(refused + "was run without --crn"));
  o = to_file(whole);
  o.output.compress = true;
  CHECK_THAT(resume_error(whole, baseline(20'000), o),
             Catch::StartsWith(refused + "was written with --compression none"));
  o = to_file(whole);
  o.output.store = OutputSettings::Store::summary;
  CHECK_THAT(resume_error(whole, baseline(20'000), o),
             Catch::StartsWith(refused + "was written with --store runs"));
  CHECK(bytes(whole + ".partial") == before);  // every refusal left the file as it was
  CHECK_FALSE(fs::exists(whole + ".lock"));

  // The reverse: a shard's partial file resumed as the whole run (it once counted replicates
  // twice).
  const auto half = dir.path("half.h5");
  o = to_file(half);
  o.shard = {0, 2};
  partial(half, o);
  CHECK_THAT(
      resume_error(half, baseline(20'000), to_file(half)),
      Catch::StartsWith("--resume: " + half +
                        ".partial was written as --shard 0/2, not as a whole run (no --shard)"));
  // With the same options, both finish.
  CHECK(resume_error(whole, baseline(20'000), to_file(whole)) == "(resumed)");
  CHECK(resume_error(half, baseline(20'000), o) == "(resumed)");
  const auto info =
      output::read_results(half, engine::FieldLayout::from(agents::TugOfWar::fields()));
  CHECK(info.runs_done == info.runs_planned);
  CHECK(info.runs_done < 20'000);
}

TEST_CASE("a truncated partial under --resume is damage, not another process's lock",
          "[session][files]") {
  test::TempDir dir;
  const auto path = dir.path("cut.h5");
  partial(path, to_file(path));
  fs::resize_file(path + ".partial", 30'000);
  const auto message = resume_error(path, baseline(20'000), to_file(path));
  CHECK_THAT(message,
             Catch::StartsWith(path + ".partial: cannot open as HDF5 (damaged or truncated?)"));
  CHECK_THAT(message, !Catch::Contains("another process"));
  CHECK_FALSE(fs::exists(path + ".lock"));
}

TEST_CASE("the lock file and --force touch regular files only", "[session][files]") {
  test::TempDir dir;
  const auto victim = dir.write("victim", "precious");
  const auto locked = dir.path("locked.h5");
  fs::create_symlink(victim, locked + ".lock");
  CHECK_THROWS_WITH(
      Session(baseline(100), to_file(locked)).execute(),
      "--out " + locked +
          ".lock: is a symbolic link; wedge replaces or continues regular files only");
  CHECK(bytes(victim) == "precious");
  const auto fifo = dir.path("fifo.h5");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  SessionOptions o = to_file(fifo);
  o.output.force = true;
  CHECK_THROWS_WITH(
      Session(baseline(100), o).execute(),
      "--out " + fifo + ": is a FIFO; wedge replaces or continues regular files only");
  CHECK(fs::is_fifo(fifo));
  const auto link = dir.path("link.h5");
  fs::create_symlink(victim, link);
  o = to_file(link);
  o.output.force = true;
  CHECK_THROWS_WITH(Session(baseline(100), o).execute(), Catch::Contains("is a symbolic link"));
  CHECK(fs::is_symlink(link));
  CHECK(bytes(victim) == "precious");
}

TEST_CASE("merge never replaces or removes one of its inputs, even with --force",
          "[session][files]") {
  test::TempDir dir;
  const auto s0 = dir.path("s0.h5");
  const auto s1 = dir.path("s1.h5");
  for (const auto& [path, index] : {std::pair{s0, 0u}, std::pair{s1, 1u}}) {
    SessionOptions o = to_file(path);
    o.shard = {index, 2};
    Session(baseline(10'000), o).execute();
  }
  const std::string b0 = bytes(s0);
  CHECK_THROWS_WITH(merge_results({s0, s1}, s0, true, "wedge merge"),
                    "merge: the input " + s0 +
                        " is the output file, which the merge writes; choose another --out");
  CHECK(bytes(s0) == b0);
  const auto out = dir.path("out.h5");
  fs::copy_file(s1, out + ".partial");
  CHECK_THROWS_WITH(merge_results({s0, out + ".partial"}, out, true, "wedge merge"),
                    Catch::Contains("is " + out + ".partial, which the merge writes"));
  CHECK(bytes(out + ".partial") == bytes(s1));
  CHECK_NOTHROW(merge_results({s0, s1}, dir.path("m.h5"), false, "wedge merge"));
}

TEST_CASE("a stored experiment that names a file is refused without opening it",
          "[session][files]") {
  test::TempDir dir;
  const auto path = dir.path("csv.h5");
  Session(baseline(100), to_file(path)).execute();
  // A FIFO as the CSV file: a reader that opened it would hang here.
  const auto fifo = dir.path("points.csv");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    REQUIRE(file >= 0);
    output::h5::set_attr(file, "experiment",
                         "[run]\nruns = 100\n[sweep]\ndesign = \"list\"\ncsv = \"" + fifo + "\"\n");
    H5Fclose(file);
  }
  CHECK_THROWS_WITH(inspect_results(path),
                    path + ": damaged: attribute experiment: its list design names a CSV file (" +
                        fifo +
                        "); a stored experiment is self-contained and reading a results file opens "
                        "no other file");
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    output::h5::set_attr(file, "experiment", "extends = \"" + fifo + "\"\n[run]\nruns = 100\n");
    H5Fclose(file);
  }
  CHECK_THROWS_WITH(
      inspect_results(path),
      Catch::Contains("attribute experiment: it names another experiment file (extends)"));
}

namespace {
struct Recorder : output::WriterProbe {
  std::vector<Step> steps;
  void at(Step step) override { steps.push_back(step); }
};
/// Fails the write, as a full disk would, the first time `step` is reached.
struct FailAt : output::WriterProbe {
  Step step;
  explicit FailAt(Step s) : step(s) {}
  void at(Step s) override {
    if (s == step) throw OutputError("injected failure");
  }
};
}  // namespace

TEST_CASE("a complete file gets /summary and its dimension scales before `complete` says so",
          "[session][files]") {
  test::TempDir dir;
  using Step = output::WriterProbe::Step;
  const auto path = dir.path("order.h5");
  Recorder steps;
  SessionOptions o = to_file(path);
  o.testing.writer_probe = &steps;
  Session(baseline(5'000), o).execute();
  REQUIRE(steps.steps.size() >= 4);
  const std::vector<Step> last(steps.steps.end() - 4, steps.steps.end());
  CHECK(last == std::vector<Step>{Step::slot_named, Step::summary_written, Step::scales_written,
                                  Step::checkpoint_done});
  // A failure at either step before `complete` leaves a partial file with complete = 0 that
  // --resume finishes (no runs left to do) into the file an uninterrupted run writes.
  const auto reference =
      output::read_results(path, engine::FieldLayout::from(agents::TugOfWar::fields()));
  for (const Step at : {Step::summary_written, Step::scales_written}) {
    const auto cut = dir.path(std::string("cut-") + output::step_name(at) + ".h5");
    FailAt fail(at);
    SessionOptions f = to_file(cut);
    f.testing.writer_probe = &fail;
    CHECK_THROWS_AS(Session(baseline(5'000), f).execute(), OutputError);
    REQUIRE(fs::exists(cut + ".partial"));
    const auto info = output::read_results(cut + ".partial",
                                           engine::FieldLayout::from(agents::TugOfWar::fields()));
    CHECK_FALSE(info.complete);
    CHECK(info.runs_done <= 5'000);
    CHECK(resume_error(cut, baseline(5'000), to_file(cut)) == "(resumed)");
    const auto done =
        output::read_results(cut, engine::FieldLayout::from(agents::TugOfWar::fields()));
    CHECK(done.complete);
    CHECK(done.summaries == reference.summaries);
  }
}

namespace {
/// Flips one byte in the middle of the first stored chunk of `dataset` (its checksum then fails).
void flip_chunk_byte(const std::string& path, const char* dataset) {
  haddr_t addr = 0;
  hsize_t size = 0;
  {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hid_t ds = H5Dopen2(file, dataset, H5P_DEFAULT);
    REQUIRE(ds >= 0);
    const hid_t space = H5Dget_space(ds);
    hsize_t offset = 0;
    unsigned mask = 0;
    REQUIRE(H5Dget_chunk_info(ds, space, 0, &offset, &mask, &addr, &size) >= 0);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(file);
  }
  REQUIRE(size > 8);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(addr + size / 2));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(addr + size / 2));
  f.put(static_cast<char>(c ^ 0x5a));
  REQUIRE(f.good());
}
}  // namespace

TEST_CASE("inspect reads every record: a byte flipped in a /runs chunk is damage, not complete",
          "[session][files][inspect]") {
  test::TempDir dir;
  const auto path = dir.path("records.h5");
  Session(baseline(20'000), to_file(path)).execute();
  const auto clean = inspect_results(path);
  CHECK(clean.info.complete);
  CHECK(clean.records_verified);
  // The metadata and summaries are untouched: only reading the chunk shows the damage (HDF5
  // checks a chunk's Fletcher-32 when it reads the chunk).
  for (const char* column : {"/runs/alliance", "/runs/replicate"}) {
    const auto copy = dir.path(std::string("flipped") + (column + 6) + ".h5");
    fs::copy_file(path, copy);
    flip_chunk_byte(copy, column);
    CHECK_THROWS_WITH(inspect_results(copy),
                      Catch::StartsWith(copy + ": damaged: " + column + ": cannot read elements"));
  }
  // A summary-only file holds no records to verify.
  const auto summary = dir.path("summary.h5");
  auto o = to_file(summary);
  o.output.store = OutputSettings::Store::summary;
  Session(baseline(2'000), o).execute();
  CHECK_FALSE(inspect_results(summary).records_verified);
}
