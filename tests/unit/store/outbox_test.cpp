#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "edgefl/store/fault_file_system.hpp"
#include "edgefl/store/outbox.hpp"
#include "byte_text.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using edgefl::test::bytes_of;
using edgefl::test::text_of;

TEST_CASE("outbox: put, list in id order, read, remove on the real disk") {
  testing::TempDir dir;
  const std::string path = dir.file("outbox");
  {
    Result<Outbox> outbox = Outbox::open(posix_file_system(), path);
    REQUIRE(outbox.ok());
    REQUIRE(outbox->put("r0002-b", bytes_of("update two")).ok());
    REQUIRE(outbox->put("r0001-a", bytes_of("update one")).ok());
    REQUIRE(outbox->put("r0003-c", bytes_of("")).ok());
  }
  Result<Outbox> outbox = Outbox::open(posix_file_system(), path);
  REQUIRE(outbox.ok());
  CHECK(*outbox->list() == std::vector<std::string>{"r0001-a", "r0002-b", "r0003-c"});
  CHECK(text_of(*outbox->read("r0002-b")) == "update two");
  CHECK(outbox->read("r0003-c")->empty());
  REQUIRE(outbox->remove("r0002-b").ok());
  CHECK(outbox->remove("r0002-b").ok());  // a second Ack for the same id is harmless
  CHECK(*outbox->list() == std::vector<std::string>{"r0001-a", "r0003-c"});
  CHECK(outbox->read("r0002-b").status().code() == StatusCode::not_found);
}

TEST_CASE("outbox: duplicates, bad ids and oversized entries are refused") {
  FaultFileSystem fs;
  OutboxOptions options;
  options.max_entry_bytes = 4;
  Result<Outbox> outbox = Outbox::open(fs, "box", options);
  REQUIRE(outbox.ok());
  REQUIRE(outbox->put("a", bytes_of("1234")).ok());
  CHECK(outbox->put("a", bytes_of("x")).code() == StatusCode::duplicate);
  CHECK(outbox->put("b", bytes_of("12345")).code() == StatusCode::too_large);
  for (const char* bad : {"", ".hidden", "../escape", "a/b", "sp ace"}) {
    CAPTURE(bad);
    CHECK(outbox->put(bad, bytes_of("x")).code() == StatusCode::invalid_argument);
    CHECK(outbox->read(bad).status().code() == StatusCode::invalid_argument);
  }
  CHECK(Outbox::check_id(std::string(128, 'a')).ok());
  CHECK(Outbox::check_id(std::string(129, 'a')).code() == StatusCode::invalid_argument);
}

TEST_CASE("outbox: stray temp files are removed on open and never listed") {
  testing::TempDir dir;
  const std::string path = dir.file("outbox");
  std::filesystem::create_directories(path);
  std::ofstream(path + "/r1.upd.tmp") << "half-written";
  std::ofstream(path + "/notes.txt") << "not an entry";
  Result<Outbox> outbox = Outbox::open(posix_file_system(), path);
  REQUIRE(outbox.ok());
  CHECK(outbox->temp_files_removed() == 1);
  CHECK_FALSE(std::filesystem::exists(path + "/r1.upd.tmp"));
  CHECK(outbox->list()->empty());
}

TEST_CASE("outbox: a damaged entry reads as corrupt") {
  FaultFileSystem fs;
  Result<Outbox> outbox = Outbox::open(fs, "box");
  REQUIRE(outbox->put("u1", bytes_of("payload")).ok());
  REQUIRE(fs.corrupt_byte("box/u1.upd", 14, std::byte{'Q'}).ok());
  Result<std::vector<std::byte>> read = outbox->read("u1");
  CHECK(read.status().code() == StatusCode::corrupt);
  CHECK(read.status().message().find("box/u1.upd") != std::string::npos);
}
