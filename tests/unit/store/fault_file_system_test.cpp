#include <doctest/doctest.h>

#include "edgefl/store/fault_file_system.hpp"
#include "byte_text.hpp"

using namespace edgefl;
using edgefl::test::bytes_of;
using edgefl::test::text_of;

namespace {
void write(FaultFileSystem& fs, const std::string& path, const char* text, bool sync) {
  auto file = fs.new_writable(path);
  REQUIRE(file.ok());
  REQUIRE((*file)->append(bytes_of(text)).ok());
  if (sync) REQUIRE((*file)->sync().ok());
}
}  // namespace

TEST_CASE("fault fs: a crash drops unsynced bytes and names whose directory was not synced") {
  FaultFileSystem fs;
  REQUIRE(fs.create_dir("d").ok());
  write(fs, "d/synced-named", "kept", true);
  REQUIRE(fs.sync_dir("d").ok());
  write(fs, "d/synced-unnamed", "data durable, name not", true);
  fs.crash();
  CHECK(text_of(*fs.contents("d/synced-named")) == "kept");
  CHECK(fs.contents("d/synced-unnamed").status().code() == StatusCode::not_found);

  auto file = fs.open_appendable("d/synced-named");
  REQUIRE(file.ok());
  REQUIRE((*file)->append(bytes_of(" more")).ok());
  CHECK(text_of(*fs.contents("d/synced-named")) == "kept more");
  fs.crash();
  CHECK(text_of(*fs.contents("d/synced-named")) == "kept");
  CHECK((*file)->append(bytes_of("x")).code() == StatusCode::io_error);  // handle died with the crash
}

TEST_CASE("fault fs: an unsynced rename is undone by a crash, a synced one is not") {
  FaultFileSystem fs;
  REQUIRE(fs.create_dir("d").ok());
  write(fs, "d/a", "A", true);
  REQUIRE(fs.sync_dir("d").ok());
  REQUIRE(fs.rename("d/a", "d/b").ok());
  fs.crash();
  CHECK(fs.contents("d/a").ok());
  CHECK_FALSE(fs.contents("d/b").ok());
  REQUIRE(fs.rename("d/a", "d/b").ok());
  REQUIRE(fs.sync_dir("d").ok());
  fs.crash();
  CHECK_FALSE(fs.contents("d/a").ok());
  CHECK(text_of(*fs.contents("d/b")) == "A");
}

TEST_CASE("fault fs: torn crashes keep a prefix of the unsynced bytes") {
  bool saw_partial = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    FaultFileSystem fs;
    REQUIRE(fs.create_dir("d").ok());
    write(fs, "d/f", "base", true);
    REQUIRE(fs.sync_dir("d").ok());
    auto file = fs.open_appendable("d/f");
    REQUIRE(file.ok());
    REQUIRE((*file)->append(bytes_of("0123456789")).ok());
    Rng rng(seed);
    fs.crash(&rng);
    const std::string text = text_of(*fs.contents("d/f"));
    REQUIRE(text.size() >= 4);
    CHECK(std::string("base0123456789").compare(0, text.size(), text) == 0);
    saw_partial |= text.size() > 4 && text.size() < 14;
  }
  CHECK(saw_partial);
}

TEST_CASE("fault fs: fail_from fails that operation and every later one, fail_once only one") {
  FaultFileSystem fs;
  REQUIRE(fs.create_dir("d").ok());  // operation 1
  fs.fail_once(3);
  auto file = fs.new_writable("d/f");  // 2
  REQUIRE(file.ok());
  CHECK((*file)->append(bytes_of("x")).code() == StatusCode::io_error);  // 3
  CHECK((*file)->append(bytes_of("y")).ok());                            // 4
  fs.fail_from(5);
  CHECK((*file)->sync().code() == StatusCode::io_error);
  CHECK(fs.sync_dir("d").code() == StatusCode::io_error);
  CHECK(fs.operation_count() == 6);
  CHECK(text_of(*fs.contents("d/f")) == "y");
}
