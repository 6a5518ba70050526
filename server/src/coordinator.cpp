// The Coordinator's lifecycle and dispatch: creation and recovery, Join/Heartbeat/Bye, tasks,
// checkpoints and metrics. Slightly over the ~350-line mark because recovery and dispatch share
// the registry and ledger state; the update path lives in coordinator_updates.cpp.
#include "coordinator.hpp"

#include <algorithm>
#include <cstdio>

#include "async_coordinator.hpp"
#include "dpsgd_coordinator.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/nn/model.hpp"
#include "gradient_step.hpp"
#include "model_weights.hpp"
#include "relay_coordinator.hpp"
#include "round_coordinator.hpp"

namespace edgefl::server {

namespace {

// Checkpoint scalar naming the schedule that wrote it: a run cannot switch schedules on --resume.
constexpr const char* kModeScalar = "coordinator.asynchronous";

uint64_t unix_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Result<StrategySettings> strategy_settings(const ServerConfig& config) {
  StrategySettings s;
  s.server_lr = config.strategy.server_lr;
  s.momentum = config.strategy.momentum;
  s.beta1 = config.strategy.adam_beta1;
  s.beta2 = config.strategy.adam_beta2;
  s.tau = config.strategy.adam_tau;
  s.alpha = config.strategy.async_alpha;
  s.staleness_function = config.strategy.staleness;
  s.staleness_a = config.strategy.staleness_a;
  s.staleness_b = config.strategy.staleness_b;
  s.buffer_size = config.strategy.buffer_size;
  s.max_staleness = config.strategy.max_staleness;
  s.checks.max_l2_norm = config.max_update_norm;
  return s;
}

}  // namespace

Coordinator::Coordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                         std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator)
    : config_(config),
      log_(std::move(log)),
      clock_(&clock),
      spec_(std::move(spec)),
      strategy_(std::move(strategy)),
      global_(spec_.parameter_count()),
      tally_(config.strategy.name, strategy_->asynchronous()),
      scratch_(spec_.parameter_count()),
      trainable_(spec_, tasks.trainable_layers()),
      trained_part_(trainable_.all() ? 0 : trainable_.count()),
      tasks_(std::move(tasks)),
      evaluator_(std::move(evaluator)),
      join_check_(config_, spec_) {
  // limits_.max_parameters stays the protocol's bound: an update of another size than the
  // model is a shape_mismatch found by payload_into, answered with its update id.
}

Coordinator::~Coordinator() = default;

Result<std::unique_ptr<Coordinator>> Coordinator::create(const ServerConfig& config, FileSystem& fs,
                                                         LogSink log, TimeSource& clock,
                                                         RelayUplink* uplink) {
  EDGEFL_RETURN_IF_ERROR(validate_server_config(config));
  Result<ModelSpec> spec = ModelSpec::parse(config.model);
  if (!spec) return spec.status();
  Result<TaskFactory> tasks = TaskFactory::create(config, *spec);
  if (!tasks) return tasks.status();
  // A relay evaluates nothing: the model it holds is the upstream's, scored there.
  ServerConfig evaluated = config;
  if (!config.upstream.empty()) evaluated.data = "none";
  Result<Evaluator> evaluator = Evaluator::create(evaluated, *spec);
  if (!evaluator) return evaluator.status();
  std::unique_ptr<Coordinator> c;
  if (config.strategy.name == "dpsgd") {
    c = std::make_unique<DpsgdCoordinator>(config, std::move(log), clock, std::move(*spec), std::move(*tasks),
                                           std::move(*evaluator));
    EDGEFL_RETURN_IF_ERROR(c->open_services(fs));
    return c;
  }
  Result<StrategySettings> settings = strategy_settings(config);
  if (!settings) return settings.status();
  // Gradient rounds (ddp, the PALSGD warm-up) step the model with the inner optimizer.
  GradientStep* gradient_step = nullptr;
  std::unique_ptr<ServerStrategy> strategy;
  if (config.strategy.name == "ddp" || config.palsgd.warmup_steps > 0) {
    auto step = GradientStep::create(config, spec->parameter_count());
    if (!step) return step.status();
    gradient_step = step->get();
    if (config.strategy.name == "ddp") {
      strategy = std::move(*step);
    } else {
      auto outer = make_server_strategy(config.strategy.name, *settings, spec->parameter_count());
      if (!outer) return outer.status();
      strategy = std::make_unique<WithGradientWarmup>(std::move(*step), std::move(*outer));
    }
  } else {
    auto made = make_server_strategy(config.strategy.name, *settings, spec->parameter_count());
    if (!made) return made.status();
    strategy = std::move(*made);
  }
  if (!config.upstream.empty()) {
    if (uplink == nullptr) return make_status(StatusCode::internal, "a relay needs its uplink");
    c = std::make_unique<RelayCoordinator>(config, std::move(log), clock, std::move(*spec),
                                           std::move(strategy), std::move(*tasks),
                                           std::move(*evaluator), *uplink);
  } else if (strategy->asynchronous()) {
    c = std::make_unique<AsyncCoordinator>(config, std::move(log), clock, std::move(*spec), std::move(strategy),
                                           std::move(*tasks), std::move(*evaluator));
  } else {
    c = std::make_unique<RoundCoordinator>(config, std::move(log), clock, std::move(*spec), std::move(strategy),
                                           std::move(*tasks), std::move(*evaluator), gradient_step);
  }
  EDGEFL_RETURN_IF_ERROR(c->open_services(fs));
  return c;
}

Status Coordinator::open_services(FileSystem& fs) {
  session_ = splitmix64(unix_ms());
  Result<StandardizationGate> gate = StandardizationGate::create(config_, spec_);
  if (!gate) return gate.status();
  standardization_.emplace(std::move(*gate));
  Result<UpdateLedger> ledger = UpdateLedger::open(fs, config_.state_dir, config_.resume, limits_);
  if (!ledger) return ledger.status();
  ledger_.emplace(std::move(*ledger));
  tasks_.set_run_id(ledger_->run_id());
  if (const Checkpoint* checkpoint = ledger_->checkpoint()) {
    EDGEFL_RETURN_IF_ERROR(restore(*checkpoint).with_context(config_.state_dir + "/checkpoint.bin"));
    EDGEFL_RETURN_IF_ERROR(
        standardization_->restore(*checkpoint).with_context(config_.state_dir + "/checkpoint.bin"));
  } else if (!config_.initial_params.empty()) {  // an ONNX graph's, a weights file's, a pretrained
    global_.assign(config_.initial_params);         // model's; its size checked with the config
  } else {
    EDGEFL_RETURN_IF_ERROR(init_parameters(spec_, global_.span(), config_.seed));
  }
  if (!standardization_->pending()) EDGEFL_RETURN_IF_ERROR(apply_standardization());
  EDGEFL_RETURN_IF_ERROR(ledger_->open_log(
      [this](const std::string& device, std::span<const uint8_t> update) { return replay(device, update); }));
  const WalRecovery& recovery = ledger_->recovery();
  if (config_.resume) {
    log_("resumed at " + std::string(asynchronous() ? "model version " : "round ") +
         std::to_string(asynchronous() ? version_ : rounds_closed_ + 1) + ", " +
         std::to_string(recovery.records) + " logged updates replayed");
  }
  if (recovery.tail_dropped) {
    warn("write-ahead log: dropped a torn tail of " + std::to_string(recovery.dropped_bytes) +
         " bytes (an update that was never acknowledged)");
  }

  const std::string metrics_path =
      config_.metrics_path.empty() ? config_.state_dir + "/metrics.jsonl" : config_.metrics_path;
  Result<MetricsSink> metrics = MetricsSink::open(fs, metrics_path, config_.resume, rounds_closed_);
  if (!metrics) return metrics.status();
  metrics_.emplace(std::move(*metrics));
  started_at_ = now();
  waiting_since_ = started_at_;
  return after_recovery();
}

Status Coordinator::restore(const Checkpoint& checkpoint) {
  if (checkpoint.model_spec != spec_.to_string()) {
    return make_status(StatusCode::shape_mismatch,
                       "the checkpoint is for model '" + checkpoint.model_spec + "', not '" + spec_.to_string() + "'");
  }
  double mode = 0;
  for (const NamedScalar& scalar : checkpoint.scalars) {
    if (scalar.name == kModeScalar) mode = scalar.value;
  }
  if ((mode != 0) != asynchronous()) {
    return make_status(StatusCode::failed_precondition,
                       std::string("the checkpoint was written by a") + (mode != 0 ? "n asynchronous" : " synchronous") +
                           " run; strategy '" + config_.strategy.name + "' cannot resume it");
  }
  EDGEFL_RETURN_IF_ERROR(decode_into(checkpoint.params, global_.span()));
  StrategyState state;
  for (const NamedTensor& named : checkpoint.optimizer_state) {
    FloatBuffer buffer(spec_.parameter_count());
    EDGEFL_RETURN_IF_ERROR(decode_into(named.tensor, buffer.span()));
    state.buffers.emplace_back(named.name, std::move(buffer));
  }
  for (const NamedScalar& scalar : checkpoint.scalars) state.scalars.emplace_back(scalar.name, scalar.value);
  EDGEFL_RETURN_IF_ERROR(strategy_->restore_state(state).with_context("restoring strategy state"));
  version_ = checkpoint.model_version;
  return restore_extras(checkpoint);
}

Status Coordinator::poll(ServerChannel& channel, std::chrono::milliseconds wait) {
  Status served = handle_batch(channel, wait);
  if (served.ok()) served = release_acks(channel);
  if (served.ok() && !finished()) served = standardization_->pending() ? gather_statistics() : run_timers(channel);
  // The Acks that became durable meanwhile (a round's close waits for the log); after an
  // error, the refusals of the updates the log could not store.
  Status released = release_acks(channel);
  return served.ok() ? released : served;
}

Status Coordinator::handle_batch(ServerChannel& channel, std::chrono::milliseconds wait) {
  // A disk slower than the arrivals: let it catch up before taking more into memory.
  if (ledger_->backlog_bytes() > kMaxLogBacklog) EDGEFL_RETURN_IF_ERROR(settle_log());
  // While the log syncs there is no sleeping on the channel: the sync's end is awaited below.
  const bool syncing = ledger_->syncing();
  // After the end this still answers, with Bye: devices that were offline hear it too.
  Result<std::optional<Inbound>> inbound = channel.receive(syncing ? std::chrono::milliseconds(0) : wait);
  // What has already arrived is handled in the same batch, so updates that came together
  // share one fsync.
  int handled = 0;
  batch_accepted_ = false;
  for (;;) {
    if (!inbound) {
      warn("receive: " + inbound.status().to_string());
      break;
    }
    if (!inbound->has_value()) break;
    EDGEFL_RETURN_IF_ERROR(handle(channel, **inbound));
    if (++handled == kMaxBatch) break;
    inbound = channel.receive(std::chrono::milliseconds(0));
  }
  // Group commit, counted: one arrival batch holding new updates, and (release_acks) the
  // fsyncs the log's thread took.
  if (batch_accepted_) tally_.update_batch();
  ledger_->submit();
  // Nothing arrived to overlap with the sync: wait for it, so its Acks leave now.
  if (handled == 0 && syncing) return settle_log();
  return Status();
}

bool Coordinator::finished() const { return rounds_closed_ >= config_.rounds; }

DeviceRecord* Coordinator::sender(const Inbound& inbound, Clock::time_point at) {
  if (!inbound.identity.empty()) return devices_.touch(inbound.identity, inbound.peer, at);
  DeviceRecord* device = devices_.find_by_peer(inbound.peer);
  if (device != nullptr) devices_.touch(*device, inbound.peer, at);
  return device;
}

Status Coordinator::handle(ServerChannel& channel, Inbound& inbound) {
  tally_.bytes_in(inbound.payload.size());
  Result<DecodedMessage> decoded = decode_message(inbound.payload, decode_scratch_, limits_);
  if (!decoded) {
    tally_.rejected(status_code_name(decoded.status().code()));
    std::optional<std::string> line = junk_log_.admit(
        now(), "undecodable message from " + (inbound.identity.empty() ? std::string("a device") : inbound.identity) +
                   ": " + decoded.status().to_string());
    if (line) warn(*line);
    // Bytes that do not decode cost their sender many messages of its rate budget: a junk
    // flood reaches the limit, where the transport cuts the connection, within a few messages.
    // A newer protocol version is not junk: its sender hears version_mismatch and stops.
    if (decoded.status().code() != StatusCode::version_mismatch) channel.charge(inbound.peer, kJunkCost);
    reject(channel, inbound.peer, decoded.status(), std::nullopt);
    return Status();
  }
  const Clock::time_point at = now();
  // A Join is answered even after the end (Welcome, no task): the device's next word, e.g. the
  // resend of an update whose Ack a crash took, then finds it known.
  if (const Join* join = std::get_if<Join>(&decoded->message)) {
    return handle_join(channel, inbound, *join, decoded->version, at);
  }
  if (finished() && !std::holds_alternative<Bye>(decoded->message)) {
    // A resend of an update the run took (its Ack was lost) is still acknowledged, so the
    // device can clear its outbox; then, as every other word, it hears that the run is over.
    if (const Update* update = std::get_if<Update>(&decoded->message)) {
      if (DeviceRecord* device = sender(inbound, at)) {
        if (ledger_->accepted(dedupe_key(device->id, *update))) {
          acknowledge(inbound.peer, device->id, *update, AckStatus::duplicate);
          ledger_->submit();
          EDGEFL_RETURN_IF_ERROR(settle_log());
          EDGEFL_RETURN_IF_ERROR(release_acks(channel));  // the Ack before the Bye
        }
      }
    }
    return send(channel, inbound.peer, Bye{ByeReason::finished, "training finished"});
  }

  // Every other message comes from a device that joined: by key (CURVE) or by routing id.
  DeviceRecord* device = sender(inbound, at);
  if (device == nullptr) {
    // Not counted as rejected: after a server restart every device's first words arrive on a
    // silently reconnected link before its new Join; the device re-joins and resends.
    std::optional<uint64_t> update_id;
    if (const Update* update = std::get_if<Update>(&decoded->message)) update_id = update->update_id;
    reject(channel, inbound.peer,
           make_status(StatusCode::unknown_device, "join first: this connection has not joined"), update_id);
    return Status();
  }
  const std::string id = device->id;

  if (const Heartbeat* heartbeat = std::get_if<Heartbeat>(&decoded->message)) {
    note_eligibility(*device, *heartbeat);
    device->eligibility_known = true;
    device->reported_task = heartbeat->working_on;
    if (!finished() && !standardization_->pending()) {
      EDGEFL_RETURN_IF_ERROR(on_heartbeat(channel, *device, heartbeat->working_on));
    }
    return send(channel, inbound.peer, Heartbeat{heartbeat->sequence, unix_ms(), 0});
  }
  if (std::holds_alternative<Update>(decoded->message)) {
    return handle_update(channel, *device, inbound.peer, *decoded, inbound.payload);
  }
  if (const DataStatistics* statistics = std::get_if<DataStatistics>(&decoded->message)) {
    return handle_statistics(channel, *device, inbound.peer, *statistics);
  }
  if (std::holds_alternative<Bye>(decoded->message)) {
    log_("device " + id + " said bye");
    devices_.forget(id);
    on_left(id);
    return Status();
  }
  if (const Reject* refusal = std::get_if<Reject>(&decoded->message)) {
    // A device's Reject is for the log only: answering it could start an endless exchange.
    warn("device " + id + " rejected a message: " + std::string(status_code_name(refusal->reason)) + ": " +
         refusal->message.substr(0, 256));
    return Status();
  }
  Result<bool> taken = finished() ? Result<bool>(false) : handle_other(channel, *device, *decoded);
  if (!taken) return taken.status();
  if (*taken) return Status();
  reject(channel, inbound.peer,
         make_status(StatusCode::invalid_argument,
                     "a device may not send " + std::string(message_type_name(decoded->type()))),
         std::nullopt);
  return Status();
}

Status Coordinator::handle_join(ServerChannel& channel, const Inbound& inbound, const Join& join,
                                uint16_t version, Clock::time_point at) {
  std::string id = inbound.identity.empty() ? join.device_id : inbound.identity;
  Status admissible = join_check_.check(id, join.capabilities);
  if (admissible.ok() && standardization_->needed() && (version & 0xff) < 6) {
    admissible = make_status(
        StatusCode::version_mismatch,
        "this run standardises the device data (standardize.mode = " + config_.standardize.mode +
            "), which needs protocol 1.6; the device speaks 1." + std::to_string(version & 0xff) +
            ": update its software");
  }
  if (admissible.ok() && join.relay && !takes_relays()) {
    admissible =
        make_status(StatusCode::failed_precondition,
                    "strategy " + config_.strategy.name +
                        " cannot take a relay: only synchronous rounds fold a relay's partial sum "
                        "(asynchronous strategies and dpsgd through relays are not supported)");
  }
  if (admissible.ok() && !standardization_->refusal(id).empty()) {
    admissible =
        make_status(StatusCode::failed_precondition,
                    "this device's data statistics were refused: " + standardization_->refusal(id));
  }
  if (!admissible.ok()) {
    // The id is not printed: it may be anything a peer chose to send.
    warn("refused a join: " + admissible.to_string());
    reject(channel, inbound.peer, admissible, std::nullopt);
    return Status();
  }
  if (devices_.find(id) == nullptr && devices_.size() >= config_.max_devices &&
      !devices_.evict_oldest(at - scaled(3 * config_.heartbeat_s))) {
    warn("refused a join of " + id + ": " + std::to_string(config_.max_devices) + " devices are connected");
    reject(channel, inbound.peer,
           make_status(StatusCode::unavailable, "the server holds its maximum of devices; retry later"),
           std::nullopt);
    return Status();
  }
  const bool new_device = devices_.find(id) == nullptr;
  DeviceRecord& device = devices_.join(id, inbound.peer, join, at);
  // A new device of 1.6 or later judges itself by the rule this Welcome brings: until its first
  // heartbeat (sent right after the Welcome) it is not picked, so a device too hot to train is
  // not asked first and waited for. Older devices never say, and count as eligible.
  if (new_device) device.eligibility_known = !config_.eligibility.any() || version < 0x0106;
  Welcome welcome;
  welcome.device_id = id;
  welcome.server_session = session_;
  welcome.heartbeat_interval_ms = static_cast<uint32_t>(config_.heartbeat_s * config_.time_scale * 1000);
  welcome.peer_timeout_ms = 3 * welcome.heartbeat_interval_ms;
  welcome.max_message_bytes = limits_.max_message_bytes;
  welcome.server_time_ms = unix_ms();
  welcome.data_statistics_wanted = standardization_->pending() && !standardization_->reported(id);
  welcome.eligibility = config_.eligibility;
  EDGEFL_RETURN_IF_ERROR(send(channel, inbound.peer, welcome));
  if (finished() || standardization_->pending()) return Status();
  return on_joined(channel, device);
}

Status Coordinator::handle_statistics(ServerChannel& channel, const DeviceRecord& device,
                                      const std::string& peer, const DataStatistics& statistics) {
  if (!standardization_->pending()) {
    // Fixed already (a late or repeated answer): the statistics are never recomputed.
    return Status();
  }
  Status kept =
      standardization_->add(device.id, statistics.moments, device.capabilities.sample_count);
  if (!kept.ok()) {
    // A device whose statistics cannot be true must not skew everyone's inputs: it leaves the run.
    warn("refused the data statistics of " + device.id + ": " + kept.to_string());
    reject(channel, peer, kept, std::nullopt);
    devices_.forget(device.id);
  }
  return Status();
}

Status Coordinator::gather_statistics() {
  const Clock::time_point at = now();
  Result<bool> enough = enough_devices(at);  // a time-out when min_devices never joined
  if (!enough) return enough.status();
  if (!*enough) return Status();
  std::size_t reported = 0;
  bool all_reported = true;
  for (const std::string& id : live_devices(at)) {
    if (standardization_->reported(id)) {
      ++reported;
    } else {
      all_reported = false;
    }
  }
  const bool waited_out = at - waiting_since_ > scaled(config_.join_timeout_s);
  if (reported < config_.min_devices) {
    if (!waited_out) return Status();
    return make_status(StatusCode::timeout,
                       "only " + std::to_string(reported) + " of the " +
                           std::to_string(config_.min_devices) +
                           " devices the run needs reported their data statistics");
  }
  if (!all_reported && !waited_out) return Status();
  Result<Standardization> fixed = standardization_->fix();
  if (!fixed) return fixed.status();
  EDGEFL_RETURN_IF_ERROR(apply_standardization());
  // Durable now, so a restarted server does not ask again.
  EDGEFL_RETURN_IF_ERROR(write_checkpoint(std::nullopt));
  log_("standardisation fixed from the data statistics of " +
       std::to_string(standardization_->report_count()) + " devices (" +
       std::to_string(standardization_->merged_samples()) + " samples)");
  waiting_since_ = at;
  return Status();
}

Status Coordinator::apply_standardization() {
  tasks_.set_standardization(standardization_->fixed());
  return evaluator_.set_standardization(standardization_->fixed());
}

Status Coordinator::publish_metrics(Clock::time_point started_at) {
  // The period's fsyncs are all counted, and the files are this thread's alone from here.
  EDGEFL_RETURN_IF_ERROR(settle_log());
  const Clock::time_point at = now();
  RoundMetrics metrics = tally_.finish(version_);
  EDGEFL_RETURN_IF_ERROR(evaluator_.score(global_.span(), metrics));
  metrics.wall_s = std::chrono::duration<double>(at - started_at).count();
  metrics.elapsed_s = std::chrono::duration<double>(at - started_at_).count();
  // Durable before the round's checkpoint (see MetricsSink): then no crash loses the line.
  EDGEFL_RETURN_IF_ERROR(metrics_->write(metrics_json(metrics))
                             .with_context("the metrics line of round " + std::to_string(metrics.round)));
  if (!config_.quiet) log_(metrics_progress_line(metrics, config_.rounds));
  totals_.add(metrics);
  history_.push_back(std::move(metrics));
  return Status();
}

Status Coordinator::write_metrics_line(const std::string& json) {
  EDGEFL_RETURN_IF_ERROR(settle_log());  // the log's thread shares the file system
  return metrics_->write(json);
}

Status Coordinator::checkpoint_and_rotate(uint64_t generation) {
  EDGEFL_RETURN_IF_ERROR(write_checkpoint(generation));
  export_if_due();
  return Status();
}

Status Coordinator::write_checkpoint(std::optional<uint64_t> rotate_to) {
  Checkpoint checkpoint;
  checkpoint.model_version = version_;
  checkpoint.model_spec = spec_.to_string();
  checkpoint.params = f32_tensor(global_.span());
  checkpoint.created_unix_ms = unix_ms();
  StrategyState state = strategy_->save_state();
  for (const auto& [name, buffer] : state.buffers) {
    checkpoint.optimizer_state.push_back(NamedTensor{name, f32_tensor(buffer.span())});
  }
  for (const auto& [name, value] : state.scalars) checkpoint.scalars.push_back(NamedScalar{name, value});
  if (asynchronous()) checkpoint.scalars.push_back(NamedScalar{kModeScalar, 1.0});
  standardization_->save(checkpoint);
  save_extras(checkpoint);
  // `checkpoint` points into `state`'s buffers: written before they go.
  return rotate_to ? ledger_->commit(checkpoint, *rotate_to)
                   : ledger_->rewrite_checkpoint(checkpoint);
}

void Coordinator::export_if_due() {
  const uint64_t every = config_.export_model.every_rounds;
  const uint64_t reached = asynchronous() ? version_ : rounds_closed_;
  if (every == 0 || reached == 0 || reached % every != 0) return;
  // A failed export is a warning: the checkpoint holds the model and `edgefl-server export` can
  // write it later.
  Result<ModelFormat> format = parse_model_format(config_.export_model.format);
  const std::string dir = config_.export_model.dir.empty() ? config_.state_dir + "/exports" : config_.export_model.dir;
  char number[24];
  std::snprintf(number, sizeof number, "%06llu", static_cast<unsigned long long>(reached));
  const std::string path = dir + "/model-" + number + std::string(model_format_extension(*format));
  Status written = posix_file_system().create_dir(dir);
  if (written.ok()) {
    written = write_model_file(*format, path, spec_, global_.span(), config_.tensor_names,
                               {{"edgefl.model_version", std::to_string(version_)},
                                {"edgefl.round", std::to_string(rounds_closed_)}});
  }
  if (!written.ok()) warn("export to " + path + ": " + written.to_string());
}

Result<std::vector<uint8_t>> Coordinator::encode_task(uint64_t task_id, uint64_t round,
                                                      std::span<const float> optimizer_state,
                                                      uint64_t optimizer_steps) const {
  return tasks_.encode(task_id, round, version_, global_.span(), current_hash(), optimizer_state, optimizer_steps);
}

Status Coordinator::send_task_bytes(ServerChannel& channel, DeviceRecord& device, std::span<const uint8_t> task,
                                    uint64_t task_id) {
  // Acks that are durable leave before the task: a device hears its update was taken first.
  EDGEFL_RETURN_IF_ERROR(release_acks(channel));
  const bool resend = device.busy_task == task_id;
  device.busy_task = task_id;
  device.task_sent_at = now();
  Status sent = channel.send(device.peer, task);
  if (!sent.ok()) {
    // The device's link is down; it gets the task again when it rejoins or heartbeats.
    warn("task for " + device.id + " not sent: " + sent.to_string());
    return Status();
  }
  tally_.task_sent(resend, task.size());
  return Status();
}

bool Coordinator::may_resend(const DeviceRecord& device) const {
  return now() - device.task_sent_at >= scaled(2 * config_.heartbeat_s);
}

Result<bool> Coordinator::enough_devices(Clock::time_point at) {
  const Clock::duration liveness = scaled(3 * config_.heartbeat_s);
  if (devices_.eligible_count(at, liveness) >= config_.min_devices) return true;
  const std::size_t live = devices_.live_count(at, liveness);
  if (live >= config_.min_devices) {
    // Enough devices are here but too many may not train now: wait for them to cool down or
    // charge, however long that takes; join_timeout_s is about devices that never come.
    waiting_since_ = at;
    return false;
  }
  if (at - waiting_since_ > scaled(config_.join_timeout_s)) {
    return make_status(StatusCode::timeout, "only " + std::to_string(live) + " of the " +
                                                std::to_string(config_.min_devices) +
                                                " devices the run needs are connected");
  }
  return false;
}

std::vector<std::string> Coordinator::live_devices(Clock::time_point at) {
  return devices_.live_ids(at, scaled(3 * config_.heartbeat_s));
}

std::vector<std::string> Coordinator::eligible_devices(Clock::time_point at) {
  return devices_.eligible_ids(at, scaled(3 * config_.heartbeat_s));
}

void Coordinator::note_eligibility(DeviceRecord& device, const Heartbeat& heartbeat) {
  if (heartbeat.ineligible == device.ineligible) return;
  if (!config_.quiet) {
    log_(heartbeat.ineligible != 0
             ? "device " + device.id + " may not train now (" + ineligible_reason_text(heartbeat.ineligible) + ")"
             : "device " + device.id + " may train again");
  }
  device.ineligible = heartbeat.ineligible;
}

void Coordinator::say_goodbye(ServerChannel& channel) {
  // The last Acks before the Byes (a failing log refuses its updates instead).
  ledger_->submit();
  (void)settle_log();
  (void)release_acks(channel);
  for (const std::string& id : devices_.live_ids(now(), Clock::duration::max())) {
    if (const DeviceRecord* device = devices_.find(id)) {
      (void)send(channel, device->peer, Bye{ByeReason::finished, "training finished"});
    }
  }
  farewell_until_ = now() + scaled(config_.farewell_s);
}

bool Coordinator::farewell_over() const { return devices_.size() == 0 || now() >= farewell_until_; }

Status Coordinator::send(ServerChannel& channel, const std::string& peer, const Message& message) {
  Result<std::vector<uint8_t>> bytes = encode_message(message);
  if (!bytes) return bytes.status().with_context("encoding a reply");
  Status sent = channel.send(peer, *bytes);
  if (sent.ok()) {
    tally_.bytes_out(bytes->size());
  } else {
    // A peer that sends junk and never reads would get one line per Reject: throttled.
    if (auto line = unsent_log_.admit(now(), std::string(message_type_name(message_type(message))) +
                                                 " not sent: " + sent.to_string())) {
      warn(*line);
    }
  }
  return Status();  // a lost reply is recovered by the device's resend
}

void Coordinator::reject(ServerChannel& channel, const std::string& peer, const Status& why,
                         std::optional<uint64_t> update_id) {
  Reject reject;
  reject.reason = why.code();
  reject.message = why.message().substr(0, 1024);
  reject.update_id = update_id;
  (void)send(channel, peer, reject);
}

void Coordinator::warn(const std::string& line) { log_("warning: " + line); }

Clock::duration Coordinator::scaled(double seconds) const {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds * config_.time_scale));
}

}  // namespace edgefl::server
