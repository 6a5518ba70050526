// WriteAheadLog: the server's durable record of accepted updates since the last checkpoint.
//
//   // At start: the checkpoint says which WAL generation follows it (0 without a checkpoint).
//   auto wal = edgefl::WriteAheadLog::open(fs, "state/wal", ckpt_generation,
//       [&](std::span<const std::byte> record) { return replay_update(record); });
//   if (!wal) return wal.status();            // io_error, corrupt, newer generation, missing
//   log(wal->recovery());                      // records replayed, torn tail dropped?
//   // Per accepted update:
//   EDGEFL_RETURN_IF_ERROR(wal->append(encoded_update));
//   EDGEFL_RETURN_IF_ERROR(wal->sync());      // only now send the Ack
//   // At round close: write the checkpoint (atomic_write_file) naming generation g + 1,
//   // and only after it is durable:
//   EDGEFL_RETURN_IF_ERROR(wal->rotate(g + 1));
//
// Files: "<dir>/wal-<generation, 20 digits>.log". Each starts with a framed header naming its
// generation, then framed records (magic, length, crc32, payload; record_frame). The
// generation is what makes "checkpoint, then drop the WAL" crash-safe: a crash after the
// checkpoint but before rotate leaves the old file behind, and open(g + 1) deletes it unread,
// so its records are never counted twice; a crash before the checkpoint is durable leaves the
// old checkpoint naming g, and open(g) replays everything. A file with a generation newer than
// the one asked for means a checkpoint went missing: open refuses (failed_precondition).
// Recovery replays records up to the first one that does not read (incomplete, bad magic,
// impossible length, crc mismatch). If no valid record starts anywhere after it, it is the
// torn tail of an append that was never synced, hence never acknowledged: the file is
// truncated there and new appends follow the last good record. If a valid record does follow,
// the log is damaged, not torn: open refuses (corrupt, naming the file, the record's index and
// its byte offset) rather than drop acknowledged updates. (A torn record whose own payload
// happens to hold a valid frame is refused the same way: refusing is the safe mistake.)
// Missing logs (WalOptions::must_exist, for a start from a checkpoint): every checkpoint is
// written after the log of its generation g was created durably, and rotate creates g + 1
// before it deletes g, so on disk there is always the file of g + 1 (the one asked for) or,
// after a crash between the checkpoint and rotate, the file of g. With must_exist, a missing
// directory or neither file is failed_precondition: the log was deleted and its acknowledged
// updates are gone. Without it (a fresh run, no checkpoint) a missing log is simply created. After any failed append or sync the log refuses further
// writes (failed_precondition): the file may end in a partial record; reopen to recover.
// Not thread-safe: one writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "edgefl/store/file_system.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct WalOptions {
  // Records above this are refused on append and treated as corruption on replay.
  std::uint32_t max_record_bytes = 256u << 20;
  // Set when a checkpoint names the generation: the log must be on disk (see above).
  bool must_exist = false;
};

struct WalRecovery {
  std::uint64_t records = 0;        // records replayed, in append order
  bool tail_dropped = false;        // a torn or corrupt tail was cut off
  std::uint64_t dropped_bytes = 0;  // how many bytes were cut
  std::uint64_t stale_files_removed = 0;  // older generations deleted unread
};

class WriteAheadLog {
 public:
  // Called once per recovered record, in order; an error aborts open with that error.
  using Replay = std::function<Status(std::span<const std::byte> record)>;

  static Result<WriteAheadLog> open(FileSystem& fs, std::string dir, std::uint64_t generation,
                                    const Replay& replay, WalOptions options = {});

  WriteAheadLog(WriteAheadLog&&) noexcept;
  WriteAheadLog& operator=(WriteAheadLog&&) noexcept;
  ~WriteAheadLog();

  // Appends one record (not yet durable).
  Status append(std::span<const std::byte> record);
  // fsync: every record appended so far survives a crash. Ack only after this returns OK.
  Status sync();
  // Starts generation `next` (> current) and deletes the older files. Call only after the
  // checkpoint that covers every record of the current generation is durable.
  Status rotate(std::uint64_t next);

  std::uint64_t generation() const { return generation_; }
  // Records in the current generation: replayed plus appended since open.
  std::uint64_t record_count() const { return record_count_; }
  const WalRecovery& recovery() const { return recovery_; }
  // Path of the file of a generation.
  static std::string file_path(const std::string& dir, std::uint64_t generation);

 private:
  WriteAheadLog(FileSystem& fs, std::string dir, WalOptions options);
  Status start_generation(std::uint64_t generation);
  Status remove_older_than(std::uint64_t generation, std::uint64_t* removed);

  FileSystem* fs_;
  std::string dir_;
  WalOptions options_;
  std::uint64_t generation_ = 0;
  std::uint64_t record_count_ = 0;
  std::unique_ptr<WritableFile> file_;
  bool broken_ = false;
  WalRecovery recovery_;
};

}  // namespace edgefl
