// AsyncCoordinator: the asynchronous schedule (fedasync, fedbuff); no round barrier.
//
// Once min_devices have joined, every idle device gets a Task carrying the current global
// model and its version; a device gets its next Task as soon as its update is acknowledged
// (or refused). On arrival, staleness = current version − the update's base version; an
// update staler than strategy.max_staleness is refused (Reject stale, "staleness N > max M").
// FedAsync mixes every arrival into the model (a new version each time), FedBuff every K
// arrivals. `rounds` is the number of model versions to produce.
//
// Durability: an admitted update is appended to the WAL and fsynced before its Ack. Every
// model version is checkpointed at once (atomic), then the WAL is rotated, so the WAL holds
// only the arrivals since the last version (FedBuff's partly filled buffer); a restart
// replays them through the same admission and fold, reproducing the state exactly once.
// Dedupe is by (device, update id) over the window of updates that could still be admitted
// (base version >= current − max_staleness); the window is saved in the checkpoint, so a
// resend after a restart is acknowledged again and never applied twice. Anything older, and
// any update whose id is not above the device's newest accepted one (task ids only grow), is
// refused as stale. Task ids are (start epoch << 32) | counter, the epoch persisted and
// bumped at every start, so ids never repeat across restarts (devices key their outbox by it).
#pragma once

#include <memory>

#include "coordinator.hpp"

namespace edgefl::server {

class AsyncCoordinator final : public Coordinator {
 public:
  AsyncCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                   std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator);

 private:
  AcceptedKey dedupe_key(const std::string& device_id, const Update& update) const override;
  Admission admit(const Update& update) const override;
  Status fold(const std::string& device_id, const Update& update, std::span<const float> values,
              const Admission& admission) override;
  Status after_logged(const std::string& device_id, const Update& update, const Admission& admission,
                      bool replaying) override;
  Status after_ack(ServerChannel& channel, const std::string& device_id, const Update& update) override;
  Status after_refusal(ServerChannel& channel, const std::string& device_id, const Update& update) override;
  Status on_joined(ServerChannel& channel, DeviceRecord& device) override;
  Status on_heartbeat(ServerChannel& channel, DeviceRecord& device, uint64_t working_on) override;
  Status run_timers(ServerChannel& channel) override;
  void save_extras(Checkpoint& checkpoint) const override;
  Status restore_extras(const Checkpoint& checkpoint) override;
  Status after_recovery() override;

  // Sends `device` a new task on the current model (or, with `task_id`, that task again).
  Status send_task(ServerChannel& channel, DeviceRecord& device, uint64_t task_id = 0);
  // After a device's own task was answered: its next task, unless the run is over.
  Status next_task(ServerChannel& channel, const std::string& device_id, const Update& update);
  // Drops dedupe entries no longer admissible anyway (base version beyond max_staleness).
  void prune_dedupe();

  bool started_ = false;
  bool version_changed_ = false;  // set by fold, consumed by after_logged
  uint64_t task_epoch_ = 0;
  uint64_t tasks_issued_ = 0;     // in this epoch
  std::map<AcceptedKey, uint64_t> base_of_;  // dedupe window: key -> base version
  std::map<std::string, uint64_t> last_accepted_;  // device -> newest accepted update id
  Clock::time_point version_started_at_;
};

}  // namespace edgefl::server
