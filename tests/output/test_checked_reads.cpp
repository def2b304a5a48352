// The checked reading layer (output/hdf5.hpp) and the readers built on it, on files crafted with
// the HDF5 C API: wrong types, counts and shapes, sizes the file does not hold, storage and links
// that point elsewhere, broken invariants, records outside their blocks, shards of another plan.
// Each case must be an OutputError naming the file and the object ("FILE: damaged: OBJECT: what").
#include "../error_text.hpp"
#include "../experiments/temp_dir.hpp"
#include "coin_file.hpp"
#include "engine/error.hpp"
#include "output/results_sink.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>

using namespace wedge;
using wedge::test::CoinModel;
namespace h5 = wedge::output::h5;

namespace {

const engine::FieldLayout& coin_layout() {
  static const auto layout = engine::FieldLayout::from(CoinModel::fields());
  return layout;
}

/// A complete results file of the coin model (coin_file.hpp), or the shard `index` of `count` of
/// its plan.
void write_coins(const std::string& path, std::uint64_t index = 0, std::uint64_t count = 1) {
  test::write_coin_file(path, {.shard_index = index, .shard_count = count});
}

/// Opens `path` for writing with the plain C API (as a hostile program would).
struct Raw {
  explicit Raw(const std::string& path) : file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)) {
    REQUIRE(file.valid());
  }
  h5::Handle file;
  std::string slot() const {
    std::uint64_t s = 0;
    const h5::Handle attr(H5Aopen(file, "checkpoint_slot", H5P_DEFAULT));
    H5Aread(attr, H5T_NATIVE_UINT64, &s);
    return "checkpoint/" + std::to_string(s);
  }
  void remove(const std::string& name) { REQUIRE(H5Ldelete(file, name.c_str(), H5P_DEFAULT) >= 0); }
  /// Replaces root attribute `name` by one of `type` holding `n` values from `data`.
  void attr(const std::string& name, hid_t type, hsize_t n, const void* data) {
    if (H5Aexists(file, name.c_str()) > 0) H5Adelete(file, name.c_str());
    const h5::Handle space(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr));
    const h5::Handle a(H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
    REQUIRE(H5Awrite(a, type, data) >= 0);
  }
  template <class T>
  std::vector<T> read(const std::string& name, hid_t type) {
    const h5::Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
    const h5::Handle space(H5Dget_space(ds));
    std::vector<T> out(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    REQUIRE(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
    return out;
  }
  template <class T>
  void write(const std::string& name, hid_t type, const std::vector<T>& values) {
    const h5::Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
    REQUIRE(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  }
};

std::string read_error(const std::string& path) {
  return test::error_text<OutputError>([&] { output::read_results(path, coin_layout()); },
                                       "(no error)");
}

std::string verify_error(const std::string& path) {
  return test::error_text<OutputError>(
      [&] { output::verify_runs(output::read_results(path, coin_layout()), coin_layout()); },
      "(no error)");
}

}  // namespace

TEST_CASE("attributes are checked for type, count and sign before they are read",
          "[output][checked]") {
  test::TempDir dir;
  const auto path = dir.path("a.h5");
  write_coins(path);
  REQUIRE(read_error(path) == "(no error)");
  const auto damaged = [&](const auto& craft, const std::string& message) {
    std::filesystem::copy_file(path, dir.path("c.h5"),
                               std::filesystem::copy_options::overwrite_existing);
    {
      Raw raw(dir.path("c.h5"));
      craft(raw);
    }
    CHECK(read_error(dir.path("c.h5")) == dir.path("c.h5") + ": damaged: " + message);
  };
  // format_version = [1, 2] once overflowed the reader's one-value buffer.
  const std::uint64_t two[] = {1, 2};
  damaged([&](Raw& r) { r.attr("format_version", H5T_NATIVE_UINT64, 2, two); },
          "attribute format_version: holds 2 values, expected one");
  const std::int64_t minus_one = -1;
  damaged([&](Raw& r) { r.attr("seed", H5T_NATIVE_INT64, 1, &minus_one); },
          "attribute seed: is -1, expected a non-negative integer");
  const double half = 0.5;
  damaged([&](Raw& r) { r.attr("complete", H5T_NATIVE_DOUBLE, 1, &half); },
          "attribute complete: is not an integer");
  const std::uint64_t seven = 7;
  damaged([&](Raw& r) { r.attr("complete", H5T_NATIVE_UINT64, 1, &seven); },
          "attribute complete: is 7, expected 0 or 1");
  damaged([&](Raw& r) { r.attr("wall_seconds", H5T_NATIVE_UINT64, 1, &seven); },
          "attribute wall_seconds: is not a floating-point number");
  damaged([&](Raw& r) { r.attr("model", H5T_NATIVE_UINT64, 1, &seven); },
          "attribute model: is not a string");
  damaged([&](Raw& r) { r.remove("checkpoint"); }, "/checkpoint: missing group");
  const std::uint64_t many = 1'000'000;
  damaged([&](Raw& r) { r.attr("points", H5T_NATIVE_UINT64, 1, &many); },
          "attribute runs_planned: is 3000, but 1000000 points x 1000 replicates make 1000000000");
}

TEST_CASE("datasets are checked for type, shape and stored size before they are read",
          "[output][checked]") {
  test::TempDir dir;
  const auto path = dir.path("d.h5");
  write_coins(path);
  {
    Raw raw(path);
    // A declared size the file does not hold (never written: HDF5 would read fill values).
    const hsize_t huge = hsize_t{1} << 33;
    const h5::Handle space(H5Screate_simple(1, &huge, nullptr));
    const h5::Handle ds(
        H5Dcreate2(raw.file, "huge", H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    REQUIRE(ds.valid());
    const hsize_t four = 4;
    const h5::Handle small(H5Screate_simple(1, &four, nullptr));
    const h5::Handle s(H5Dcreate2(raw.file, "signed", H5T_STD_I32LE, small, H5P_DEFAULT,
                                  H5P_DEFAULT, H5P_DEFAULT));
    const std::int32_t values[] = {1, -2, 3, 4};
    REQUIRE(H5Dwrite(s, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0);
  }
  const h5::File file(path);
  const auto root = file.root();
  CHECK_THROWS_WITH(
      root.dataset("huge").read<std::uint64_t>({hsize_t{1} << 33}),
      path +
          ": damaged: /huge: declares 8589934592 elements (68719476736 bytes) but stores 0 bytes");
  CHECK_THROWS_WITH(root.dataset("signed").read<std::uint32_t>({4}),
                    path +
                        ": damaged: /signed: holds signed integers of 4 bytes, expected unsigned "
                        "integers of at most 4");
  CHECK_THROWS_WITH(root.dataset("signed").read<std::uint32_t>({5}),
                    path + ": damaged: /signed: has shape [4], expected [5]");
  const auto design = file.group("/design");
  CHECK_THROWS_WITH(
      design.dataset("coin.p").read<std::uint64_t>({3}),
      Catch::Contains(
          "/design/coin.p: holds floating point of 8 bytes, expected unsigned integers"));
  CHECK_THROWS_WITH(
      design.dataset("point").read<std::uint8_t>({3}),
      Catch::Contains(
          "/design/point: holds integers of 4 bytes, expected unsigned integers of at most 1"));
  std::vector<std::uint32_t> rows;
  CHECK_THROWS_WITH(
      file.group("/runs").dataset("replicate").read_rows(2990, 20, rows),
      Catch::Contains("/runs/replicate: holds 3000 elements; elements 2990 to 3009 were expected"));
  file.group("/runs").dataset("replicate").read_rows(2990, 10, rows);
  CHECK(rows == std::vector<std::uint32_t>{990, 991, 992, 993, 994, 995, 996, 997, 998, 999});
  CHECK_THROWS_WITH(root.group("format"), path + ": damaged: /format: missing group");
  CHECK_THROWS_WITH(root.dataset("design"), path + ": damaged: /design: is not a dataset");
}

TEST_CASE("links and storage that point to other files are refused", "[output][checked]") {
  test::TempDir dir;
  const auto path = dir.path("l.h5");
  write_coins(path);
  const auto elsewhere = dir.path("elsewhere.h5");
  std::filesystem::copy_file(path, elsewhere);
  {
    Raw raw(path);
    REQUIRE(H5Lcreate_external(elsewhere.c_str(), "/design", raw.file, "external", H5P_DEFAULT,
                               H5P_DEFAULT) >= 0);
    REQUIRE(H5Lcreate_soft("/design/point", raw.file, "soft", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    const hsize_t three = 3;
    const h5::Handle space(H5Screate_simple(1, &three, nullptr));
    {
      const h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
      REQUIRE(H5Pset_external(dcpl, "/etc/passwd", 0, 24) >= 0);
      REQUIRE(h5::Handle(H5Dcreate2(raw.file, "stored_elsewhere", H5T_STD_U64LE, space, H5P_DEFAULT,
                                    dcpl, H5P_DEFAULT))
                  .valid());
    }
    {
      const h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
      const h5::Handle source(H5Screate_simple(1, &three, nullptr));
      REQUIRE(H5Pset_virtual(dcpl, space, elsewhere.c_str(), "/design/point", source) >= 0);
      REQUIRE(h5::Handle(H5Dcreate2(raw.file, "virtual", H5T_STD_U32LE, space, H5P_DEFAULT, dcpl,
                                    H5P_DEFAULT))
                  .valid());
    }
  }
  const h5::File file(path);
  const auto root = file.root();
  CHECK_THROWS_WITH(root.group("external"), path +
                                                ": damaged: /external: is an external link (to "
                                                "another file); wedge follows only links within "
                                                "the file (hard links)");
  CHECK_THROWS_WITH(root.dataset("soft"), Catch::Contains("/soft: is a soft link"));
  CHECK_THROWS_WITH(root.dataset("stored_elsewhere"),
                    Catch::Contains("/stored_elsewhere: stores its data in another file (external "
                                    "storage: \"/etc/passwd\")"));
  CHECK_THROWS_WITH(root.dataset("virtual"), Catch::Contains("/virtual: is a virtual dataset"));
  CHECK_FALSE(root.has_group("external"));
  CHECK(root.has("external"));
}

TEST_CASE(
    "a file's invariants are checked: points, counts against runs, /summary against the checkpoint",
    "[output][checked]") {
  test::TempDir dir;
  const auto path = dir.path("i.h5");
  write_coins(path);
  const auto damaged = [&](const auto& craft) {
    std::filesystem::copy_file(path, dir.path("c.h5"),
                               std::filesystem::copy_options::overwrite_existing);
    {
      Raw raw(dir.path("c.h5"));
      craft(raw);
    }
    return read_error(dir.path("c.h5"));
  };
  const std::string c = dir.path("c.h5") + ": damaged: ";
  const std::string slot = "/" + Raw(path).slot();
  CHECK(damaged([](Raw& r) {
          auto counts = r.read<std::uint64_t>(r.slot() + "/parity_counts", H5T_NATIVE_UINT64);
          counts[2] += 3;  // point 1, "even"
          r.write(r.slot() + "/parity_counts", H5T_NATIVE_UINT64, counts);
        }) == c + slot + "/parity_counts: point 1: sums to 1003, expected 1000 runs");
  CHECK(damaged([](Raw& r) {
          auto hist = r.read<std::uint64_t>(r.slot() + "/fraction_histogram", H5T_NATIVE_UINT64);
          hist[0] += 1;
          r.write(r.slot() + "/fraction_histogram", H5T_NATIVE_UINT64, hist);
        }) == c + slot + "/fraction_histogram: point 0: sums to 1001, expected 1000 runs");
  CHECK(damaged([](Raw& r) {
          auto counts = r.read<std::uint64_t>("summary/first/counts", H5T_NATIVE_UINT64);
          counts[5] ^= 1;  // a flipped bit: point 2, "heads"
          r.write("summary/first/counts", H5T_NATIVE_UINT64, counts);
        }) == c + "/summary/first/counts: point 2, column 1 disagrees with the checkpoint");
  CHECK(damaged([](Raw& r) {
          auto mean = r.read<double>("summary/fraction/mean", H5T_NATIVE_DOUBLE);
          mean[1] = std::nextafter(mean[1], 1.0);
          r.write("summary/fraction/mean", H5T_NATIVE_DOUBLE, mean);
        }) == c + "/summary/fraction/mean: point 1 disagrees with the checkpoint");
  CHECK(damaged([](Raw& r) {
          const std::uint64_t wrong = 2999;
          const h5::Handle g(H5Gopen2(r.file, r.slot().c_str(), H5P_DEFAULT));
          const h5::Handle a(H5Aopen(g, "runs_done", H5P_DEFAULT));
          H5Awrite(a, H5T_NATIVE_UINT64, &wrong);
        }) == c + slot + ": the points' runs add up to 3000, the slot's runs_done is 2999");
  CHECK(damaged([](Raw& r) {
          r.write("design/point", H5T_NATIVE_UINT32, std::vector<std::uint32_t>{0, 2, 1});
        }) == c + "/design/point: entry 1 is 2, expected 1");
  CHECK(damaged([](Raw& r) {
          const h5::Handle ds(H5Dopen2(r.file, "runs/parity", H5P_DEFAULT));
          h5::set_length(ds, 2000);
        }) == c + "/runs/parity: holds 2000 records, 3000 runs are done");
}

TEST_CASE("records are verified against their blocks, their categories and the checkpoint",
          "[output][checked]") {
  test::TempDir dir;
  const auto path = dir.path("r.h5");
  write_coins(path);
  const auto blocks = output::verify_runs(output::read_results(path, coin_layout()), coin_layout());
  REQUIRE(blocks == engine::make_blocks(engine::full_plan(3, 1000), 64));
  const auto damaged = [&](const auto& craft) {
    std::filesystem::copy_file(path, dir.path("c.h5"),
                               std::filesystem::copy_options::overwrite_existing);
    {
      Raw raw(dir.path("c.h5"));
      craft(raw);
    }
    return verify_error(dir.path("c.h5"));
  };
  const std::string c = dir.path("c.h5") + ": damaged: ";
  CHECK(damaged([](Raw& r) {
          auto v = r.read<std::uint8_t>("runs/parity", H5T_NATIVE_UINT8);
          v[1500] = 2;  // "even" and "odd" are 0 and 1
          r.write("runs/parity", H5T_NATIVE_UINT8, v);
        }) == c + "/runs/parity: record 1500 holds 2, which is no category of parity");
  CHECK(damaged([](Raw& r) {
          auto v = r.read<std::uint32_t>("runs/replicate", H5T_NATIVE_UINT32);
          std::swap(v[10], v[11]);
          r.write("runs/replicate", H5T_NATIVE_UINT32, v);
        }) == c + "/runs/point: record 10 is (point 0, replicate 11), its block says (point 0, "
                  "replicate 10)");
  CHECK(damaged([](Raw& r) {
          auto v = r.read<std::uint8_t>("runs/first", H5T_NATIVE_UINT8);
          v[2500] = 1 - v[2500];
          r.write("runs/first", H5T_NATIVE_UINT8, v);
        }).starts_with(c + "/runs/first: the records of point 2 hold"));
  CHECK(damaged([](Raw& r) {
          auto v = r.read<std::uint32_t>("blocks/point", H5T_NATIVE_UINT32);
          v[3] = 7;
          r.write("blocks/point", H5T_NATIVE_UINT32, v);
        }) ==
        c + "/blocks: block 3 (point 7, replicates 192 + 64) is outside the plan of 3 points");
  CHECK(damaged([](Raw& r) {
          auto v = r.read<std::uint64_t>("blocks/sequence", H5T_NATIVE_UINT64);
          std::swap(v[0], v[1]);
          r.write("blocks/sequence", H5T_NATIVE_UINT64, v);
        })
            .starts_with(c + "/blocks: block 0 (point 0, replicates 0 + 64, sequence 1) is not a "
                             "block of the plan"));
  CHECK(
      damaged([](Raw& r) {
        const h5::Handle ds(H5Dopen2(r.file, "blocks/count", H5P_DEFAULT));
        h5::set_length(ds, hsize_t{1} << 36);
      })
          .starts_with(
              c + "/blocks/count: declares 68719476736 elements (274877906944 bytes) but stores"));
}

TEST_CASE("merging refuses shards of another plan or design, and damaged shards, before writing",
          "[output][checked]") {
  test::TempDir dir;
  const auto s0 = dir.path("s0.h5");
  const auto s1 = dir.path("s1.h5");
  write_coins(s0, 0, 2);
  write_coins(s1, 1, 2);
  const auto merged =
      output::merge_shards({s0, s1}, dir.path("m.h5"), coin_layout(), "wedge merge", "test-build");
  write_coins(dir.path("whole.h5"));
  const auto whole = output::read_results(dir.path("whole.h5"), coin_layout());
  REQUIRE(merged.size() == 3);
  for (std::size_t p = 0; p < 3; ++p) CHECK(merged[p] == whole.summaries[p]);
  // A block of shard 1 moved to a point the design does not have (it once indexed past the end).
  const auto bad = dir.path("bad.h5");
  std::filesystem::copy_file(s1, bad);
  {
    Raw raw(bad);
    auto v = raw.read<std::uint32_t>("blocks/point", H5T_NATIVE_UINT32);
    v[0] = 99;
    raw.write("blocks/point", H5T_NATIVE_UINT32, v);
  }
  CHECK_THROWS_WITH(output::merge_shards({s0, bad}, dir.path("m2.h5"), coin_layout(), "wedge merge",
                                         "test-build"),
                    Catch::Contains("bad.h5: damaged: /blocks: block 0 (point 99"));
  CHECK_FALSE(std::filesystem::exists(dir.path("m2.h5")));
  // A shard whose design has other values.
  const auto other = dir.path("other.h5");
  std::filesystem::copy_file(s1, other);
  {
    Raw raw(other);
    raw.write("design/coin.p", H5T_NATIVE_DOUBLE, std::vector<double>{0.25, 0.5, 0.8});
  }
  CHECK_THROWS_AS(output::merge_shards({s0, other}, dir.path("m3.h5"), coin_layout(), "wedge merge",
                                       "test-build"),
                  ConfigError);
  CHECK_THROWS_WITH(
      output::merge_shards({s0, other}, dir.path("m4.h5"), coin_layout(), "wedge merge",
                           "test-build"),
      Catch::Contains("are not shards of one run: different design (its points' values)"));
  // A shard of the same experiment text whose crn attribute differs: both values are named (they
  // were not: "different --crn"), as for the seed.
  const auto with_crn = dir.path("with_crn.h5");
  std::filesystem::copy_file(s1, with_crn);
  {
    Raw raw(with_crn);
    const std::uint64_t on = 1;
    raw.attr("crn", H5T_NATIVE_UINT64, 1, &on);
  }
  CHECK_THROWS_WITH(
      output::merge_shards({s0, with_crn}, dir.path("m5.h5"), coin_layout(), "wedge merge",
                           "test-build"),
      Catch::EndsWith(fmt::format("are not shards of one run: different --crn (without --crn in "
                                  "{}, with --crn in {})",
                                  s0, with_crn)));
}
