// UpdateLedger: what the server has accepted, durably. Owns the state directory: the
// checkpoint, the write-ahead log of updates accepted since it, and the dedupe map.
//
//   Result<UpdateLedger> ledger = UpdateLedger::open(fs, state_dir, resume, limits);
//   if (const Checkpoint* cp = ledger->checkpoint()) restore(*cp);          // resume
//   EDGEFL_RETURN_IF_ERROR(ledger->open_log(replay));                       // replays the log
//   ...
//   uint64_t mine = ledger->append(device_id, raw_update);   // staged, not yet durable
//   ledger->remember(key, update_id);
//   ...                                        // more updates that arrived together
//   ledger->submit();                          // the batch goes to the log's thread: one fsync
//   ...                                        // keep serving while it syncs
//   if (ledger->durable_through() >= mine) ... // only now Ack it
//   EDGEFL_RETURN_IF_ERROR(ledger->commit(checkpoint, g));        // atomic checkpoint, new log
//
// The log is written and synced by a WalWriter thread: the server receives, decodes and folds
// the next batch while one syncs. Appends are numbered (sequence 1, 2, ...); an update is
// acknowledged only once durable_through() reaches its number. A checkpoint waits for the
// thread, then covers every update folded in so far, staged ones included (they are dropped:
// the checkpoint holds them).
//
// Order of durability: an update is in the log, synced, before its Ack; a checkpoint is written
// (temp, fsync, rename, fsync dir) before the log it covers is rotated away, and names the
// log generation that follows it, so a crash anywhere replays each accepted update once.
// A run refuses a state directory that holds an earlier run unless resuming, and a resume
// with no state at all (a mistyped path would otherwise start a new run silently).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/proto/aligned_bytes.hpp"
#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/store/file_system.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/store/write_ahead_log.hpp"
#include "wal_writer.hpp"

namespace edgefl::server {

// Dedupe key: (device id, round) for rounds, (device id, update id) asynchronously.
using AcceptedKey = std::pair<std::string, uint64_t>;

// Dedupe entries saved as checkpoint scalars: the name "<prefix><number>:<device id>".
std::string dedupe_scalar_name(std::string_view prefix, const AcceptedKey& key);
// The key a scalar name holds; nullopt for a name without `prefix`; corrupt when malformed.
Result<std::optional<AcceptedKey>> parse_dedupe_scalar_name(std::string_view prefix, const std::string& name);

class UpdateLedger {
 public:
  // Called for every logged update on open_log, in order: the device id and the raw Update.
  using Replay = std::function<Status(const std::string& device_id, std::span<const uint8_t> update_message)>;

  static Result<UpdateLedger> open(FileSystem& fs, std::string state_dir, bool resume, const DecodeLimits& limits);

  // The checkpoint found at open (resume), or nullptr. Views stay valid until commit().
  const Checkpoint* checkpoint() const { return checkpoint_ ? &*checkpoint_ : nullptr; }
  // The log generation after the loaded checkpoint (0 on a fresh run).
  uint64_t generation() const { return generation_; }
  // This run's id: drawn when the state directory is new, read back on resume (file run_id).
  // Tasks carry it and Updates echo it, so an update trained for another run is refused.
  uint64_t run_id() const { return run_id_; }
  // Opens the write-ahead log that follows the checkpoint and replays it through `replay`.
  Status open_log(const Replay& replay);
  const WalRecovery& recovery() const { return writer_->log().recovery(); }

  // Stages the update for the log and returns its sequence number. Not durable until
  // durable_through() reaches it: acknowledge it only then.
  uint64_t append(const std::string& device_id, std::span<const uint8_t> update_message);
  // The sequence of the last append (every update appended so far is at or below it).
  uint64_t appended() const { return appended_; }
  // Hands the staged updates to the log's thread as one group (one fsync, or one shared with
  // groups waiting with it). Returns whether anything was staged.
  bool submit();
  // Every update at or below this sequence survives a crash (in the log, synced, or in the
  // checkpoint).
  uint64_t durable_through() const;
  // Whether submitted updates are still being written or synced.
  bool syncing() const { return writer_->busy(); }
  // Bytes submitted and not yet durable.
  uint64_t backlog_bytes() const { return writer_->backlog_bytes(); }
  // Waits until everything submitted is durable; the log's error if it failed (then nothing
  // more becomes durable: stop serving and resume after fixing the disk).
  Status settle() { return writer_->wait_idle(); }
  Status failure() const { return writer_->error(); }
  // fsyncs of the log since the last call.
  uint64_t take_syncs();
  // Writes `checkpoint` atomically as generation `generation`, then starts log generation + 1.
  // Waits for the log's thread first.
  Status commit(Checkpoint& checkpoint, uint64_t generation);
  // Writes `checkpoint` atomically as the current generation and keeps the log that follows:
  // only for state fixed while that log is still empty (the statistics before round 1).
  Status rewrite_checkpoint(Checkpoint& checkpoint);

  // Dedupe: the update id accepted under `key`, if any.
  std::optional<uint64_t> accepted(const AcceptedKey& key) const;
  void remember(const AcceptedKey& key, uint64_t update_id) { accepted_[key] = update_id; }
  void forget(const AcceptedKey& key) { accepted_.erase(key); }
  // Drops every entry `stale` says no update can match any more.
  void forget_if(const std::function<bool(const AcceptedKey&)>& stale);
  const std::map<AcceptedKey, uint64_t>& accepted_map() const { return accepted_; }

 private:
  UpdateLedger(FileSystem& fs, std::string state_dir) : fs_(&fs), state_dir_(std::move(state_dir)) {}
  std::string checkpoint_path() const { return state_dir_ + "/checkpoint.bin"; }
  std::string wal_dir() const { return state_dir_ + "/wal"; }
  std::string run_id_path() const { return state_dir_ + "/run_id"; }
  Status load_or_create_run_id();

  FileSystem* fs_;
  std::string state_dir_;
  std::vector<std::byte> checkpoint_bytes_;
  AlignedBytes checkpoint_scratch_;
  std::optional<Checkpoint> checkpoint_;
  uint64_t generation_ = 0;
  uint64_t run_id_ = 0;
  std::unique_ptr<WalWriter> writer_;  // owns the log once open_log has replayed it
  std::vector<WalWriter::Record> staged_;  // appended, not yet submitted
  uint64_t appended_ = 0;                  // sequence of the last append
  uint64_t covered_through_ = 0;           // appends a checkpoint holds (none of them to log)
  uint64_t syncs_taken_ = 0;
  std::map<AcceptedKey, uint64_t> accepted_;
};

}  // namespace edgefl::server
