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
//
// A relay (relay_coordinator.hpp) is this schedule with three hooks changed: its rounds open
// when the upstream's Task arrives (when_idle), are numbered as the upstream's, and a closed
// round sends the exact partial sum upstream instead of stepping a model (close_round).
#pragma once

#include <memory>
#include <set>

#include "coordinator.hpp"
#include "gradient_step.hpp"
#include "edgefl/aggregate/exact_mean.hpp"

namespace edgefl::server {

class RoundCoordinator : public Coordinator {
 public:
  // gradient_step: part of `strategy` (ddp, or a warm-up), applied in gradient rounds.
  RoundCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                   std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator,
                   GradientStep* gradient_step = nullptr);

  std::optional<Clock::time_point> round_deadline() const override;

 protected:
  // Between rounds: opens the next one when min_devices are there.
  virtual Status when_idle(ServerChannel& channel);
  // Aggregates the open round (steps the model), then end_round().
  virtual Status close_round();
  // Whether the open round's updates are gradients (averaged uniformly into gradient_mean_).
  virtual bool gradient_round() const;
  // Opens round open_round_number(): asks the selected devices (and any replayed after a
  // restart) with `task`, to close at `close_by` at the latest.
  Status start_round(ServerChannel& channel, std::vector<uint8_t> task, Clock::time_point close_by);
  // What every closed round does after its aggregate: count it, the metrics line, the dedupe
  // window, the checkpoint (the WAL of the next round follows), and a fresh mean.
  Status end_round();
  ExactMean& round_mean();  // of the open round: gradient rounds average uniformly
  bool round_open() const { return round_open_; }
  std::size_t answered_count() const { return answered_.size(); }
  Clock::time_point round_opened_at() const { return round_opened_at_; }
  uint64_t open_round_number() const { return rounds_closed_ + 1; }
  bool takes_relays() const override { return true; }
  Status run_timers(ServerChannel& channel) override;
  void save_extras(Checkpoint& checkpoint) const override;
  Status restore_extras(const Checkpoint& checkpoint) override;

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
  // save_extras: the dedupe entries of recent closed rounds travel in the checkpoint, so a device
  // whose Ack was lost in a crash right after a round closed hears Ack(duplicate), not
  // Reject(stale).

  bool owes_update(const std::string& id) const;
  bool dropped_out(const std::string& id);
  Status open_round(ServerChannel& channel);

  GradientStep* gradient_step_;

  ExactMean mean_;
  ExactMean gradient_mean_;
  FloatBuffer mean_delta_;
  bool round_open_ = false;
  Clock::time_point round_opened_at_;
  Clock::time_point close_by_;
  std::optional<Clock::time_point> enough_at_;  // when min_updates was reached
  std::vector<uint8_t> task_bytes_;             // the round's Task, encoded once
  std::set<std::string> asked_;
  std::set<std::string> answered_;
  std::size_t asked_answered_ = 0;  // |asked_ ∩ answered_|, kept as updates arrive
};

}  // namespace edgefl::server
