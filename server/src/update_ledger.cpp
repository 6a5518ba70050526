#include "update_ledger.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "edgefl/store/atomic_file.hpp"
#include "edgefl/base/rng.hpp"
#include "update_log.hpp"

namespace edgefl::server {

namespace {

constexpr uint64_t kMaxCheckpointBytes = uint64_t{1} << 31;

}  // namespace

Result<UpdateLedger> UpdateLedger::open(FileSystem& fs, std::string state_dir, bool resume,
                                        const DecodeLimits& limits) {
  UpdateLedger ledger(fs, std::move(state_dir));
  EDGEFL_RETURN_IF_ERROR(fs.create_dir(ledger.state_dir_));
  const std::string path = ledger.checkpoint_path();
  Result<std::vector<std::byte>> bytes = read_file(fs, path, kMaxCheckpointBytes);
  if (!bytes && bytes.status().code() != StatusCode::not_found) return bytes.status();
  Result<std::vector<std::string>> wal_files = fs.list_dir(ledger.wal_dir());
  const bool has_log = wal_files.ok() && !wal_files->empty();
  if (!resume && (bytes.ok() || has_log)) {
    return make_status(StatusCode::failed_precondition,
                       "state directory '" + ledger.state_dir_ +
                           "' holds an earlier run: pass --resume to continue it, or use an empty directory");
  }
  if (resume && !bytes.ok() && !has_log) {
    return make_status(StatusCode::not_found, "--resume: state directory '" + ledger.state_dir_ +
                                                  "' holds no checkpoint and no write-ahead log to continue from");
  }
  if (bytes.ok()) {
    ledger.checkpoint_bytes_ = std::move(*bytes);
    std::span<const uint8_t> raw(reinterpret_cast<const uint8_t*>(ledger.checkpoint_bytes_.data()),
                                 ledger.checkpoint_bytes_.size());
    Result<Checkpoint> checkpoint = decode_checkpoint(raw, ledger.checkpoint_scratch_, limits);
    if (!checkpoint) return checkpoint.status().with_context(path);
    ledger.generation_ = checkpoint->round;
    ledger.checkpoint_.emplace(std::move(*checkpoint));
  }
  EDGEFL_RETURN_IF_ERROR(ledger.load_or_create_run_id());
  return ledger;
}

Status UpdateLedger::load_or_create_run_id() {
  Result<std::vector<std::byte>> bytes = read_file(*fs_, run_id_path(), 64);
  if (bytes.ok()) {
    const std::string text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    char* end = nullptr;
    run_id_ = std::strtoull(text.c_str(), &end, 10);
    if (run_id_ == 0 || end == text.c_str() || (*end != '\n' && *end != '\0')) {
      return make_status(StatusCode::corrupt, run_id_path() + " does not hold a run id");
    }
    return Status();
  }
  if (bytes.status().code() != StatusCode::not_found) return bytes.status();
  // A new run (or state from before run ids): a fresh id, durable before any Task names it.
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  run_id_ = (splitmix64(static_cast<uint64_t>(now) ^ (static_cast<uint64_t>(::getpid()) << 40)) >> 12) | 1;
  const std::string text = std::to_string(run_id_) + "\n";
  return atomic_write_file(*fs_, run_id_path(), std::as_bytes(std::span(text.data(), text.size())));
}

Status UpdateLedger::open_log(const Replay& replay) {
  WalOptions options;
  options.must_exist = checkpoint_.has_value();  // the checkpoint names the log that follows it
  Result<WriteAheadLog> wal = WriteAheadLog::open(
      *fs_, wal_dir(), generation_ + 1,
      [&replay](std::span<const std::byte> record) {
        Result<LogRecord> entry = decode_log_record(record);
        if (!entry) return entry.status();
        return replay(std::string(entry->device_id), entry->update_message);
      },
      options);
  if (!wal) return wal.status().with_context("opening the write-ahead log");
  writer_ = std::make_unique<WalWriter>(std::move(*wal));
  return Status();
}

uint64_t UpdateLedger::append(const std::string& device_id, std::span<const uint8_t> update_message) {
  staged_.push_back(encode_log_record(device_id, update_message));
  return ++appended_;
}

bool UpdateLedger::submit() {
  if (staged_.empty()) return false;
  writer_->submit(std::move(staged_), appended_);
  staged_.clear();
  return true;
}

uint64_t UpdateLedger::durable_through() const {
  return std::max(writer_->durable_through(), covered_through_);
}

uint64_t UpdateLedger::take_syncs() {
  const uint64_t syncs = writer_->syncs();
  const uint64_t taken = syncs - syncs_taken_;
  syncs_taken_ = syncs;
  return taken;
}

Status UpdateLedger::commit(Checkpoint& checkpoint, uint64_t generation) {
  checkpoint.round = generation;
  Result<std::vector<uint8_t>> bytes = encode_checkpoint(checkpoint);
  if (!bytes) return bytes.status().with_context("encoding the checkpoint");
  // The log's thread finishes first: the files are the coordinator's alone from here.
  EDGEFL_RETURN_IF_ERROR(writer_->wait_idle());
  // Checkpoint first, then the log: a crash in between leaves the old log, which the next
  // start deletes unread because the checkpoint names the newer generation.
  EDGEFL_RETURN_IF_ERROR(atomic_write_file(*fs_, checkpoint_path(), std::as_bytes(std::span(*bytes))));
  generation_ = generation;
  checkpoint_.reset();  // its views pointed into the bytes read at open
  checkpoint_bytes_.clear();
  // The durable checkpoint holds the staged updates too: they are not logged twice.
  staged_.clear();
  covered_through_ = appended_;
  EDGEFL_RETURN_IF_ERROR(writer_->log().rotate(generation + 1).with_context("rotating the write-ahead log"));
  return Status();
}

Status UpdateLedger::rewrite_checkpoint(Checkpoint& checkpoint) {
  EDGEFL_RETURN_IF_ERROR(writer_->wait_idle());
  // Staged or logged records of the generation that follows the checkpoint.
  if (appended_ > covered_through_ || writer_->log().record_count() > 0) {
    return make_status(StatusCode::internal,
                       "a checkpoint rewrite with updates in the log that follows it");
  }
  checkpoint.round = generation_;
  Result<std::vector<uint8_t>> bytes = encode_checkpoint(checkpoint);
  if (!bytes) return bytes.status().with_context("encoding the checkpoint");
  EDGEFL_RETURN_IF_ERROR(
      atomic_write_file(*fs_, checkpoint_path(), std::as_bytes(std::span(*bytes))));
  checkpoint_.reset();
  checkpoint_bytes_.clear();
  return Status();
}

std::string dedupe_scalar_name(std::string_view prefix, const AcceptedKey& key) {
  return std::string(prefix) + std::to_string(key.second) + ":" + key.first;
}

Result<std::optional<AcceptedKey>> parse_dedupe_scalar_name(std::string_view prefix, const std::string& name) {
  if (name.compare(0, prefix.size(), prefix) != 0) return std::optional<AcceptedKey>();
  const char* digits = name.c_str() + prefix.size();
  char* end = nullptr;
  const uint64_t number = std::strtoull(digits, &end, 10);
  if (end == digits || *end != ':' || end[1] == '\0') {
    return make_status(StatusCode::corrupt, "malformed dedupe entry '" + name + "'");
  }
  return std::optional<AcceptedKey>(AcceptedKey{std::string(end + 1), number});
}

std::optional<uint64_t> UpdateLedger::accepted(const AcceptedKey& key) const {
  auto it = accepted_.find(key);
  if (it == accepted_.end()) return std::nullopt;
  return it->second;
}

void UpdateLedger::forget_if(const std::function<bool(const AcceptedKey&)>& stale) {
  for (auto it = accepted_.begin(); it != accepted_.end();) {
    it = stale(it->first) ? accepted_.erase(it) : std::next(it);
  }
}

}  // namespace edgefl::server
