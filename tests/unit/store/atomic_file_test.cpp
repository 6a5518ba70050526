#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "edgefl/store/atomic_file.hpp"
#include "edgefl/store/fault_file_system.hpp"
#include "byte_text.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using edgefl::test::bytes_of;
using edgefl::test::text_of;

TEST_CASE("atomic file: write, replace and read back on the real disk") {
  testing::TempDir dir;
  const std::string path = dir.file("checkpoint.bin");
  REQUIRE(atomic_write_file(path, bytes_of("first version")).ok());
  REQUIRE(atomic_write_file(path, bytes_of("second")).ok());
  Result<std::vector<std::byte>> data = read_file(path, 1024);
  REQUIRE(data.ok());
  CHECK(text_of(*data) == "second");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("atomic file: read limits and missing files give typed errors") {
  testing::TempDir dir;
  const std::string path = dir.file("big.bin");
  REQUIRE(atomic_write_file(path, bytes_of("0123456789")).ok());
  CHECK(read_file(path, 10).ok());
  Result<std::vector<std::byte>> too_big = read_file(path, 9);
  CHECK(too_big.status().code() == StatusCode::too_large);
  CHECK(too_big.status().message().find(path) != std::string::npos);
  Result<std::vector<std::byte>> missing = read_file(dir.file("absent"), 10);
  CHECK(missing.status().code() == StatusCode::not_found);
}

TEST_CASE("atomic file: an unwritable directory gives io_error naming the path and errno text") {
  Status status = atomic_write_file("/proc/edgefl-cannot-write-here/x.bin", bytes_of("x"));
  CHECK(status.code() == StatusCode::not_found);
  CHECK(status.message().find("/proc/edgefl-cannot-write-here/x.bin") != std::string::npos);
  CHECK(status.message().find("No such file or directory") != std::string::npos);
  testing::TempDir dir;
  const std::string blocker = dir.file("is-a-file");
  REQUIRE(atomic_write_file(blocker, bytes_of("x")).ok());
  Status under_file = atomic_write_file(blocker + "/child.bin", bytes_of("x"));
  CHECK(under_file.code() == StatusCode::io_error);
  CHECK(under_file.message().find("Not a directory") != std::string::npos);
}

TEST_CASE("atomic file: a crash at every step leaves the old or the new bytes, never a mix") {
  FaultFileSystem reference;
  REQUIRE(reference.create_dir("d").ok());
  REQUIRE(atomic_write_file(reference, "d/f", bytes_of("old")).ok());
  const std::uint64_t setup_ops = reference.operation_count();
  REQUIRE(atomic_write_file(reference, "d/f", bytes_of("new contents")).ok());
  const std::uint64_t write_ops = reference.operation_count() - setup_ops;
  REQUIRE(write_ops >= 5);  // create, write, fsync, rename, fsync dir

  for (std::uint64_t fail_at = 1; fail_at <= write_ops + 1; ++fail_at) {
    for (int torn = 0; torn < 2; ++torn) {
      CAPTURE(fail_at);
      CAPTURE(torn);
      FaultFileSystem fs;
      REQUIRE(fs.create_dir("d").ok());
      REQUIRE(atomic_write_file(fs, "d/f", bytes_of("old")).ok());
      fs.fail_from(fs.operation_count() + fail_at);
      Status status = atomic_write_file(fs, "d/f", bytes_of("new contents"));
      Rng rng(fail_at);
      fs.crash(torn ? &rng : nullptr);
      Result<std::vector<std::byte>> after = read_file(fs, "d/f", 100);
      REQUIRE(after.ok());
      const std::string text = text_of(*after);
      CHECK((text == "old" || text == "new contents"));
      if (status.ok()) CHECK(text == "new contents");  // success means durable
    }
  }
}

TEST_CASE("atomic file: a transient failure reports the error and removes the temp file") {
  FaultFileSystem fs;
  REQUIRE(fs.create_dir("d").ok());
  fs.fail_once(fs.operation_count() + 3);  // the fsync of the temp file
  Status status = atomic_write_file(fs, "d/f", bytes_of("data"));
  CHECK(status.code() == StatusCode::io_error);
  CHECK(status.message().find("d/f") != std::string::npos);
  CHECK(fs.file_size("d/f.tmp").status().code() == StatusCode::not_found);
  CHECK(fs.file_size("d/f").status().code() == StatusCode::not_found);
}
