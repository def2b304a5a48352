#include "../experiments/temp_dir.hpp"
#include "engine/rng.hpp"
#include "output/fletcher32.hpp"
#include "output/hdf5.hpp"

#include <hdf5.h>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

// HDF5's own checksum (exported by the library, declared in no public header): the reference.
extern "C" std::uint32_t H5_checksum_fletcher32(const void* data, std::size_t len);

using namespace wedge;

TEST_CASE("fletcher32 is HDF5's Fletcher-32, bit for bit", "[output][fletcher32]") {
  // Lengths around the 360-word (720-byte) folding blocks and the 16-byte vectors, odd and even,
  // up to chunk sizes; contents random, all zero, all 0xFF (the sums' largest values, where
  // HDF5's 32-bit sums wrap within a block), and runs of equal bytes as columns hold them.
  engine::Stream stream(engine::StreamKey{13, 3, 32});
  std::vector<unsigned char> data(1 << 18);
  const std::vector<std::size_t> lengths{0,    1,    2,    3,     15,    16,    17,
                                         31,   719,  720,  721,   722,   735,   736,
                                         1440, 1441, 4096, 65536, 65537, 262144};
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
        INFO("fill " << fill << ", " << n << " bytes at offset " << offset);
        CHECK(output::fletcher32(data.data() + offset, n) ==
              H5_checksum_fletcher32(data.data() + offset, n));
        ++checked;
      }
    }
  }
  // Random lengths and contents.
  for (int trial = 0; trial < 200; ++trial) {
    const std::size_t n = stream() % 20000;
    for (std::size_t k = 0; k < n; ++k)
      data[k] = static_cast<unsigned char>(stream() % 7 == 0 ? 0xFF : stream());
    CHECK(output::fletcher32(data.data(), n) == H5_checksum_fletcher32(data.data(), n));
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
