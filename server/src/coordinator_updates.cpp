// The update path of the Coordinator: verification, the binding and weight checks, dedupe,
// the write-ahead log before the Ack, and the replay of that log on restart.
#include <algorithm>

#include "coordinator.hpp"
#include "edgefl/base/model_hash.hpp"

namespace edgefl::server {

Status Coordinator::replay(const std::string& device, std::span<const uint8_t> update_message) {
  Result<DecodedMessage> decoded = decode_message(update_message, decode_scratch_, limits_);
  if (!decoded) return decoded.status().with_context("replaying the write-ahead log");
  const Update* update = std::get_if<Update>(&decoded->message);
  if (update == nullptr) return make_status(StatusCode::corrupt, "write-ahead log holds a record that is not an update");
  // The log holds only updates that were admitted and folded in live, in the same order and
  // from the same state, so each must be admitted and fold the same way again.
  const Admission admission = admit(*update);
  if (!admission.refusal.ok()) {
    return make_status(StatusCode::corrupt, "write-ahead log of generation " + std::to_string(generation() + 1) +
                                                " holds an update its state refuses: " +
                                                admission.refusal.to_string());
  }
  Status folded = verify_and_fold(device, *update, *decoded, admission);
  if (!folded.ok()) return folded.with_context("replaying the write-ahead log");
  ledger_->remember(dedupe_key(device, *update), update->update_id);
  tally_.accepted(*update, admission.staleness);
  return after_logged(device, *update, admission, true);
}

Status Coordinator::handle_update(ServerChannel& channel, const DeviceRecord& device, const std::string& peer,
                                  const DecodedMessage& decoded, std::span<const uint8_t> raw) {
  const std::string device_id = device.id;
  const Update& update = std::get<Update>(decoded.message);  // the caller checked the type
  const AcceptedKey key = dedupe_key(device_id, update);
  if (ledger_->accepted(key)) {
    // A resend after a lost Ack (or a restart): acknowledge again, never apply again. The Ack
    // names the id the device sent (it waits for that one), not the id accepted before.
    tally_.duplicate();
    acknowledge(peer, device_id, update, AckStatus::duplicate);
    return Status();
  }
  Admission admission = admit(update);
  if (admission.refusal.ok()) admission.refusal = check_binding(update);
  if (admission.refusal.ok()) admission.refusal = check_sample_weight(device, update);
  Status refusal = admission.refusal;
  if (refusal.ok()) refusal = verify_and_fold(device_id, update, decoded, admission);
  DeviceActivity& activity = devices_.find(device_id)->activity;  // the caller's device
  if (!refusal.ok()) {
    ++activity.refusals[admission.late ? std::string("late") : std::string(status_code_name(refusal.code()))];
    if (admission.late) {
      tally_.late();
    } else {
      tally_.rejected(status_code_name(refusal.code()));
      warn("rejected update " + std::to_string(update.update_id) + " of " + device_id + ": " + refusal.to_string());
    }
    reject(channel, peer, refusal, update.update_id);
    return after_refusal(channel, device_id, update);
  }

  // Durable before the Ack: the Ack waits in pending_acks_ for the sync that covers this
  // append (release_acks). A crash before it loses at most updates nobody acknowledged: their
  // devices resend.
  ledger_->append(device_id, raw);
  batch_accepted_ = true;
  ledger_->remember(key, update.update_id);
  tally_.accepted(update, admission.staleness);
  ++activity.updates_accepted;
  activity.last_loss = update.metrics.train_loss;
  activity.last_batch =
      update.metrics.batch_sizes.empty() ? config_.train.batch_size : update.metrics.batch_sizes.back();
  EDGEFL_RETURN_IF_ERROR(after_logged(device_id, update, admission, false));
  acknowledge(peer, device_id, update, AckStatus::accepted);
  return Status();
}

void Coordinator::acknowledge(const std::string& peer, const std::string& device_id, const Update& update,
                              AckStatus status) {
  // An accepted update waits for its own append; a duplicate for its original, appended
  // earlier: either way, for everything appended so far.
  PendingAck pending{peer, device_id, update, status, ledger_->appended()};
  pending.update.payload = TensorView{};
  pending_acks_.push_back(std::move(pending));
}

void Coordinator::reject_unstored(ServerChannel& channel, const std::string& peer, uint64_t update_id) {
  reject(channel, peer, make_status(StatusCode::resource_exhausted, "the server cannot store updates now"), update_id);
}

Status Coordinator::settle_log() {
  Status settled = ledger_->settle();
  for (uint64_t n = ledger_->take_syncs(); n > 0; --n) tally_.wal_synced();
  return settled;
}

Status Coordinator::release_acks(ServerChannel& channel) {
  if (releasing_acks_) return Status();  // after_ack sending a task: the outer call goes on
  releasing_acks_ = true;
  struct Done {
    bool* flag;
    ~Done() { *flag = false; }
  } done{&releasing_acks_};
  for (uint64_t n = ledger_->take_syncs(); n > 0; --n) tally_.wal_synced();
  // The failure first: once the log failed, durable_through no longer moves.
  const Status failure = ledger_->failure();
  const uint64_t durable = ledger_->durable_through();
  while (!pending_acks_.empty()) {
    // Still syncing: this Ack waits, and the ones after it wait with it, in order.
    if (pending_acks_.front().durable_at > durable && failure.ok()) break;
    PendingAck pending = std::move(pending_acks_.front());
    pending_acks_.pop_front();
    if (pending.durable_at > durable) {
      if (pending.status == AckStatus::accepted) reject_unstored(channel, pending.peer, pending.update.update_id);
      continue;
    }
    const Ack ack{pending.update.update_id, pending.update.round, pending.status};
    EDGEFL_RETURN_IF_ERROR(send(channel, pending.peer, ack));
    if (pending.status == AckStatus::accepted) {
      EDGEFL_RETURN_IF_ERROR(after_ack(channel, pending.device_id, pending.update));
    }
  }
  return failure;  // resume after freeing space
}

Status Coordinator::verify_and_fold(const std::string& device_id, const Update& update, const DecodedMessage& decoded,
                                    const Admission& admission) {
  if (update.partial_sum.present()) return fold_partial_sum(device_id, update, admission);
  if (trainable_.all()) {
    EDGEFL_RETURN_IF_ERROR(decoded.payload_into(scratch_.span()));
  } else {
    Status read = decoded.payload_into(trained_part_.span());
    if (!read.ok()) return read.with_context("an update of the " + std::to_string(trainable_.count()) +
                                             " trainable parameters (train.trainable_layers)");
    trainable_.scatter(trained_part_.span(), scratch_.span());
  }
  return fold(device_id, update, scratch_.span(), admission);
}

Status Coordinator::fold_partial_sum(const std::string&, const Update&, const Admission&) {
  return make_status(StatusCode::invalid_argument,
                     "a partial-sum update (from a relay) needs synchronous rounds; strategy " +
                         std::string(strategy_->name()) + " folds updates as they arrive");
}

uint32_t Coordinator::current_hash() const {
  auto known = version_hashes_.find(version_);
  if (known != version_hashes_.end()) return known->second;
  const uint32_t hash = model_hash(global_.span());
  version_hashes_[version_] = hash;
  // Updates older than the staleness window are refused anyway: keep only what can matter.
  const uint64_t keep = std::max<uint64_t>(2, uint64_t{config_.strategy.max_staleness} + 2);
  while (version_hashes_.size() > keep) version_hashes_.erase(version_hashes_.begin());
  return hash;
}

uint64_t Coordinator::bound_run_id() const {
  return ledger_->run_id();
}

Status Coordinator::check_binding(const Update& update) const {
  if (update.run_id == 0) return Status();  // a 1.1 device: nothing to check against
  if (update.run_id != bound_run_id()) {
    return make_status(StatusCode::stale, "trained for another run (" +
                                              std::to_string(update.run_id) + "; this run is " +
                                              std::to_string(bound_run_id()) + ")");
  }
  auto known = version_hashes_.find(update.base_version);
  if (known != version_hashes_.end() && known->second != update.base_hash) {
    return make_status(StatusCode::stale, "computed on a model other than version " +
                                              std::to_string(update.base_version) + " of this run");
  }
  return Status();
}

Status Coordinator::check_sample_weight(const DeviceRecord& device, const Update& update) const {
  // A consistency check, not a defence against a lying device: it stops one device from
  // claiming more data than it declared (or than the operator allows) to dominate the mean.
  const uint64_t declared = device.capabilities.sample_count;
  if (declared > 0 && update.sample_count > declared) {
    return make_status(StatusCode::out_of_range, "sample_count " + std::to_string(update.sample_count) +
                                                     " is above the " + std::to_string(declared) +
                                                     " samples declared at Join");
  }
  if (config_.max_sample_weight > 0 && update.sample_count > config_.max_sample_weight) {
    return make_status(StatusCode::out_of_range, "sample_count " + std::to_string(update.sample_count) +
                                                     " is above round.max_sample_weight " +
                                                     std::to_string(config_.max_sample_weight));
  }
  return Status();
}

}  // namespace edgefl::server
