#include "round_coordinator.hpp"

#include <cstdlib>
#include <string_view>

#include "edgefl/base/rng.hpp"

namespace edgefl::server {

RoundCoordinator::RoundCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                                   std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator,
                                   GradientStep* gradient_step)
    : Coordinator(config, std::move(log), clock, std::move(spec), std::move(strategy), std::move(tasks),
                  std::move(evaluator)),
      gradient_step_(gradient_step),
      mean_(spec_.parameter_count(), UpdateChecks{config.max_update_norm, false}, round_weighting(config)),
      gradient_mean_(spec_.parameter_count(), UpdateChecks{}, MeanWeighting::uniform),
      mean_delta_(spec_.parameter_count()) {}

AcceptedKey RoundCoordinator::dedupe_key(const std::string& device_id, const Update& update) const {
  return {device_id, update.round};
}

Coordinator::Admission RoundCoordinator::admit(const Update& update) const {
  const uint64_t round = open_round_number();
  Admission admission;
  if (update.round < round) {
    admission.late = true;
    admission.refusal = make_status(StatusCode::stale, "round " + std::to_string(update.round) + " is closed");
  } else if (update.round > round) {
    // Trained on no model this server handed out (a device ahead of a restored state): it can
    // never be accepted, like an update of a closed round.
    admission.refusal = make_status(StatusCode::stale, "round " + std::to_string(update.round) +
                                                                  " has not started (open: " + std::to_string(round) +
                                                                  ")");
  } else if (update.base_version != version_) {
    admission.refusal = make_status(StatusCode::stale, "computed on model version " +
                                                           std::to_string(update.base_version) + ", current is " +
                                                           std::to_string(version_));
  }
  return admission;
}

Status RoundCoordinator::fold(const std::string&, const Update& update, std::span<const float> values,
                              const Admission&) {
  // Gradients are batch means: their mean over devices is the large batch's gradient.
  return round_mean().add(values, update.sample_count);
}

Status RoundCoordinator::fold_partial_sum(const std::string&, const Update& update,
                                          const Admission&) {
  // The relay summed whole deltas exactly as this mean would have: adding the sums is exact.
  const PartialSum& sum = update.partial_sum;
  ExactMean& mean = round_mean();
  // The relay must weigh as this round does, or its sum means something else: its weight is
  // then the samples behind it (samples) or its count (uniform).
  const uint64_t expected =
      mean.weighting() == MeanWeighting::uniform ? sum.update_count : update.sample_count;
  if (sum.total_weight != expected) {
    return make_status(StatusCode::invalid_argument,
                       "the relay's partial sum weighs " + std::to_string(sum.update_count) +
                           " updates of " + std::to_string(update.sample_count) + " samples as " +
                           std::to_string(sum.total_weight) + "; this round weighs by " +
                           std::string(mean_weighting_name(mean.weighting())) +
                           ": give the relay the same strategy.weighting");
  }
  return mean.add_sum(sum.high, sum.low, sum.update_count, sum.total_weight);
}

bool RoundCoordinator::gradient_round() const {
  return is_gradient_round(config_, open_round_number());
}

ExactMean& RoundCoordinator::round_mean() {
  return gradient_round() ? gradient_mean_ : mean_;
}

Status RoundCoordinator::after_logged(const std::string& device_id, const Update&, const Admission&, bool) {
  if (answered_.insert(device_id).second && asked_.count(device_id) != 0) ++asked_answered_;
  if (DeviceRecord* device = devices_.find(device_id)) device->busy_task = 0;
  const std::size_t wanted = config_.min_updates == 0 ? asked_.size() : config_.min_updates;
  if (round_open_ && !enough_at_ && answered_.size() >= wanted) enough_at_ = now();
  return Status();
}

namespace {

// Dedupe entries of closed rounds: "round.accepted:<round>:<device id>" = update id.
constexpr std::string_view kAcceptedPrefix = "round.accepted:";

}  // namespace

void RoundCoordinator::save_extras(Checkpoint& checkpoint) const {
  for (const auto& [key, update_id] : ledger_->accepted_map()) {
    checkpoint.scalars.push_back(NamedScalar{dedupe_scalar_name(kAcceptedPrefix, key), static_cast<double>(update_id)});
  }
}

Status RoundCoordinator::restore_extras(const Checkpoint& checkpoint) {
  rounds_closed_ = checkpoint.round;
  for (const NamedScalar& scalar : checkpoint.scalars) {
    Result<std::optional<AcceptedKey>> key = parse_dedupe_scalar_name(kAcceptedPrefix, scalar.name);
    if (!key) return key.status();
    if (*key) ledger_->remember(**key, static_cast<uint64_t>(scalar.value));
  }
  return Status();
}

bool RoundCoordinator::dropped_out(const std::string& id) {
  // An asked device that says it may not train and is not training this round's task will
  // send nothing: the round does not wait for it (a task in training is finished and sent).
  const DeviceRecord* device = devices_.find(id);
  return device != nullptr && device->ineligible != 0 && device->reported_task != open_round_number();
}

bool RoundCoordinator::owes_update(const std::string& id) const {
  return round_open_ && asked_.count(id) != 0 && answered_.count(id) == 0;
}

Status RoundCoordinator::on_joined(ServerChannel& channel, DeviceRecord& device) {
  if (!owes_update(device.id) || device.ineligible != 0) return Status();
  return send_task_bytes(channel, device, task_bytes_, open_round_number());
}

Status RoundCoordinator::on_heartbeat(ServerChannel& channel, DeviceRecord& device, uint64_t working_on) {
  // The device is idle but owes this round an update: its Task was lost on the way, or it was
  // ineligible when the Task came and has become eligible since.
  if (!owes_update(device.id) || device.ineligible != 0 || working_on == open_round_number() || !may_resend(device)) {
    return Status();
  }
  return send_task_bytes(channel, device, task_bytes_, open_round_number());
}

Status RoundCoordinator::when_idle(ServerChannel& channel) {
  Result<bool> enough = enough_devices(now());
  if (!enough) return enough.status();
  return *enough ? open_round(channel) : Status();
}

Status RoundCoordinator::run_timers(ServerChannel& channel) {
  const Clock::time_point now = this->now();
  if (!round_open_) return when_idle(channel);
  std::size_t asked_done = asked_answered_;
  // Devices drop out only under an eligibility rule; without one the count stays incremental.
  if (config_.eligibility.any() && asked_done < asked_.size()) {
    for (const std::string& id : asked_) asked_done += answered_.count(id) == 0 && dropped_out(id) ? 1 : 0;
  }
  const bool all_answered = asked_done == asked_.size();
  const bool grace_over = config_.min_updates > 0 && answered_.size() >= config_.min_updates && enough_at_ &&
                          now - *enough_at_ >= scaled(config_.grace_s);
  const bool deadline = now >= close_by_;
  if (!all_answered && !grace_over && !deadline) return Status();
  EDGEFL_RETURN_IF_ERROR(close_round());
  // The next round opens in this same poll: left to the next one, every round would also wait
  // out a poll's whole timeout on a quiet channel before its tasks went out.
  if (finished()) return Status();
  return run_timers(channel);
}

Status RoundCoordinator::open_round(ServerChannel& channel) {
  const uint64_t round = open_round_number();
  // The first round after a gradient warm-up hands the devices the inner optimizer's state, as
  // every worker of the reference code holds it after its data-parallel steps.
  const bool after_warmup = gradient_step_ != nullptr && config_.strategy.name != "ddp" &&
                            round == uint64_t{config_.palsgd.warmup_steps} + 1;
  Result<std::vector<uint8_t>> bytes =
      after_warmup ? encode_task(round, round, gradient_step_->optimizer_state(), gradient_step_->steps())
                   : encode_task(round, round);
  if (!bytes) return bytes.status().with_context("the task of round " + std::to_string(round));
  return start_round(channel, std::move(*bytes), now() + scaled(config_.round_deadline_s));
}

Status RoundCoordinator::start_round(ServerChannel& channel, std::vector<uint8_t> task,
                                     Clock::time_point close_by) {
  const uint64_t round = open_round_number();
  const Clock::time_point now = this->now();
  Rng rng(config_.seed, round);
  std::vector<std::string> selected =
      select_devices(eligible_devices(now), config_.fraction, config_.min_devices, rng);
  asked_ = std::set<std::string>(selected.begin(), selected.end());
  asked_.insert(answered_.begin(), answered_.end());  // replayed after a restart
  asked_answered_ = answered_.size();
  task_bytes_ = std::move(task);
  round_open_ = true;
  round_opened_at_ = now;
  close_by_ = close_by;
  enough_at_.reset();
  tally_.set_round(round);
  for (const std::string& id : asked_) tally_.ask(id);
  for (const std::string& id : selected) {
    if (answered_.count(id) != 0) continue;
    if (DeviceRecord* device = devices_.find(id)) {
      EDGEFL_RETURN_IF_ERROR(send_task_bytes(channel, *device, task_bytes_, round));
    }
  }
  return Status();
}

Status RoundCoordinator::close_round() {
  const uint64_t round = open_round_number();
  tally_.set_round(round);
  ExactMean& mean = round_mean();
  if (mean.count() > 0) {
    EDGEFL_RETURN_IF_ERROR(mean.mean_into(mean_delta_.span()));
    if (gradient_round()) {
      EDGEFL_RETURN_IF_ERROR(gradient_step_->apply_step(global_.span(), mean_delta_.span(), round - 1));
    } else {
      EDGEFL_RETURN_IF_ERROR(strategy_->apply(global_.span(), mean_delta_.span()));
    }
    ++version_;
  } else {
    warn("round " + std::to_string(round) + " closed without updates; the model is unchanged");
  }
  return end_round();
}

Status RoundCoordinator::end_round() {
  ExactMean& mean = round_mean();
  ++rounds_closed_;
  // The metrics line first: a crash before the checkpoint replays the round and rewrites it.
  EDGEFL_RETURN_IF_ERROR(publish_metrics(round_opened_at_));
  // Keep two closed rounds of ids to answer late resends with Ack(duplicate).
  ledger_->forget_if([this](const AcceptedKey& key) { return key.second + 2 < rounds_closed_; });
  EDGEFL_RETURN_IF_ERROR(checkpoint_and_rotate(rounds_closed_));

  mean.reset();
  answered_.clear();
  asked_.clear();
  asked_answered_ = 0;
  round_open_ = false;
  waiting_since_ = now();
  return Status();
}

std::optional<Clock::time_point> RoundCoordinator::round_deadline() const {
  if (!round_open_) return std::nullopt;
  return close_by_;
}

}  // namespace edgefl::server
