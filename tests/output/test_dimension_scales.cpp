#include "../experiments/temp_dir.hpp"
#include "coin_file.hpp"
#include "engine/error.hpp"
#include "output/dimension_scales.hpp"
#include "output/results_sink.hpp"

#include <fmt/format.h>
#include <hdf5_hl.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>

using namespace wedge;
using wedge::test::CoinModel;

namespace {

/// A results file of the coin model (coin_file.hpp): complete (with its dimension scales, written
/// by the completing checkpoint) or, as an interrupted run leaves it, with every run and /summary
/// but marked incomplete and without scales.
std::vector<engine::Summary> write_coins(const std::string& path, bool store_runs,
                                         bool complete = false) {
  return test::write_coin_file(path, {.store_runs = store_runs, .complete = complete});
}

/// The names of the dimension scales attached to each axis of dataset `name` (one per axis).
std::vector<std::string> scale_names(hid_t file, const std::string& name) {
  const output::h5::Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  REQUIRE(ds.valid());
  const output::h5::Handle space(H5Dget_space(ds));
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<std::string> names;
  for (int axis = 0; axis < rank; ++axis) {
    if (H5DSget_num_scales(ds, static_cast<unsigned>(axis)) != 1) {
      names.push_back(
          fmt::format("({} scales)", H5DSget_num_scales(ds, static_cast<unsigned>(axis))));
      continue;
    }
    std::string scale;
    H5DSiterate_scales(
        ds, static_cast<unsigned>(axis), nullptr,
        [](hid_t, unsigned, hid_t scale_id, void* out) -> herr_t {
          char buf[256] = {};
          H5Iget_name(scale_id, buf, sizeof buf);
          *static_cast<std::string*>(out) = buf;
          return 1;
        },
        &scale);
    names.push_back(scale.substr(scale.rfind('/') + 1));
  }
  return names;
}

}  // namespace

TEST_CASE("dimension scales name every axis a netCDF reader sees", "[output]") {
  test::TempDir dir;
  const auto path = dir.path("coins.h5");
  write_coins(path, true);
  CHECK_FALSE(output::has_dimension_scales(path));
  output::write_dimension_scales(path);
  CHECK(output::has_dimension_scales(path));

  const output::h5::File checked(path);
  const hid_t file = checked.id();
  CHECK(scale_names(file, "design/coin.p") == std::vector<std::string>{"point"});
  CHECK(scale_names(file, "summary/runs") == std::vector<std::string>{"point"});
  for (const char* field : {"parity", "first"}) {
    for (const char* ds : {"counts", "p", "ci_low", "ci_high"}) {
      INFO(field << "/" << ds);
      CHECK(scale_names(file, fmt::format("summary/{}/{}", field, ds)) ==
            std::vector<std::string>{"point", "category"});
      CHECK(
          checked.group(fmt::format("/summary/{}", field)).dataset(ds).attr_string("coordinates") ==
          "coin.p");
    }
  }
  CHECK(scale_names(file, "summary/fraction/mean") == std::vector<std::string>{"point"});
  CHECK(scale_names(file, "summary/fraction/histogram") ==
        std::vector<std::string>{"point", "bin"});
  CHECK(scale_names(file, "summary/fraction/bin_low") == std::vector<std::string>{"bin"});
  for (const char* column : {"point", "replicate", "parity", "first", "fraction"}) {
    INFO(column);
    CHECK(scale_names(file, std::string("runs/") + column) == std::vector<std::string>{"run"});
  }

  // The coordinates each group carries are the design's own datasets (hard links, no copies).
  const auto object = [&](const std::string& name) {
    H5O_info_t info{};
    REQUIRE(H5Oget_info_by_name(file, name.c_str(), &info, H5P_DEFAULT) >= 0);
    return info.addr;
  };
  CHECK(object("summary/parity/point") == object("design/point"));
  CHECK(object("summary/fraction/coin.p") == object("design/coin.p"));
  // Category labels and histogram bin edges.
  {
    const output::h5::Handle category(H5Dopen2(file, "summary/parity/category", H5P_DEFAULT));
    REQUIRE(category.valid());
    REQUIRE(output::h5::length(category) == 2);
    const output::h5::Handle type(H5Dget_type(category));
    REQUIRE(H5Tis_variable_str(type) > 0);
    char* names[2] = {nullptr, nullptr};
    REQUIRE(H5Dread(category, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0);
    CHECK(std::string(names[0]) == "even");
    CHECK(std::string(names[1]) == "odd");
    const output::h5::Handle space(H5Dget_space(category));
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, names);
  }
  const auto fraction = checked.group("/summary/fraction");
  const auto low = fraction.dataset("bin_low").read<double>({12});
  const auto high = fraction.dataset("bin_high").read<double>({12});
  REQUIRE(low.size() == 12);
  CHECK(std::isinf(low[0]));
  CHECK(high[0] == 0.0);
  CHECK(low[1] == 0.0);
  CHECK(high[1] == Approx(0.1));
  CHECK(high[10] == 1.0);
  CHECK(low[11] == 1.0);
  CHECK(std::isinf(high[11]));

  // The run dimension has no data of its own and takes no space.
  const output::h5::Handle run(H5Dopen2(file, "run", H5P_DEFAULT));
  REQUIRE(run.valid());
  CHECK(output::h5::length(run) == 3000);
  CHECK(H5Dget_storage_size(run) == 0);
  CHECK(checked.root().dataset("run").attr_string("NAME").starts_with(
      "This is a netCDF dimension but not a netCDF variable."));
  // Categorical columns stored by index carry CF flags.
  CHECK(checked.group("/runs").dataset("parity").attr_string("flag_meanings") == "even odd");
}

TEST_CASE("a complete file has its dimension scales before it says it is complete", "[output]") {
  test::TempDir dir;
  const auto path = dir.path("done.h5");
  write_coins(path, true, true);
  CHECK(output::has_dimension_scales(path));
  const output::h5::File file(path);
  CHECK(scale_names(file.id(), "summary/parity/counts") ==
        std::vector<std::string>{"point", "category"});
  CHECK(scale_names(file.id(), "runs/parity") == std::vector<std::string>{"run"});
  CHECK(file.root().attr_u64("complete") == 1);
}

TEST_CASE("dimension scales leave what the readers read unchanged", "[output]") {
  test::TempDir dir;
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  for (const bool store_runs : {true, false}) {
    INFO("store_runs " << store_runs);
    const auto path = dir.path(store_runs ? "runs.h5" : "summary.h5");
    const auto summaries = write_coins(path, store_runs);
    const auto before = output::read_results(path, layout);
    output::write_dimension_scales(path);
    const auto after = output::read_results(path, layout);
    REQUIRE(after.summaries.size() == 3);
    for (std::size_t p = 0; p < 3; ++p) {
      CHECK(after.summaries[p] == before.summaries[p]);
      CHECK(after.summaries[p] == summaries[p]);
    }
    CHECK(after.runs_stored == before.runs_stored);
    CHECK(after.values == before.values);
    CHECK(after.swept_keys == before.swept_keys);
    CHECK(after.format_version == before.format_version);
    CHECK_NOTHROW(output::verify_runs(after, layout));
    // A second call changes nothing.
    const auto size = std::filesystem::file_size(path);
    output::write_dimension_scales(path);
    CHECK(std::filesystem::file_size(path) == size);
  }
}

TEST_CASE("dimension scales refuse a damaged file with a message naming it", "[output]") {
  test::TempDir dir;
  const auto path = dir.path("short.h5");
  write_coins(path, true);
  {
    // A column shorter than the others.
    const output::h5::File file(path, true);
    output::h5::set_length(file.group("/runs").dataset("replicate").id(), 10);
  }
  CHECK_THROWS_WITH(
      output::write_dimension_scales(path),
      Catch::Contains("short.h5: damaged: /runs/replicate: has 10 entries, /runs/point 3000"));
}

namespace {

/// Every attachment of the file at `path` as H5DS records it, both sides: for each dataset with a
/// DIMENSION_LIST, "dataset axis: scale, ..." per axis, and for each scale with a REFERENCE_LIST,
/// "scale <- dataset axis" per element in its order (objects named by H5Iget_name); with each
/// attribute's stored type (encoded) so that a list of another type differs too.
std::vector<std::string> attachments(const std::string& path) {
  const output::h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  REQUIRE(file.valid());
  std::vector<std::string> names;
  H5Lvisit(
      file, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  const auto name_of = [&](hid_t id) {
    char buf[512] = {};
    H5Iget_name(id, buf, sizeof buf);
    return std::string(buf);
  };
  const auto type_of = [](hid_t attr) {
    const output::h5::Handle type(H5Aget_type(attr));
    std::size_t size = 0;
    H5Tencode(type, nullptr, &size);
    std::string bytes(size, '\0');
    H5Tencode(type, bytes.data(), &size);
    std::string hex;
    for (const char c : bytes) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
    return hex;
  };
  std::vector<std::string> out;
  for (const auto& name : names) {
    H5O_info_t info{};
    if (H5Oget_info_by_name(file, name.c_str(), &info, H5P_DEFAULT) < 0 ||
        info.type != H5O_TYPE_DATASET)
      continue;
    const output::h5::Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
    REQUIRE(ds.valid());
    if (H5Aexists(ds, "DIMENSION_LIST") > 0) {
      const output::h5::Handle attr(H5Aopen(ds, "DIMENSION_LIST", H5P_DEFAULT));
      const output::h5::Handle type(H5Aget_type(attr));
      const output::h5::Handle space(H5Aget_space(attr));
      std::vector<hvl_t> lists(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
      REQUIRE(H5Aread(attr, type, lists.data()) >= 0);
      std::string line = fmt::format("{} [{}]", name, type_of(attr));
      for (std::size_t axis = 0; axis < lists.size(); ++axis) {
        line += fmt::format(" {}:", axis);
        for (std::size_t i = 0; i < lists[axis].len; ++i) {
          const output::h5::Handle scale(H5Rdereference2(
              ds, H5P_DEFAULT, H5R_OBJECT, static_cast<const hobj_ref_t*>(lists[axis].p) + i));
          line += fmt::format(" {}", name_of(scale));
        }
      }
      H5Dvlen_reclaim(type, space, H5P_DEFAULT, lists.data());
      out.push_back(line);
    }
    if (H5Aexists(ds, "REFERENCE_LIST") > 0) {
      struct Reference {
        hobj_ref_t dataset;
        int dimension;
      };
      const output::h5::Handle memory(H5Tcreate(H5T_COMPOUND, sizeof(Reference)));
      H5Tinsert(memory, "dataset", offsetof(Reference, dataset), H5T_STD_REF_OBJ);
      H5Tinsert(memory, "dimension", offsetof(Reference, dimension), H5T_NATIVE_INT);
      const output::h5::Handle attr(H5Aopen(ds, "REFERENCE_LIST", H5P_DEFAULT));
      const output::h5::Handle space(H5Aget_space(attr));
      std::vector<Reference> refs(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
      REQUIRE(H5Aread(attr, memory, refs.data()) >= 0);
      out.push_back(fmt::format("{} lists [{}]", name, type_of(attr)));
      for (const auto& r : refs) {
        const output::h5::Handle target(H5Rdereference2(ds, H5P_DEFAULT, H5R_OBJECT, &r.dataset));
        out.push_back(fmt::format("{} <- {} {}", name, name_of(target), r.dimension));
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("dimension scales are attached as H5DSattach_scale attaches them one at a time",
          "[output]") {
  // A file written for the first time gets each DIMENSION_LIST and REFERENCE_LIST in one write
  // (write_dimension_scales' Attachments); a file whose /design/point is a scale already (an
  // interrupted one) is attached through H5DS, one attachment at a time. Both must read the same.
  test::TempDir dir;
  for (const bool store_runs : {true, false}) {
    INFO("store_runs " << store_runs);
    const auto batched = dir.path(store_runs ? "batched-runs.h5" : "batched.h5");
    const auto by_h5ds = dir.path(store_runs ? "h5ds-runs.h5" : "h5ds.h5");
    write_coins(batched, store_runs);
    write_coins(by_h5ds, store_runs);
    output::write_dimension_scales(batched);
    {
      const output::h5::Handle file(H5Fopen(by_h5ds.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
      const output::h5::Handle point(H5Dopen2(file, "design/point", H5P_DEFAULT));
      REQUIRE(H5DSset_scale(point, "point") >= 0);
    }
    output::write_dimension_scales(by_h5ds);
    const auto expected = attachments(by_h5ds);
    // /design/point lists its key, /summary/runs and every summary column; /run every column.
    CHECK(std::count(expected.begin(), expected.end(), "design/point <- /design/coin.p 0") == 1);
    CHECK(expected.size() > (store_runs ? 50u : 40u));
    CHECK(attachments(batched) == expected);
    CHECK_NOTHROW(output::verify_dimension_scales(batched));

    // Killed after the datasets' lists, before the scales' (write()'s order): the next call
    // completes the scales' lists without a second entry in any dataset's list.
    {
      const output::h5::Handle file(H5Fopen(batched.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
      for (const char* scale :
           {"design/point", "summary/parity/category", "summary/fraction/bin"}) {
        const output::h5::Handle ds(H5Dopen2(file, scale, H5P_DEFAULT));
        REQUIRE(H5Adelete(ds, "REFERENCE_LIST") >= 0);
      }
      if (store_runs) {
        const output::h5::Handle run(H5Dopen2(file, "run", H5P_DEFAULT));
        REQUIRE(H5Adelete(run, "REFERENCE_LIST") >= 0);
      }
    }
    CHECK_THROWS_WITH(output::verify_dimension_scales(batched),
                      Catch::Contains("is not attached to the scale"));
    output::write_dimension_scales(batched);
    CHECK(attachments(batched) == expected);
    CHECK_NOTHROW(output::verify_dimension_scales(batched));
  }
}
