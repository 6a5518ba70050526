// A write-ahead log file of arbitrary bytes. open() either refuses (leaving the file exactly
// as it was) or recovers some records; then an appended record must come back after the
// recovered ones, and a second open must replay the same sequence without dropping anything.
#include <cstdlib>
#include <span>
#include <vector>

#include "edgefl/store/write_ahead_log.hpp"
#include "fuzz_entry.hpp"
#include "memory_files.hpp"

namespace edgefl::fuzz {
namespace {

constexpr std::uint64_t kGeneration = 1;
using Records = std::vector<std::vector<std::byte>>;

Result<WriteAheadLog> open_collect(FileSystem& fs, Records& out) {
  WalOptions options;
  options.max_record_bytes = 1u << 16;
  return WriteAheadLog::open(
      fs, "wal", kGeneration,
      [&out](std::span<const std::byte> record) {
        out.emplace_back(record.begin(), record.end());
        return Status();
      },
      options);
}

}  // namespace

int run_one(const uint8_t* data, std::size_t size) {
  FaultFileSystem fs;
  const std::string path = WriteAheadLog::file_path("wal", kGeneration);
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  put_file(fs, "wal", path, bytes);

  Records first;
  Result<WriteAheadLog> wal = open_collect(fs, first);
  if (!wal.ok()) {
    if (wal.status().code() == StatusCode::ok) std::abort();
    Result<std::vector<std::byte>> after = fs.contents(path);
    if (!after.ok() || *after != std::vector<std::byte>(bytes.begin(), bytes.end())) std::abort();
    return 0;  // refused, and nothing was cut
  }
  if (wal->recovery().records != first.size()) std::abort();
  const std::vector<std::byte> extra = {std::byte{'o'}, std::byte{'k'}};
  if (!wal->append(extra).ok() || !wal->sync().ok()) std::abort();

  Records second;
  Result<WriteAheadLog> again = open_collect(fs, second);
  if (!again.ok() || again->recovery().tail_dropped) std::abort();
  first.push_back(extra);
  if (second != first) std::abort();
  return 0;
}

}  // namespace edgefl::fuzz
