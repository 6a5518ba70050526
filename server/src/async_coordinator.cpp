#include "async_coordinator.hpp"

#include <cstdlib>

namespace edgefl::server {

namespace {

constexpr const char* kEpochScalar = "async.task_epoch";
// Dedupe window entries: "async.accepted:<update id>:<device id>" = base version.
constexpr std::string_view kAcceptedPrefix = "async.accepted:";
// The newest accepted update id per device: "async.last:<device id>" (ids < 2^53, exact).
constexpr std::string_view kLastPrefix = "async.last:";

}  // namespace

AsyncCoordinator::AsyncCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                                   std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator)
    : Coordinator(config, std::move(log), clock, std::move(spec), std::move(strategy), std::move(tasks),
                  std::move(evaluator)) {}

AcceptedKey AsyncCoordinator::dedupe_key(const std::string& device_id, const Update& update) const {
  return {device_id, update.update_id};
}

Coordinator::Admission AsyncCoordinator::admit(const Update& update) const {
  Admission admission;
  if (update.base_version > version_) {
    // Like a round not yet open: no model this server handed out, so it can never be taken.
    admission.refusal = make_status(StatusCode::stale, "computed on model version " +
                                                                  std::to_string(update.base_version) +
                                                                  ", which does not exist yet (current " +
                                                                  std::to_string(version_) + ")");
    return admission;
  }
  admission.staleness = version_ - update.base_version;
  if (admission.staleness > config_.strategy.max_staleness) {
    admission.refusal = make_status(StatusCode::stale, "staleness " + std::to_string(admission.staleness) +
                                                           " > max " +
                                                           std::to_string(config_.strategy.max_staleness));
  }
  return admission;
}

Status AsyncCoordinator::fold(const std::string& device_id, const Update& update, std::span<const float> values,
                              const Admission& admission) {
  // Task ids only grow, so an id at or below the device's last accepted one is a task that
  // was answered before (here: a late copy of a Task the device trained a second time).
  auto last = last_accepted_.find(device_id);
  if (last != last_accepted_.end() && update.update_id <= last->second) {
    return make_status(StatusCode::stale, "update " + std::to_string(update.update_id) + " is not newer than update " +
                                              std::to_string(last->second) + ", already applied");
  }
  // Delta form: FedAsync applies x += α·s(τ)·delta, exact for τ = 0 and an approximation of
  // mixing with x_new = x_base + delta for τ > 0 (server_strategy.hpp; docs/async.md).
  Result<bool> changed = strategy_->arrive(global_.span(), Arrival{values, UpdateForm::delta, admission.staleness});
  if (!changed) return changed.status();
  version_changed_ = *changed;
  return Status();
}

Status AsyncCoordinator::after_logged(const std::string& device_id, const Update& update, const Admission&,
                                      bool replaying) {
  const AcceptedKey key = dedupe_key(device_id, update);
  base_of_[key] = update.base_version;
  last_accepted_[device_id] = update.update_id;
  if (DeviceRecord* device = devices_.find(device_id); device != nullptr && device->busy_task == update.task_id) {
    device->busy_task = 0;
  }
  if (!version_changed_) return Status();
  version_changed_ = false;
  ++version_;
  rounds_closed_ = version_;
  prune_dedupe();
  if (replaying) return Status();  // after_recovery checkpoints once the log is read
  // The metrics line first: a crash before the checkpoint replays the version from the log.
  tally_.set_round(version_);
  const Clock::time_point started = version_started_at_;
  version_started_at_ = now();
  EDGEFL_RETURN_IF_ERROR(publish_metrics(started));
  return checkpoint_and_rotate(generation() + 1);
}

void AsyncCoordinator::prune_dedupe() {
  const uint64_t window = config_.strategy.max_staleness;
  for (auto it = base_of_.begin(); it != base_of_.end();) {
    if (it->second + window < version_) {
      ledger_->forget(it->first);
      it = base_of_.erase(it);
    } else {
      ++it;
    }
  }
}

Status AsyncCoordinator::after_ack(ServerChannel& channel, const std::string& device_id, const Update& update) {
  return next_task(channel, device_id, update);
}

Status AsyncCoordinator::after_refusal(ServerChannel& channel, const std::string& device_id, const Update& update) {
  return next_task(channel, device_id, update);
}

Status AsyncCoordinator::next_task(ServerChannel& channel, const std::string& device_id, const Update& update) {
  DeviceRecord* device = devices_.find(device_id);
  if (device == nullptr || !started_ || finished()) return Status();
  // An answer to an older task (a resend from before a reboot) leaves the current one running.
  if (device->busy_task != 0 && device->busy_task != update.task_id) return Status();
  return send_task(channel, *device);
}

Status AsyncCoordinator::send_task(ServerChannel& channel, DeviceRecord& device, uint64_t task_id) {
  const bool fresh = task_id == 0;
  if (fresh) task_id = (task_epoch_ << 32) | ++tasks_issued_;
  Result<std::vector<uint8_t>> bytes = encode_task(task_id, version_ + 1);
  if (!bytes) return bytes.status();
  if (fresh) tally_.ask(device.id);
  return send_task_bytes(channel, device, *bytes, task_id);
}

Status AsyncCoordinator::on_joined(ServerChannel& channel, DeviceRecord& device) {
  // The timers start everyone together; a device that may not train, or has not said yet, waits.
  if (!started_ || device.ineligible != 0 || !device.eligibility_known) return Status();
  return send_task(channel, device, device.busy_task);
}

Status AsyncCoordinator::on_heartbeat(ServerChannel& channel, DeviceRecord& device, uint64_t working_on) {
  if (!started_ || device.ineligible != 0 || (device.busy_task != 0 && working_on == device.busy_task)) return Status();
  if (device.busy_task == 0 && working_on != 0) return Status();  // finishing something older
  // A heartbeat sent before the task arrived says idle too: give the task time to land.
  if (!may_resend(device)) return Status();
  // Idle with a task it never received (lost on the way), or idle without one.
  return send_task(channel, device, device.busy_task);
}

Status AsyncCoordinator::run_timers(ServerChannel& channel) {
  if (started_) return Status();
  const Clock::time_point now = this->now();
  Result<bool> enough = enough_devices(now);
  if (!enough) return enough.status();
  if (!*enough) return Status();
  started_ = true;
  version_started_at_ = now;
  for (const std::string& id : eligible_devices(now)) {
    if (DeviceRecord* device = devices_.find(id)) EDGEFL_RETURN_IF_ERROR(send_task(channel, *device, device->busy_task));
  }
  return Status();
}

void AsyncCoordinator::save_extras(Checkpoint& checkpoint) const {
  checkpoint.scalars.push_back(NamedScalar{kEpochScalar, static_cast<double>(task_epoch_)});
  for (const auto& [device_id, id] : last_accepted_) {
    checkpoint.scalars.push_back(NamedScalar{std::string(kLastPrefix) + device_id, static_cast<double>(id)});
  }
  for (const auto& [key, base] : base_of_) {
    checkpoint.scalars.push_back(NamedScalar{dedupe_scalar_name(kAcceptedPrefix, key), static_cast<double>(base)});
  }
}

Status AsyncCoordinator::restore_extras(const Checkpoint& checkpoint) {
  rounds_closed_ = version_;
  for (const NamedScalar& scalar : checkpoint.scalars) {
    if (scalar.name == kEpochScalar) {
      task_epoch_ = static_cast<uint64_t>(scalar.value);
      continue;
    }
    if (scalar.name.compare(0, kLastPrefix.size(), kLastPrefix) == 0) {
      last_accepted_[scalar.name.substr(kLastPrefix.size())] = static_cast<uint64_t>(scalar.value);
      continue;
    }
    Result<std::optional<AcceptedKey>> key = parse_dedupe_scalar_name(kAcceptedPrefix, scalar.name);
    if (!key) return key.status();
    if (!*key) continue;
    ledger_->remember(**key, (*key)->second);
    base_of_[**key] = static_cast<uint64_t>(scalar.value);
  }
  return Status();
}

Status AsyncCoordinator::after_recovery() {
  // A new epoch for task ids, durable before the first task; the checkpoint also absorbs
  // whatever the log replay produced (FedBuff versions completed by replayed arrivals).
  ++task_epoch_;
  tasks_issued_ = 0;
  tally_.set_round(version_ + 1);
  return checkpoint_and_rotate(generation() + 1);
}

}  // namespace edgefl::server
