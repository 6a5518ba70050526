#include "edgefl/store/write_ahead_log.hpp"

#include <cinttypes>
#include <cstdio>
#include <optional>
#include <vector>

#include "edgefl/store/atomic_file.hpp"
#include "record_frame.hpp"

namespace edgefl {

namespace {

using store_detail::kFrameHeaderBytes;

constexpr std::uint32_t four_cc(char a, char b, char c, char d) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(a)) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b)) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(c)) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(d)) << 24;
}

constexpr std::uint32_t kHeaderMagic = four_cc('E', 'F', 'W', 'H');
constexpr std::uint32_t kRecordMagic = four_cc('E', 'F', 'W', 'R');
constexpr std::uint64_t kFormatVersion = 1;
constexpr std::size_t kHeaderPayloadBytes = 16;  // u64 format version, u64 generation
constexpr std::size_t kFileHeaderBytes = kFrameHeaderBytes + kHeaderPayloadBytes;

std::optional<std::uint64_t> parse_generation(const std::string& name) {
  // "wal-" + 20 digits + ".log"
  if (name.size() != 28 || name.compare(0, 4, "wal-") != 0 || name.compare(24, 4, ".log") != 0) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (std::size_t i = 4; i < 24; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return value;
}

// Reads until `out` is full or the file ends; returns bytes read.
Result<std::size_t> read_fully(SequentialFile& file, std::span<std::byte> out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    Result<std::size_t> got = file.read(out.subspan(filled));
    if (!got) return got.status();
    if (*got == 0) break;
    filled += *got;
  }
  return filled;
}

// Whether a complete record with a matching crc starts at `at` within `bytes`.
bool valid_record_at(std::span<const std::byte> bytes, std::size_t at, std::uint32_t max_record_bytes) {
  if (bytes.size() - at < kFrameHeaderBytes) return false;
  const store_detail::FrameHeader parsed = store_detail::parse_frame_header(bytes.data() + at);
  if (parsed.magic != kRecordMagic || parsed.length > max_record_bytes) return false;
  if (parsed.length > bytes.size() - at - kFrameHeaderBytes) return false;
  return store_detail::frame_payload_matches(bytes.data() + at,
                                             bytes.subspan(at + kFrameHeaderBytes, parsed.length));
}

// The offset of the first valid record that starts after `bad` (a record that failed to
// read), or nullopt: then `bad` is a torn tail.
Result<std::optional<std::uint64_t>> valid_record_after(FileSystem& fs, const std::string& path, std::uint64_t bad,
                                                        std::uint64_t size, std::uint32_t max_record_bytes) {
  Result<std::vector<std::byte>> bytes = read_file(fs, path, size);
  if (!bytes) return bytes.status();
  const std::span<const std::byte> all(*bytes);
  for (std::uint64_t at = bad + 1; at + kFrameHeaderBytes <= all.size(); ++at) {
    if (valid_record_at(all, at, max_record_bytes)) return std::optional<std::uint64_t>(at);
  }
  return std::optional<std::uint64_t>();
}

}  // namespace

std::string WriteAheadLog::file_path(const std::string& dir, std::uint64_t generation) {
  char name[32];
  std::snprintf(name, sizeof name, "wal-%020" PRIu64 ".log", generation);
  return join_path(dir, name);
}

WriteAheadLog::WriteAheadLog(FileSystem& fs, std::string dir, WalOptions options)
    : fs_(&fs), dir_(std::move(dir)), options_(options) {}
WriteAheadLog::WriteAheadLog(WriteAheadLog&&) noexcept = default;
WriteAheadLog& WriteAheadLog::operator=(WriteAheadLog&&) noexcept = default;
WriteAheadLog::~WriteAheadLog() = default;

Result<WriteAheadLog> WriteAheadLog::open(FileSystem& fs, std::string dir, std::uint64_t generation,
                                          const Replay& replay, WalOptions options) {
  WriteAheadLog wal(fs, std::move(dir), options);
  wal.generation_ = generation;
  const std::string context = "opening write-ahead log in " + wal.dir_;
  if (!options.must_exist) EDGEFL_RETURN_IF_ERROR(fs.create_dir(wal.dir_).with_context(context));

  Result<std::vector<std::string>> names = fs.list_dir(wal.dir_);
  if (!names && names.status().code() == StatusCode::not_found && options.must_exist) {
    return Status(StatusCode::failed_precondition,
                  context + ": the directory is missing, but the checkpoint expects generation " +
                      std::to_string(generation) + " (was the log deleted? its acknowledged updates are lost)");
  }
  if (!names) return names.status().with_context(context);
  bool current_exists = false;
  bool previous_exists = false;
  for (const std::string& name : *names) {
    std::optional<std::uint64_t> found = parse_generation(name);
    if (found && *found > generation) {
      return Status(StatusCode::failed_precondition,
                    context + ": " + name + " is newer than generation " + std::to_string(generation) +
                        " named by the checkpoint (is the checkpoint missing or old?)");
    }
    if (found && *found == generation) current_exists = true;
    if (found && generation > 0 && *found == generation - 1) previous_exists = true;
  }
  if (options.must_exist && !current_exists && !previous_exists) {
    return Status(StatusCode::failed_precondition,
                  context + ": neither " + file_path(wal.dir_, generation) + " nor the previous generation's file " +
                      "is there, but the checkpoint expects one (was the log deleted? its acknowledged updates are lost)");
  }
  EDGEFL_RETURN_IF_ERROR(wal.remove_older_than(generation, &wal.recovery_.stale_files_removed).with_context(context));

  const std::string path = file_path(wal.dir_, generation);
  if (!current_exists) {
    EDGEFL_RETURN_IF_ERROR(wal.start_generation(generation).with_context(context));
    return wal;
  }

  Result<std::uint64_t> size = fs.file_size(path);
  if (!size) return size.status().with_context(context);
  Result<std::unique_ptr<SequentialFile>> file = fs.open_sequential(path);
  if (!file) return file.status().with_context(context);

  // The header was written atomically, so anything wrong with it is corruption, not a tear.
  std::byte header[kFileHeaderBytes];
  Result<std::size_t> got = read_fully(**file, header);
  if (!got) return got.status().with_context(context);
  if (*got != kFileHeaderBytes || store_detail::get_u32(header) != kHeaderMagic ||
      !store_detail::frame_payload_matches(header, {header + kFrameHeaderBytes, kHeaderPayloadBytes})) {
    return Status(StatusCode::corrupt, path + ": bad write-ahead log header");
  }
  const std::uint64_t version = store_detail::get_u64(header + kFrameHeaderBytes);
  const std::uint64_t header_generation = store_detail::get_u64(header + kFrameHeaderBytes + 8);
  if (version != kFormatVersion) {
    return Status(StatusCode::version_mismatch, path + ": write-ahead log format " + std::to_string(version));
  }
  if (header_generation != generation) {
    return Status(StatusCode::corrupt, path + ": header names generation " + std::to_string(header_generation));
  }

  std::uint64_t valid_end = kFileHeaderBytes;
  std::vector<std::byte> payload;
  const char* damage = nullptr;  // why the record at valid_end did not read, if one did not
  for (;;) {
    std::byte frame[kFrameHeaderBytes];
    got = read_fully(**file, frame);
    if (!got) return got.status().with_context(context);
    if (*got == 0) break;  // end of file
    if (*got != kFrameHeaderBytes) {
      damage = "an incomplete frame header";
      break;
    }
    store_detail::FrameHeader parsed = store_detail::parse_frame_header(frame);
    if (*size < valid_end + kFrameHeaderBytes) break;  // the file changed under us: stop here
    const std::uint64_t remaining = *size - valid_end - kFrameHeaderBytes;
    if (parsed.magic != kRecordMagic) damage = "a bad record magic";
    else if (parsed.length > options.max_record_bytes || parsed.length > remaining) damage = "a length past the end";
    if (damage != nullptr) break;
    payload.resize(parsed.length);
    got = read_fully(**file, payload);
    if (!got) return got.status().with_context(context);
    if (*got != parsed.length || !store_detail::frame_payload_matches(frame, payload)) {
      damage = "a checksum mismatch";
      break;
    }
    EDGEFL_RETURN_IF_ERROR(replay(payload).with_context(context + ": replaying record " +
                                                        std::to_string(wal.recovery_.records)));
    ++wal.recovery_.records;
    valid_end += kFrameHeaderBytes + parsed.length;
  }
  wal.record_count_ = wal.recovery_.records;

  if (damage != nullptr) {
    // Only the last append can be torn. A whole record after the bad one means the damage is
    // inside the log, and cutting there would drop updates that were acknowledged.
    Result<std::optional<std::uint64_t>> later =
        valid_record_after(fs, path, valid_end, *size, options.max_record_bytes);
    if (!later) return later.status().with_context(context);
    if (*later) {
      return Status(StatusCode::corrupt,
                    path + ": record " + std::to_string(wal.recovery_.records) + " at offset " +
                        std::to_string(valid_end) + " has " + damage + ", but a valid record follows at offset " +
                        std::to_string(**later) + ": the log is damaged, not torn; refusing to drop acknowledged "
                        "updates");
    }
  }
  if (valid_end < *size) {
    wal.recovery_.tail_dropped = true;
    wal.recovery_.dropped_bytes = *size - valid_end;
    EDGEFL_RETURN_IF_ERROR(fs.truncate(path, valid_end).with_context(context));
  }
  Result<std::unique_ptr<WritableFile>> appendable = fs.open_appendable(path);
  if (!appendable) return appendable.status().with_context(context);
  wal.file_ = std::move(*appendable);
  return wal;
}

Status WriteAheadLog::start_generation(std::uint64_t generation) {
  std::byte header[kFileHeaderBytes];
  std::byte* payload = header + kFrameHeaderBytes;
  store_detail::put_u64(payload, kFormatVersion);
  store_detail::put_u64(payload + 8, generation);
  auto frame = store_detail::frame_header(kHeaderMagic, {payload, kHeaderPayloadBytes});
  std::copy(frame.begin(), frame.end(), header);
  const std::string path = file_path(dir_, generation);
  EDGEFL_RETURN_IF_ERROR(atomic_write_file(*fs_, path, header));
  Result<std::unique_ptr<WritableFile>> appendable = fs_->open_appendable(path);
  if (!appendable) return appendable.status();
  if (file_) (void)file_->close();  // the old generation is complete; its records are in the checkpoint
  file_ = std::move(*appendable);
  generation_ = generation;
  record_count_ = 0;
  broken_ = false;
  return {};
}

Status WriteAheadLog::remove_older_than(std::uint64_t generation, std::uint64_t* removed) {
  Result<std::vector<std::string>> names = fs_->list_dir(dir_);
  if (!names) return names.status();
  bool changed = false;
  for (const std::string& name : *names) {
    std::optional<std::uint64_t> found = parse_generation(name);
    const bool stale = found && *found < generation;
    const bool stray_temp = name.size() > 4 && name.compare(name.size() - 4, 4, kTempSuffix) == 0;
    if (!stale && !stray_temp) continue;
    EDGEFL_RETURN_IF_ERROR(fs_->remove(join_path(dir_, name)));
    changed = true;
    if (stale && removed) ++*removed;
  }
  if (changed) return fs_->sync_dir(dir_);
  return {};
}

Status WriteAheadLog::append(std::span<const std::byte> record) {
  if (broken_ || !file_) {
    return Status(StatusCode::failed_precondition,
                  "write-ahead log " + file_path(dir_, generation_) + " had a failed write; reopen it");
  }
  if (record.size() > options_.max_record_bytes) {
    return Status(StatusCode::too_large, "write-ahead log record of " + std::to_string(record.size()) +
                                             " bytes, limit is " + std::to_string(options_.max_record_bytes));
  }
  auto frame = store_detail::frame_header(kRecordMagic, record);
  Status status = file_->append(frame);
  if (status.ok()) status = file_->append(record);
  if (!status.ok()) {
    broken_ = true;
    return status.with_context("appending to write-ahead log");
  }
  ++record_count_;
  return {};
}

Status WriteAheadLog::sync() {
  if (broken_ || !file_) {
    return Status(StatusCode::failed_precondition,
                  "write-ahead log " + file_path(dir_, generation_) + " had a failed write; reopen it");
  }
  Status status = file_->sync();
  if (!status.ok()) {
    broken_ = true;  // after a failed fsync the kernel may have dropped the dirty pages
    return status.with_context("syncing write-ahead log");
  }
  return {};
}

Status WriteAheadLog::rotate(std::uint64_t next) {
  if (next <= generation_) {
    return Status(StatusCode::invalid_argument, "write-ahead log rotate to generation " + std::to_string(next) +
                                                    ", current is " + std::to_string(generation_));
  }
  EDGEFL_RETURN_IF_ERROR(start_generation(next).with_context("rotating write-ahead log"));
  return remove_older_than(next, nullptr).with_context("rotating write-ahead log");
}

}  // namespace edgefl
