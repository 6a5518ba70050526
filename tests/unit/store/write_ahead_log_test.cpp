#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "edgefl/store/fault_file_system.hpp"
#include "edgefl/store/write_ahead_log.hpp"
#include "byte_text.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using edgefl::test::bytes_of;
using edgefl::test::text_of;

namespace {

// Opens the log and collects what it replays.
struct Opened {
  Result<WriteAheadLog> wal;
  std::vector<std::string> records;
};

Opened open_collect(FileSystem& fs, const std::string& dir, std::uint64_t generation, WalOptions options = {}) {
  auto records = std::make_shared<std::vector<std::string>>();
  Result<WriteAheadLog> wal = WriteAheadLog::open(
      fs, dir, generation,
      [records](std::span<const std::byte> record) {
        records->push_back(text_of(std::vector<std::byte>(record.begin(), record.end())));
        return Status();
      },
      options);
  return {std::move(wal), *records};
}

void append_synced(WriteAheadLog& wal, const std::vector<std::string>& records) {
  for (const std::string& record : records) REQUIRE(wal.append(bytes_of(record)).ok());
  REQUIRE(wal.sync().ok());
}

}  // namespace

TEST_CASE("wal: records come back in order after reopen on the real disk") {
  testing::TempDir dir;
  {
    Opened opened = open_collect(posix_file_system(), dir.path(), 0);
    REQUIRE(opened.wal.ok());
    CHECK(opened.records.empty());
    append_synced(*opened.wal, {"alpha", "", "gamma"});  // an empty record is a record
    CHECK(opened.wal->record_count() == 3);
  }
  Opened again = open_collect(posix_file_system(), dir.path(), 0);
  REQUIRE(again.wal.ok());
  CHECK(again.records == std::vector<std::string>{"alpha", "", "gamma"});
  CHECK(again.wal->recovery().records == 3);
  CHECK_FALSE(again.wal->recovery().tail_dropped);
  append_synced(*again.wal, {"delta"});
  CHECK(open_collect(posix_file_system(), dir.path(), 0).records ==
        std::vector<std::string>{"alpha", "", "gamma", "delta"});
}

TEST_CASE("wal: a torn tail is cut off, reported, and later appends are readable") {
  testing::TempDir dir;
  {
    Opened opened = open_collect(posix_file_system(), dir.path(), 0);
    REQUIRE(opened.wal.ok());
    append_synced(*opened.wal, {"one", "two", "three"});
  }
  const std::string path = WriteAheadLog::file_path(dir.path(), 0);
  const auto full_size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, full_size - 2);  // the last record loses its last bytes
  {
    Opened opened = open_collect(posix_file_system(), dir.path(), 0);
    REQUIRE(opened.wal.ok());
    CHECK(opened.records == std::vector<std::string>{"one", "two"});
    CHECK(opened.wal->recovery().tail_dropped);
    CHECK(opened.wal->recovery().dropped_bytes == 12 + 5 - 2);  // frame header + "three" - 2
    append_synced(*opened.wal, {"four"});
  }
  Opened last = open_collect(posix_file_system(), dir.path(), 0);
  CHECK(last.records == std::vector<std::string>{"one", "two", "four"});
  CHECK_FALSE(last.wal->recovery().tail_dropped);
}

TEST_CASE("wal: a flipped byte in an early record refuses to open, naming the record, offset and file") {
  FaultFileSystem fs;
  {
    Opened opened = open_collect(fs, "wal", 0);
    REQUIRE(opened.wal.ok());
    append_synced(*opened.wal, {"first", "second", "third"});
  }
  const std::string path = WriteAheadLog::file_path("wal", 0);
  const std::uint64_t header = 28, first = 12 + 5;
  const std::uint64_t size = *fs.file_size(path);
  // Flip one payload byte of "second": its crc no longer matches, and "third" after it is
  // whole. That is damage, not a torn append: dropping it would lose an acknowledged update.
  REQUIRE(fs.corrupt_byte(path, header + first + 12 + 1, std::byte{'X'}).ok());
  Opened opened = open_collect(fs, "wal", 0);
  REQUIRE_FALSE(opened.wal.ok());
  CHECK(opened.wal.status().code() == StatusCode::corrupt);
  const std::string message = opened.wal.status().message();
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("record 1") != std::string::npos);
  CHECK(message.find("offset " + std::to_string(header + first)) != std::string::npos);
  CHECK(*fs.file_size(path) == size);  // nothing was cut
}

TEST_CASE("wal: damage in the last record alone is a torn tail, whatever the byte") {
  FaultFileSystem fs;
  {
    Opened opened = open_collect(fs, "wal", 0);
    append_synced(*opened.wal, {"first", "second", "third"});
  }
  const std::string path = WriteAheadLog::file_path("wal", 0);
  const std::uint64_t last = 28 + (12 + 5) + (12 + 6);
  for (std::uint64_t at : {last, last + 4, last + 8, last + 12 + 2}) {  // magic, length, crc, payload
    CAPTURE(at);
    FaultFileSystem copy;
    {
      Opened opened = open_collect(copy, "wal", 0);
      append_synced(*opened.wal, {"first", "second", "third"});
    }
    REQUIRE(copy.corrupt_byte(path, at, std::byte{0x5c}).ok());
    Opened opened = open_collect(copy, "wal", 0);
    REQUIRE(opened.wal.ok());
    CHECK(opened.records == std::vector<std::string>{"first", "second"});
    CHECK(opened.wal->recovery().tail_dropped);
  }
}

TEST_CASE("wal: a corrupt length is caught by the crc and never allocates its claim") {
  FaultFileSystem fs;
  {
    Opened opened = open_collect(fs, "wal", 0);
    append_synced(*opened.wal, {"aaaa", "bbbb"});
  }
  const std::string path = WriteAheadLog::file_path("wal", 0);
  // Second record's length field: make it claim 0x7f000004 bytes.
  REQUIRE(fs.corrupt_byte(path, 28 + 16 + 4 + 3, std::byte{0x7f}).ok());
  Opened opened = open_collect(fs, "wal", 0);
  REQUIRE(opened.wal.ok());
  CHECK(opened.records == std::vector<std::string>{"aaaa"});
  // A length changed to a smaller plausible value fails the crc instead.
  append_synced(*opened.wal, {"cccc"});
  REQUIRE(fs.corrupt_byte(path, 28 + 16 + 4, std::byte{0x02}).ok());
  CHECK(open_collect(fs, "wal", 0).records == std::vector<std::string>{"aaaa"});
}

TEST_CASE("wal: a damaged file header is corrupt, not silently emptied") {
  FaultFileSystem fs;
  { REQUIRE(open_collect(fs, "wal", 0).wal.ok()); }
  REQUIRE(fs.corrupt_byte(WriteAheadLog::file_path("wal", 0), 20, std::byte{0xff}).ok());
  Opened opened = open_collect(fs, "wal", 0);
  CHECK(opened.wal.status().code() == StatusCode::corrupt);
}

TEST_CASE("wal: rotate starts a new generation and drops the old file") {
  FaultFileSystem fs;
  Opened opened = open_collect(fs, "wal", 7);
  REQUIRE(opened.wal.ok());
  append_synced(*opened.wal, {"round-7-a", "round-7-b"});
  REQUIRE(opened.wal->rotate(8).ok());
  CHECK(opened.wal->generation() == 8);
  CHECK(opened.wal->record_count() == 0);
  append_synced(*opened.wal, {"round-8-a"});
  CHECK(fs.file_size(WriteAheadLog::file_path("wal", 7)).status().code() == StatusCode::not_found);
  CHECK(open_collect(fs, "wal", 8).records == std::vector<std::string>{"round-8-a"});
  CHECK(opened.wal->rotate(8).code() == StatusCode::invalid_argument);
}

TEST_CASE("wal: opening an older generation than present on disk is refused") {
  FaultFileSystem fs;
  {
    Opened opened = open_collect(fs, "wal", 3);
    REQUIRE(opened.wal->rotate(4).ok());
  }
  Opened old = open_collect(fs, "wal", 3);
  CHECK(old.wal.status().code() == StatusCode::failed_precondition);
  CHECK(old.wal.status().message().find("newer than generation 3") != std::string::npos);
}

TEST_CASE("wal: a checkpoint durable before rotate means the old records are skipped") {
  FaultFileSystem fs;
  Opened opened = open_collect(fs, "wal", 0);
  append_synced(*opened.wal, {"counted-in-checkpoint"});
  // The server wrote a checkpoint naming generation 1 and crashed before rotate.
  fs.crash();
  Opened next = open_collect(fs, "wal", 1);
  REQUIRE(next.wal.ok());
  CHECK(next.records.empty());
  CHECK(next.wal->recovery().stale_files_removed == 1);
  CHECK(fs.file_size(WriteAheadLog::file_path("wal", 0)).status().code() == StatusCode::not_found);
}

TEST_CASE("wal: after a failed write the log refuses more writes until reopened") {
  FaultFileSystem fs;
  Opened opened = open_collect(fs, "wal", 0);
  append_synced(*opened.wal, {"kept"});
  fs.fail_once(fs.operation_count() + 2);  // the payload write of the next record
  Status failed = opened.wal->append(bytes_of("lost"));
  CHECK(failed.code() == StatusCode::io_error);
  CHECK(opened.wal->append(bytes_of("after")).code() == StatusCode::failed_precondition);
  CHECK(opened.wal->sync().code() == StatusCode::failed_precondition);
  Opened reopened = open_collect(fs, "wal", 0);
  REQUIRE(reopened.wal.ok());
  CHECK(reopened.records == std::vector<std::string>{"kept"});
  CHECK(reopened.wal->recovery().tail_dropped);  // the frame header of "lost" was written
}

TEST_CASE("wal: oversized records are refused on append") {
  FaultFileSystem fs;
  WalOptions options;
  options.max_record_bytes = 8;
  Opened opened = open_collect(fs, "wal", 0, options);
  CHECK(opened.wal->append(bytes_of("12345678")).ok());
  CHECK(opened.wal->append(bytes_of("123456789")).code() == StatusCode::too_large);
  CHECK(opened.wal->append(bytes_of("ok")).ok());  // a refused record does not break the log
}

TEST_CASE("wal: an error from the replay callback aborts open with that error") {
  FaultFileSystem fs;
  {
    Opened opened = open_collect(fs, "wal", 0);
    append_synced(*opened.wal, {"good", "bad"});
  }
  int seen = 0;
  Result<WriteAheadLog> wal = WriteAheadLog::open(fs, "wal", 0, [&](std::span<const std::byte> record) {
    ++seen;
    if (record.size() == 3) return Status(StatusCode::shape_mismatch, "update has the wrong size");
    return Status();
  });
  CHECK(wal.status().code() == StatusCode::shape_mismatch);
  CHECK(wal.status().message().find("replaying record 1") != std::string::npos);
  CHECK(seen == 2);
}

TEST_CASE("wal: with must_exist a deleted log is an error, a rotated or empty one is not") {
  WalOptions resume;
  resume.must_exist = true;
  FaultFileSystem fs;
  {
    Opened opened = open_collect(fs, "wal", 3);
    append_synced(*opened.wal, {"acknowledged"});
  }
  // A checkpoint naming generation 2 (so the log of 3 is expected): present, replayed.
  CHECK(open_collect(fs, "wal", 3, resume).records == std::vector<std::string>{"acknowledged"});

  SUBCASE("the log file deleted") {
    REQUIRE(fs.remove(WriteAheadLog::file_path("wal", 3)).ok());
    Opened opened = open_collect(fs, "wal", 3, resume);
    CHECK(opened.wal.status().code() == StatusCode::failed_precondition);
    CHECK(opened.wal.status().message().find(WriteAheadLog::file_path("wal", 3)) != std::string::npos);
    CHECK(open_collect(fs, "wal", 3).wal.ok());  // a fresh run (no checkpoint) just starts one
  }
  SUBCASE("a crash between checkpoint and rotate leaves only the previous generation") {
    // The checkpoint now names 3, so 4 is asked for; the file of 3 is all there is.
    Opened opened = open_collect(fs, "wal", 4, resume);
    REQUIRE(opened.wal.ok());
    CHECK(opened.records.empty());
    CHECK(opened.wal->recovery().stale_files_removed == 1);
  }
  SUBCASE("a clean rotate leaves the new generation empty") {
    {
      Opened opened = open_collect(fs, "wal", 3, resume);
      REQUIRE(opened.wal->rotate(4).ok());
    }
    Opened opened = open_collect(fs, "wal", 4, resume);
    REQUIRE(opened.wal.ok());
    CHECK(opened.records.empty());
  }
}

TEST_CASE("wal: with must_exist a deleted log directory is an error naming it") {
  testing::TempDir dir;
  const std::string wal_dir = dir.path() + "/wal";
  { REQUIRE(open_collect(posix_file_system(), wal_dir, 1).wal.ok()); }
  std::filesystem::remove_all(wal_dir);
  WalOptions resume;
  resume.must_exist = true;
  Opened opened = open_collect(posix_file_system(), wal_dir, 1, resume);
  CHECK(opened.wal.status().code() == StatusCode::failed_precondition);
  CHECK(opened.wal.status().message().find(wal_dir) != std::string::npos);
  CHECK(opened.wal.status().message().find("directory is missing") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(wal_dir));  // nothing was created in its place
}
