#include "relay_coordinator.hpp"

namespace edgefl::server {

namespace {

constexpr const char* kRunIdScalar = "relay.upstream_run_id";  // < 2^53: exact as a double

}  // namespace

RelayCoordinator::RelayCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock,
                                   ModelSpec spec, std::unique_ptr<ServerStrategy> strategy,
                                   TaskFactory tasks, Evaluator evaluator, RelayUplink& uplink)
    : RoundCoordinator(config, std::move(log), clock, std::move(spec), std::move(strategy),
                       std::move(tasks), std::move(evaluator)),
      uplink_(&uplink) {}

Status RelayCoordinator::run_timers(ServerChannel& channel) {
  if (std::optional<UpstreamTask> task = uplink_->take_task()) pending_ = std::move(task);
  if (pending_ && round_open()) {
    if (pending_->task.round == open_round_number()) {
      pending_.reset();  // the upstream sent the open round's Task again
    } else if (pending_->task.round > open_round_number()) {
      // The upstream closed this round without the relay's sum (its deadline passed).
      warn("the upstream moved on to round " + std::to_string(pending_->task.round) + ": the " +
           std::to_string(answered_count()) + " updates of relay round " +
           std::to_string(open_round_number()) + " were not counted upstream");
      uplink_->set_working_on(0);
      EDGEFL_RETURN_IF_ERROR(end_round());
    }
  }
  return RoundCoordinator::run_timers(channel);
}

Status RelayCoordinator::when_idle(ServerChannel& channel) {
  if (!pending_) return Status();
  if (pending_->task.round <= rounds_closed_) {
    pending_.reset();  // a round this relay closed: its sum is in the outbox or acknowledged
    return Status();
  }
  Result<bool> enough = enough_devices(now());
  if (!enough) return enough.status();
  if (!*enough) return Status();
  UpstreamTask task = std::move(*pending_);
  pending_.reset();
  EDGEFL_RETURN_IF_ERROR(adopt(task));
  if (task.task.round != open_round_number()) return Status();  // replayed updates of another model
  gradient_only_ = task.task.config.gradient_only;
  uplink_->set_working_on(task.task.task_id);
  const Clock::time_point close_at = close_by(task);
  return start_round(channel, std::move(task.bytes), close_at);
}

Status RelayCoordinator::adopt(const UpstreamTask& upstream) {
  const Task& task = upstream.task;
  if (task.model_spec != spec_.to_string()) {
    return make_status(StatusCode::failed_precondition,
                       "the upstream trains model '" + task.model_spec +
                           "', this relay is set up for '" + spec_.to_string() +
                           "': give the relay the upstream's model");
  }
  if (answered_count() > 0 && task.round != open_round_number()) {
    // Updates replayed after a restart, for a round the upstream has left.
    warn("the upstream is at round " + std::to_string(task.round) + ": the " +
         std::to_string(answered_count()) + " logged updates of relay round " +
         std::to_string(open_round_number()) + " were not counted upstream");
    EDGEFL_RETURN_IF_ERROR(end_round());
  }
  const bool same_model = version_ == task.model_version && upstream_run_id_ == task.run_id &&
                          current_hash() == task.base_hash;
  if (!same_model && answered_count() > 0) {
    warn("the upstream's round " + std::to_string(task.round) + " is on another model than the " +
         std::to_string(answered_count()) + " logged updates: they are dropped");
    return end_round();
  }
  if (!same_model) {
    AlignedBytes scratch;
    Result<DecodedMessage> decoded = decode_message(upstream.bytes, scratch, limits_);
    if (!decoded) return decoded.status().with_context("the upstream's Task");
    EDGEFL_RETURN_IF_ERROR(
        decoded->payload_into(global_.span()).with_context("the upstream's model"));
    version_ = task.model_version;
    upstream_run_id_ = task.run_id;
  }
  if (task.round > open_round_number()) {
    rounds_closed_ = task.round - 1;  // the rounds between were served without this relay
    return checkpoint_and_rotate(rounds_closed_);
  }
  return same_model ? Status() : checkpoint_in_place();
}

Clock::time_point RelayCoordinator::close_by(const UpstreamTask& upstream) const {
  const Clock::time_point own = now() + scaled(config_.round_deadline_s);
  const uint32_t deadline_ms = upstream.task.config.deadline_ms;
  if (deadline_ms == 0) return own;
  const double margin_ms = config_.upstream_margin_s > 0
                               ? config_.upstream_margin_s * config_.time_scale * 1000
                               : deadline_ms / 10.0;
  // The Task's deadline runs from its receipt; this clock is the coordinator's.
  const auto since_receipt = std::chrono::steady_clock::now() - upstream.received_at;
  const auto left =
      std::chrono::duration<double, std::milli>(deadline_ms - margin_ms) - since_receipt;
  return std::min(own, now() + std::chrono::duration_cast<Clock::duration>(left));
}

Status RelayCoordinator::close_round() {
  const uint64_t round = open_round_number();
  ExactMean& mean = round_mean();
  uplink_->set_working_on(0);
  if (mean.count() == 0) {
    warn("relay round " + std::to_string(round) + " closed without updates: nothing goes upstream");
    return end_round();
  }
  const RoundMetrics so_far = tally_.peek(version_);
  Update update;
  update.update_id = round;  // the upstream's task id of a round is its number
  update.task_id = round;
  update.round = round;
  update.base_version = version_;
  update.sample_count = so_far.samples;
  update.metrics.train_loss = static_cast<float>(so_far.train_loss);
  update.metrics.steps = static_cast<uint32_t>(std::min<uint64_t>(so_far.local_steps, UINT32_MAX));
  if (so_far.mean_batch > 0) update.metrics.batch_sizes = {so_far.mean_batch};
  update.metrics.partial_updates = so_far.partial_updates;
  update.run_id = upstream_run_id_;
  update.base_hash = current_hash();
  update.partial_sum = PartialSum{.high = {mean.high_words().begin(), mean.high_words().end()},
                                  .low = {mean.low_words().begin(), mean.low_words().end()},
                                  .total_weight = mean.total_weight(),
                                  .update_count = mean.count()};
  Result<std::vector<uint8_t>> bytes = encode_message(update);
  if (!bytes)
    return bytes.status().with_context("the partial sum of relay round " + std::to_string(round));
  // In the outbox before the checkpoint closes the round: a crash between the two finds it there.
  Status stored = uplink_->outbox().put(device::UpstreamSession::outbox_id(round),
                                        std::as_bytes(std::span(*bytes)));
  if (!stored.ok() && stored.code() != StatusCode::duplicate)
    return stored.with_context("the uplink's outbox");
  EDGEFL_RETURN_IF_ERROR(end_round());
  uplink_->release(round);
  return Status();
}

Status RelayCoordinator::after_recovery() {
  if (!uplink_->outbox().read(device::UpstreamSession::outbox_id(open_round_number())).ok())
    return Status();
  log_("relay round " + std::to_string(open_round_number()) +
       ": its sum was stored before the restart; closed");
  return end_round();
}

void RelayCoordinator::save_extras(Checkpoint& checkpoint) const {
  RoundCoordinator::save_extras(checkpoint);
  checkpoint.scalars.push_back(NamedScalar{kRunIdScalar, static_cast<double>(upstream_run_id_)});
}

Status RelayCoordinator::restore_extras(const Checkpoint& checkpoint) {
  for (const NamedScalar& scalar : checkpoint.scalars) {
    if (scalar.name == kRunIdScalar) upstream_run_id_ = static_cast<uint64_t>(scalar.value);
  }
  return RoundCoordinator::restore_extras(checkpoint);
}

}  // namespace edgefl::server
