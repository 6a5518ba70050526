// RoundCoordinator: the synchronous schedule (fedavg, fedavgm, fedadam, nesterov/DiLoCo/PALSGD,
// ddp). In a gradient round (every ddp round; the PALSGD warm-up's rounds) the Task asks for one
// batch gradient, the Updates carry gradients, and their uniform mean goes through the inner
// optimizer (GradientStep) instead of the outer strategy: one synchronous data-parallel step.
//
// A round: open (select devices, send the round's Task) -> collect Updates (admitted only for
// the open round and the current model version; dedupe by (device, round); ExactMean) -> close
// at all-answered, min_updates + grace, or the deadline -> apply the strategy -> checkpoint
// (atomic) -> rotate the WAL -> metrics. The task id is the round number and the WAL
// generation of a round is its number, so a restart replays exactly the updates of the round
// that was open and none of a closed one. Built by Coordinator::create.
#pragma once

#include <memory>
#include <set>

#include "coordinator.hpp"
#include "gradient_step.hpp"
#include "edgefl/aggregate/exact_mean.hpp"

namespace edgefl::server {

class RoundCoordinator final : public Coordinator {
 public:
  // gradient_step: part of `strategy` (ddp, or a warm-up), applied in gradient rounds.
  RoundCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                   std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator,
                   GradientStep* gradient_step = nullptr);

  std::optional<Clock::time_point> round_deadline() const override;

 private:
  AcceptedKey dedupe_key(const std::string& device_id, const Update& update) const override;
  Admission admit(const Update& update) const override;
  Status fold(const std::string& device_id, const Update& update, std::span<const float> values,
              const Admission& admission) override;
  Status fold_partial_sum(const std::string& device_id, const Update& update,
                          const Admission& admission) override;
  Status after_logged(const std::string& device_id, const Update& update, const Admission& admission,
                      bool replaying) override;
  Status on_joined(ServerChannel& channel, DeviceRecord& device) override;
  Status on_heartbeat(ServerChannel& channel, DeviceRecord& device, uint64_t working_on) override;
  Status run_timers(ServerChannel& channel) override;
  // The dedupe entries of recent closed rounds travel in the checkpoint, so a device whose Ack
  // was lost in a crash right after a round closed hears Ack(duplicate), not Reject(stale).
  void save_extras(Checkpoint& checkpoint) const override;
  Status restore_extras(const Checkpoint& checkpoint) override;

  uint64_t open_round_number() const { return rounds_closed_ + 1; }
  bool owes_update(const std::string& id) const;
  bool dropped_out(const std::string& id);
  Status open_round(ServerChannel& channel);
  Status close_round();

  GradientStep* gradient_step_;
  ExactMean& round_mean();  // of the open round: gradient rounds average uniformly

  ExactMean mean_;
  ExactMean gradient_mean_;
  FloatBuffer mean_delta_;
  bool round_open_ = false;
  Clock::time_point round_opened_at_;
  std::optional<Clock::time_point> enough_at_;  // when min_updates was reached
  std::vector<uint8_t> task_bytes_;             // the round's Task, encoded once
  std::set<std::string> asked_;
  std::set<std::string> answered_;
  std::size_t asked_answered_ = 0;  // |asked_ ∩ answered_|, kept as updates arrive
};

}  // namespace edgefl::server
