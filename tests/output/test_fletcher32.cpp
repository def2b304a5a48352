#include "../engine/toy_model.hpp"
#include "../experiments/temp_dir.hpp"
#include "coin_file.hpp"
#include "engine/rng.hpp"
#include "output/fletcher32.hpp"
#include "output/hdf5.hpp"
#include "output/results_sink.hpp"

#include <hdf5.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

// HDF5's own checksum (exported by the library, declared in no public header): the reference.
extern "C" std::uint32_t H5_checksum_fletcher32(const void* data, std::size_t len);

using namespace wedge;

TEST_CASE("fletcher32 is HDF5's Fletcher-32, bit for bit", "[output][fletcher32]") {
  // Both paths (AVX2's where the CPU has it, and the portable one). Lengths around the 360-word
  // (720-byte) folding blocks and the 16- and 32-byte vectors (704: 22 AVX2 vectors), odd and even,
  // up to chunk sizes; contents random, all zero, all 0xFF (the sums' largest values, where
  // HDF5's 32-bit sums wrap within a block), and runs of equal bytes as columns hold them.
  engine::Stream stream(engine::StreamKey{13, 3, 32});
  std::vector<unsigned char> data(1 << 18);
  const std::vector<std::size_t> lengths{0,   1,   2,   3,    15,   16,   17,    31,    32,
                                         33,  703, 704, 705,  719,  720,  721,   722,   735,
                                         736, 751, 752, 1440, 1441, 4096, 65536, 65537, 262144};
  int checked = 0;
  for (int fill = 0; fill < 4; ++fill) {
    for (std::size_t k = 0; k < data.size(); ++k) {
      data[k] = fill == 0   ? static_cast<unsigned char>(stream())
                : fill == 1 ? 0
                : fill == 2 ? 0xFF
                            : static_cast<unsigned char>(k / 5000 % 2 == 0 ? 0xFF : k / 997);
    }
    for (const std::size_t n : lengths) {
      for (const std::size_t offset : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
        if (offset + n > data.size()) continue;
        INFO("fill " << fill << ", " << n << " bytes at offset " << offset << ", AVX2 "
                     << output::fletcher32_uses_avx2());
        const std::uint32_t reference = H5_checksum_fletcher32(data.data() + offset, n);
        CHECK(output::fletcher32(data.data() + offset, n) == reference);
        CHECK(output::fletcher32(data.data() + offset, n, output::Fletcher32Isa::portable) ==
              reference);
        ++checked;
      }
    }
  }
  // Random lengths and contents.
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = stream() % 20000;
    for (std::size_t k = 0; k < n; ++k)
      data[k] = static_cast<unsigned char>(stream() % 7 == 0 ? 0xFF : stream());
    const std::uint32_t reference = H5_checksum_fletcher32(data.data(), n);
    CHECK(output::fletcher32(data.data(), n) == reference);
    CHECK(output::fletcher32(data.data(), n, output::Fletcher32Isa::portable) == reference);
    ++checked;
  }
  CHECK(checked > 400);
}

TEST_CASE("chunks checksummed by the fast filter read back through HDF5's own checks",
          "[output][fletcher32]") {
  REQUIRE(output::install_fast_fletcher32());
  test::TempDir dir;
  const std::string path = dir.path("f.h5");
  const std::size_t n = 200000;  // 3 chunks of 65,536 and a partial one
  std::vector<std::uint8_t> values(n);
  for (std::size_t k = 0; k < n; ++k)
    values[k] = static_cast<std::uint8_t>(k % 251 == 0 ? 255 : k % 13);
  {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(file >= 0);
    const hsize_t dims = n, chunk = 65536;
    const hid_t space = H5Screate_simple(1, &dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_fletcher32(dcpl);
    const hid_t ds = H5Dcreate2(file, "x", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(H5Dwrite(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(file);
  }
  // Every stored chunk ends in HDF5's checksum of its bytes.
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(file, "x", H5P_DEFAULT);
  for (hsize_t c = 0; c < 4; ++c) {
    const hsize_t offset = c * 65536;
    hsize_t stored = 0;
    REQUIRE(H5Dget_chunk_storage_size(ds, &offset, &stored) >= 0);
    REQUIRE(stored == 65536 + 4);
    std::vector<unsigned char> raw(stored);
    std::uint32_t mask = 0;
    REQUIRE(H5Dread_chunk(ds, H5P_DEFAULT, &offset, &mask, raw.data()) >= 0);
    std::uint32_t sum = 0;
    for (int b = 3; b >= 0; --b) sum = (sum << 8) | raw[65536 + static_cast<std::size_t>(b)];
    CHECK(sum == H5_checksum_fletcher32(raw.data(), 65536));
  }
  std::vector<std::uint8_t> back(n);
  CHECK(H5Dread(ds, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()) >= 0);
  CHECK(back == values);
  H5Dclose(ds);
  H5Fclose(file);
}

TEST_CASE("per-run columns written a chunk at a time hold the runs, each chunk HDF5's checksum",
          "[output][fletcher32]") {
  // 3 points x 100,000 runs in blocks of 1,000 and waves of 150 blocks: chunks of 65,536 rows
  // straddle waves (their parts through HDF5's cache, whole chunks directly), and the run stops
  // after 77 blocks and is continued from its checkpoint, so a partial chunk on disk is completed.
  using wedge::test::CoinModel;
  test::TempDir dir;
  const std::string path = dir.path("coins.h5");
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  const std::uint64_t reps = 100000;
  const auto blocks = engine::make_blocks(engine::full_plan(3, reps), 1000);
  const std::span<const engine::Block> all(blocks);
  const std::vector<CoinModel::Params> params{{0.25, 9}, {0.5, 9}, {0.75, 9}};
  output::Metadata meta = test::coin_metadata(3, reps, true);
  meta.block_size = 1000;
  engine::RunOptions options;
  options.seed = 42;
  options.wave_blocks = 150;
  {
    output::ResultsWriter writer(path, meta, layout, 3);
    output::ResultsSink<CoinModel> sink(writer, engine::make_summaries<CoinModel>(3), 0, 0.0);
    auto summaries = engine::make_summaries<CoinModel>(3);
    engine::run_blocks<CoinModel>(params, all.subspan(0, 77), summaries, options, &sink);
    sink.finish(false);
    writer.close();
  }
  auto info = output::read_results(path, layout);
  REQUIRE(info.runs_done == 77000);
  {
    output::ResultsWriter writer(path, layout, info.runs_done);
    output::ResultsSink<CoinModel> sink(writer, info.summaries, info.runs_done, 0.0);
    auto summaries = info.summaries;
    engine::run_blocks<CoinModel>(params, all.subspan(77), summaries, options, &sink);
    sink.finish(true);
    writer.close();
  }
  info = output::read_results(path, layout);  // re-reads every column (every checksum)
  CHECK(info.complete);
  const std::size_t n = 3 * reps;
  REQUIRE(info.runs_done == n);
  const output::h5::File file(path);
  const auto runs = file.group("/runs");
  const auto point = runs.dataset("point").read<std::uint32_t>({n});
  const auto replicate = runs.dataset("replicate").read<std::uint32_t>({n});
  const auto parity = runs.dataset("parity").read<std::uint8_t>({n});
  const auto first = runs.dataset("first").read<std::uint8_t>({n});
  const auto fraction = runs.dataset("fraction").read<double>({n});
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto p = static_cast<std::uint32_t>(i / reps);
    engine::Stream stream(engine::StreamKey{42, p, static_cast<std::uint32_t>(i % reps)});
    const auto rec = CoinModel::run(params[p], stream);
    if (point[i] != p || replicate[i] != i % reps || parity[i] != rec.heads % 2 ||
        first[i] != rec.first || fraction[i] != rec.fraction) {
      ++wrong;
    }
  }
  CHECK(wrong == 0);
  // Every stored chunk of every column: its data, then HDF5's Fletcher-32 of the data.
  std::size_t chunks = 0;
  for (const char* name : {"point", "replicate", "parity", "first", "fraction"}) {
    const hid_t ds = H5Dopen2(file.id(), (std::string("/runs/") + name).c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    hsize_t count = 0;
    const hid_t space = H5Dget_space(ds);
    REQUIRE(H5Dget_num_chunks(ds, space, &count) >= 0);
    CHECK(count == 5);  // 300,000 rows: 4 full chunks and a partial one
    for (hsize_t c = 0; c < count; ++c) {
      hsize_t offset = 0, size = 0;
      unsigned mask = 0;
      haddr_t addr = 0;
      REQUIRE(H5Dget_chunk_info(ds, space, c, &offset, &mask, &addr, &size) >= 0);
      std::vector<unsigned char> raw(size);
      std::uint32_t filters = 0;
      REQUIRE(H5Dread_chunk(ds, H5P_DEFAULT, &offset, &filters, raw.data()) >= 0);
      CHECK(filters == 0);
      std::uint32_t sum = 0;
      for (std::size_t b = 4; b > 0; --b) sum = (sum << 8) | raw[size - 4 + (b - 1)];
      CHECK(sum == H5_checksum_fletcher32(raw.data(), size - 4));
      ++chunks;
    }
    H5Sclose(space);
    H5Dclose(ds);
  }
  CHECK(chunks == 25);
}

TEST_CASE("a column's last, partly filled chunk is stored as HDF5 stores it, at every checkpoint",
          "[output][fletcher32]") {
  // ResultsWriter keeps a column's partly filled chunk itself and writes it directly at each
  // checkpoint (zero-padded, its Fletcher-32 after it), then again once it fills. Checkpoints
  // after every wave of 10 blocks of 1,000 runs (interval 0), 3 points x 50,000 runs: every
  // chunk is written partly filled first, then completed. Every raw chunk must be what HDF5 itself
  // stores for the same rows appended through its chunk cache (the padding and the checksum
  // included; the checksum by the filter this process installed, output/fletcher32.hpp, tested
  // against HDF5's above), and read back the runs.
  using wedge::test::CoinModel;
  test::TempDir dir;
  const std::string path = dir.path("coins.h5");
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  const std::uint64_t reps = 50000;
  const auto blocks = engine::make_blocks(engine::full_plan(3, reps), 1000);
  const std::vector<CoinModel::Params> params{{0.25, 9}, {0.5, 9}, {0.75, 9}};
  output::Metadata meta = test::coin_metadata(3, reps, true);
  meta.block_size = 1000;
  engine::RunOptions options;
  options.seed = 42;
  options.wave_blocks = 10;
  {
    output::ResultsWriter writer(path, meta, layout, 3);
    output::ResultsSink<CoinModel> sink(writer, engine::make_summaries<CoinModel>(3), 0, 0.0, 0.0);
    auto summaries = engine::make_summaries<CoinModel>(3);
    engine::run_blocks<CoinModel>(params, blocks, summaries, options, &sink);
    sink.finish(true);
    writer.close();
  }
  const std::size_t n = 3 * reps;
  const auto info = output::read_results(path, layout);  // every checksum
  REQUIRE(info.complete);
  REQUIRE(info.runs_done == n);
  // The same rows through HDF5's chunk cache, in appends of 7,000 rows (no chunk boundary).
  const std::string plain = dir.path("plain.h5");
  const output::h5::File file(path);
  const auto runs = file.group("/runs");
  std::size_t compared = 0;
  {
    const output::h5::Handle out(H5Fcreate(plain.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    REQUIRE(out.valid());
    for (const char* name : {"point", "replicate", "parity", "first", "fraction"}) {
      INFO(name);
      const output::h5::Handle ds(
          H5Dopen2(file.id(), (std::string("/runs/") + name).c_str(), H5P_DEFAULT));
      const output::h5::Handle type(H5Dget_type(ds));
      const std::size_t size = H5Tget_size(type);
      std::vector<unsigned char> values(n * size);
      REQUIRE(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
      const auto column = output::h5::create_column(out, name, type, 65536, false);
      for (std::size_t r = 0; r < n; r += 7000) {
        output::h5::append(column, type, values.data() + r * size,
                           std::min<std::size_t>(7000, n - r));
      }
      REQUIRE(H5Fflush(out, H5F_SCOPE_GLOBAL) >= 0);
      const output::h5::Handle space(H5Dget_space(ds));
      hsize_t count = 0;
      REQUIRE(H5Dget_num_chunks(ds, space, &count) >= 0);
      CHECK(count == 3);  // 150,000 rows: 2 full chunks and a partial one
      for (hsize_t c = 0; c < count; ++c) {
        const hsize_t offset = c * 65536;
        hsize_t stored = 0, expected = 0;
        REQUIRE(H5Dget_chunk_storage_size(ds, &offset, &stored) >= 0);
        REQUIRE(H5Dget_chunk_storage_size(column, &offset, &expected) >= 0);
        REQUIRE(stored == expected);
        std::vector<unsigned char> raw(stored), reference(expected);
        std::uint32_t filters = 0;
        REQUIRE(H5Dread_chunk(ds, H5P_DEFAULT, &offset, &filters, raw.data()) >= 0);
        REQUIRE(H5Dread_chunk(column, H5P_DEFAULT, &offset, &filters, reference.data()) >= 0);
        CHECK(raw == reference);
        ++compared;
      }
    }
  }
  CHECK(compared == 15);
  const auto fraction = runs.dataset("fraction").read<double>({n});
  const auto replicate = runs.dataset("replicate").read<std::uint32_t>({n});
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto p = static_cast<std::uint32_t>(i / reps);
    engine::Stream stream(engine::StreamKey{42, p, static_cast<std::uint32_t>(i % reps)});
    if (replicate[i] != i % reps || fraction[i] != CoinModel::run(params[p], stream).fraction)
      ++wrong;
  }
  CHECK(wrong == 0);
}
