// wedge's HDF5 file driver (output/file_driver.hpp) and the write lock's owner: after a failed
// write or allocation not one more byte reaches the file, which opens with HDF5's own sec2 driver
// at its last flush; the file on disk is never shorter than HDF5's end of allocation; a lock this
// process holds is not "another process".
#include "../experiments/temp_dir.hpp"
#include "engine/error.hpp"
#include "output/file_driver.hpp"
#include "output/hdf5.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

using namespace wedge;
namespace h5 = wedge::output::h5;

// As wedge's main does: HDF5's exit handler off before HDF5 initialises (h5::quiet_errors). Else
// it re-closes at exit the file whose close failed in the full-disk case below and crashes (SEGV
// in H5F__close_cb, seen under ASan when an earlier case had initialised HDF5 without it).
const bool hdf5_exit_handler_off = (wedge::output::h5::quiet_errors(), true);

namespace {

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::uint64_t size_on_disk(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_size);
}

/// Appends `n` float64 values to the column `name` of `file` (created if missing): the column
/// holds 0, 1, 2, ... in order.
void append_values(hid_t file, const std::string& name, hsize_t n) {
  h5::Handle column = H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0
                          ? h5::Handle(H5Dopen2(file, name.c_str(), H5P_DEFAULT))
                          : h5::create_column(file, name, H5T_IEEE_F64LE, 4096, false);
  std::vector<double> values(n);
  std::iota(values.begin(), values.end(), static_cast<double>(h5::length(column)));
  h5::append(column, H5T_NATIVE_DOUBLE, values.data(), n);
}

/// The length of dataset `name` in `path`, read with HDF5's own sec2 driver (as every reader).
hsize_t length_with_sec2(const std::string& path, const std::string& name) {
  const h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_sec2(fapl);
  const h5::Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl));
  REQUIRE(file.valid());
  const h5::Handle ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
  REQUIRE(ds.valid());
  std::vector<double> values(h5::length(ds));
  REQUIRE(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  bool in_order = true;
  for (std::size_t i = 0; i < values.size(); ++i)
    in_order = in_order && values[i] == static_cast<double>(i);
  REQUIRE(in_order);
  return values.size();
}

}  // namespace

TEST_CASE("the file on disk is never shorter than HDF5's end of allocation", "[output][driver]") {
  h5::quiet_errors();
  test::TempDir dir;
  const auto path = dir.path("grow.h5");
  auto file = h5::create_file(path);
  for (int step = 0; step < 20; ++step) {
    append_values(file, "values", 10'000);
    haddr_t eoa = 0;
    REQUIRE(H5Fget_eoa(file, &eoa) >= 0);
    // HDF5 has allocated space it has not written yet: the disk holds it already.
    CHECK(size_on_disk(path) >= eoa);
  }
  file.reset();
  CHECK(length_with_sec2(path, "values") == 200'000);
}

TEST_CASE("space is reserved ahead in large pieces, and a flush or close gives it back",
          "[output][driver]") {
  h5::quiet_errors();
  test::TempDir dir;
  const auto path = dir.path("ahead.h5");
  auto file = h5::create_file(path);
  append_values(file, "values", 10'000);
  haddr_t eoa = 0;
  REQUIRE(H5Fget_eoa(file, &eoa) >= 0);
  // Room ahead: at least 1 MiB past the end of allocation (one fallocate per MiB or more, not
  // one per chunk).
  CHECK(size_on_disk(path) >= eoa + (1u << 20));
  REQUIRE(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0);
  REQUIRE(H5Fget_eoa(file, &eoa) >= 0);
  CHECK(size_on_disk(path) == eoa);  // HDF5's flush truncates to its end of allocation
  append_values(file, "values", 10'000);
  REQUIRE(H5Fget_eoa(file, &eoa) >= 0);
  CHECK(size_on_disk(path) > eoa);
  file.reset();
  // A closed file ends exactly at its end of allocation, as without the room ahead.
  const h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fapl_sec2(fapl);
  const h5::Handle reopened(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl));
  REQUIRE(reopened.valid());
  REQUIRE(H5Fget_eoa(reopened, &eoa) >= 0);
  CHECK(size_on_disk(path) == eoa);
  CHECK(length_with_sec2(path, "values") == 20'000);
}

TEST_CASE("the room ahead never makes a nearly full disk fail earlier", "[output][driver]") {
  h5::quiet_errors();
  test::TempDir dir;
  const auto path = dir.path("nearly_full.h5");
  auto file = h5::create_file(path);
  append_values(file, "values", 1'000);
  REQUIRE(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0);
  // 300,000 bytes left: less than any room ahead (1 MiB), more than 25,000 values (200,000
  // bytes and their metadata) need: the reservation falls back to exactly what HDF5 allocates.
  h5::inject_disk_fault(file, {size_on_disk(path) + 300'000, 0, 0});
  append_values(file, "values", 25'000);
  h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), path + ": cannot flush");
  file.reset();
  CHECK(length_with_sec2(path, "values") == 26'000);
}

TEST_CASE("after a failed write not one more byte reaches the file", "[output][driver]") {
  h5::quiet_errors();
  test::TempDir dir;
  const auto path = dir.path("eio.h5");
  auto file = h5::create_file(path);
  append_values(file, "values", 50'000);
  REQUIRE(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0);
  const std::string flushed = bytes(path);
  // The next write fails (EIO), wherever it falls; HDF5 then goes on flushing what it can.
  h5::inject_disk_fault(file, {0, 0, 1});
  int failures = 0;
  for (const char* name : {"values", "more"}) {
    try {
      append_values(file, name, 50'000);
    } catch (const OutputError&) {
      ++failures;
    }
  }
  if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) ++failures;
  CHECK(failures > 0);
  CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL) < 0);  // refused
  h5::fence(file);                              // as ResultsWriter::abandon: then closed
  CHECK(H5Fclose(file.get()) >= 0);             // writing nothing
  file.release();
  // Every byte as flushed; past them at most space reserved (zeros) before the failure.
  const std::string now = bytes(path);
  REQUIRE(now.size() >= flushed.size());
  CHECK(now.substr(0, flushed.size()) == flushed);
  CHECK(now.find_first_not_of('\0', flushed.size()) == std::string::npos);
  CHECK(length_with_sec2(path, "values") == 50'000);
}

TEST_CASE("a full disk fails the allocation, and the file opens at its last flush",
          "[output][driver]") {
  h5::quiet_errors();
  test::TempDir dir;
  const auto path = dir.path("full.h5");
  auto file = h5::create_file(path);
  append_values(file, "values", 50'000);
  REQUIRE(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0);
  const std::string flushed = bytes(path);
  h5::inject_disk_fault(file, {size_on_disk(path) + 100'000, 0, 0});
  std::string message;
  try {
    for (int i = 0; i < 10; ++i) append_values(file, "values", 50'000);
    h5::check(H5Fflush(file, H5F_SCOPE_GLOBAL), path + ": cannot flush");
  } catch (const OutputError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Catch::Contains("No space left on device"));
  h5::fence(file);
  H5Fclose(file.get());  // may report the failed allocation again; writes nothing
  file.release();
  // Whatever HDF5 wrote below the limit before the failure, the superblock (version 0: 96 bytes,
  // the end of allocation at 40) is the last flush's.
  CHECK(bytes(path).substr(0, 96) == flushed.substr(0, 96));
  CHECK(length_with_sec2(path, "values") == 50'000);
}

TEST_CASE("a lock this process holds is not another process's", "[output][lock]") {
  h5::quiet_errors();
  test::TempDir dir;
  const auto partial = dir.write("cut.h5.partial", std::string(4096, 'x'));  // not HDF5
  const int fd = ::open(dir.path("cut.h5.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  // flock alone cannot tell: held by this process, the lock reads as another's until noted.
  for (const bool noted : {false, true}) {
    h5::note_own_write_lock(fd, noted);
    CHECK(h5::holds_own_write_lock(fd) == noted);
    std::string message;
    try {
      h5::File file(partial);
    } catch (const OutputError& e) {
      message = e.what();
    }
    CHECK_THAT(message,
               Catch::Contains(noted ? "not an HDF5 file" : "being written by another process"));
  }
  h5::note_own_write_lock(fd, false);
  CHECK_FALSE(h5::holds_own_write_lock(fd));
  ::close(fd);
}

TEST_CASE("writes over the last flush wait for the end of the next flush, and read back meanwhile",
          "[output][driver]") {
  h5::quiet_errors();
  test::TempDir dir;
  const auto path = dir.path("hold.h5");
  auto file = h5::create_file(path);
  std::vector<double> values(1000, 0.0);
  const hsize_t n = values.size();
  const h5::Handle space(H5Screate_simple(1, &n, nullptr));
  {
    const h5::Handle ds(
        H5Dcreate2(file, "values", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  }
  REQUIRE(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0);
  const std::string flushed = bytes(path);
  std::iota(values.begin(), values.end(), 0.0);
  {
    // Rewritten in place (closing the dataset hands its bytes to the driver).
    const h5::Handle ds(H5Dopen2(file, "values", H5P_DEFAULT));
    REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  }
  CHECK(bytes(path) == flushed);  // held back
  {
    const h5::Handle ds(H5Dopen2(file, "values", H5P_DEFAULT));
    std::vector<double> read(n, -1.0);
    REQUIRE(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, read.data()) >= 0);
    CHECK(read == values);  // but read back
  }
  REQUIRE(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0);
  CHECK(bytes(path) != flushed);
  file.reset();
  CHECK(length_with_sec2(path, "values") == 1000);  // 0, 1, 2, ... as written
}
