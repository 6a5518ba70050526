#include "coordinator.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "async_coordinator.hpp"
#include "edgefl/adaptive_batch.hpp"
#include "edgefl/atomic_file.hpp"
#include "edgefl/data_source.hpp"
#include "edgefl/memory_plan.hpp"
#include "edgefl/model.hpp"
#include "edgefl/optimizer.hpp"
#include "edgefl/rng.hpp"
#include "edgefl/trainer.hpp"
#include "round_coordinator.hpp"
#include "update_log.hpp"

namespace edgefl::server {

namespace {

constexpr uint64_t kMaxCheckpointBytes = uint64_t{1} << 31;
// An edgefl-device's resident size before data and training state (code, libraries, ZeroMQ),
// measured on x86-64 and aarch64: the server's fit check adds it to the device's plan.
constexpr std::size_t kTypicalDeviceProcessBytes = std::size_t{8} << 20;
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
  Result<StalenessFunction> staleness = parse_staleness_function(config.strategy.staleness);
  if (!staleness) return staleness.status();
  s.staleness_function = *staleness;
  s.staleness_a = config.strategy.staleness_a;
  s.staleness_b = config.strategy.staleness_b;
  s.buffer_size = config.strategy.buffer_size;
  s.max_staleness = config.strategy.max_staleness;
  s.checks.max_l2_norm = config.max_update_norm;
  return s;
}

}  // namespace

Coordinator::Coordinator(const ServerConfig& config, FileSystem& fs, LogSink log, ModelSpec spec,
                         std::unique_ptr<ServerStrategy> strategy)
    : config_(config),
      fs_(&fs),
      log_(std::move(log)),
      spec_(std::move(spec)),
      strategy_(std::move(strategy)),
      global_(spec_.parameter_count()),
      scratch_(spec_.parameter_count()) {
  limits_.max_parameters = spec_.parameter_count();
}

Coordinator::~Coordinator() {
  if (metrics_file_ != nullptr) std::fclose(metrics_file_);
}

Result<std::unique_ptr<Coordinator>> Coordinator::create(const ServerConfig& config, FileSystem& fs,
                                                         LogSink log) {
  EDGEFL_RETURN_IF_ERROR(validate_server_config(config));
  Result<ModelSpec> spec = ModelSpec::parse(config.model);
  if (!spec) return spec.status();
  Result<StrategySettings> settings = strategy_settings(config);
  if (!settings) return settings.status();
  auto strategy = make_server_strategy(config.strategy.name, *settings, spec->parameter_count());
  if (!strategy) return strategy.status();

  std::unique_ptr<Coordinator> c;
  if ((*strategy)->asynchronous()) {
    c = std::make_unique<AsyncCoordinator>(config, fs, std::move(log), std::move(*spec), std::move(*strategy));
  } else {
    c = std::make_unique<RoundCoordinator>(config, fs, std::move(log), std::move(*spec), std::move(*strategy));
  }
  EDGEFL_RETURN_IF_ERROR(c->open_services());
  return c;
}

Status Coordinator::open_services() {
  session_ = splitmix64(unix_ms());
  if (config_.data != "none" && config_.eval_samples > 0) {
    Result<DataSource> source = DataSource::parse(config_.data, config_.data_dir);
    if (!source) return source.status();
    Result<Dataset> test = source->load_test(spec_, config_.eval_samples);
    if (!test) return test.status().with_context("server evaluation data");
    test_data_ = std::move(*test);
    auto compute = ComputeContext::create(default_backend(), 1);
    if (!compute) return compute.status();
    compute_ = std::move(*compute);
  }

  EDGEFL_RETURN_IF_ERROR(load_state());

  std::string metrics_path =
      config_.metrics_path.empty() ? config_.state_dir + "/metrics.jsonl" : config_.metrics_path;
  if (config_.resume) EDGEFL_RETURN_IF_ERROR(trim_metrics(metrics_path).with_context("resuming the metrics file"));
  metrics_file_ = std::fopen(metrics_path.c_str(), config_.resume ? "a" : "w");
  if (metrics_file_ == nullptr) {
    return make_status(StatusCode::io_error, "cannot open metrics file '" + metrics_path + "'");
  }
  current_.strategy = config_.strategy.name;
  current_.asynchronous = asynchronous();
  started_at_ = Clock::now();
  waiting_since_ = started_at_;
  return after_recovery();
}

Status Coordinator::load_state() {
  EDGEFL_RETURN_IF_ERROR(fs_->create_dir(config_.state_dir));
  const std::string checkpoint_path = config_.state_dir + "/checkpoint.bin";
  const std::string wal_dir = config_.state_dir + "/wal";
  Result<std::vector<std::byte>> bytes = read_file(*fs_, checkpoint_path, kMaxCheckpointBytes);
  Result<std::vector<std::string>> wal_files = fs_->list_dir(wal_dir);
  const bool has_log = wal_files.ok() && !wal_files->empty();
  if (!config_.resume && (bytes.ok() || has_log)) {
    return make_status(StatusCode::failed_precondition,
                       "state directory '" + config_.state_dir +
                           "' holds an earlier run: pass --resume to continue it, or use an empty directory");
  }
  if (bytes.ok()) {
    AlignedBytes scratch;
    std::span<const uint8_t> raw(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
    Result<Checkpoint> checkpoint = decode_checkpoint(raw, scratch, limits_);
    if (!checkpoint) return checkpoint.status().with_context(checkpoint_path);
    if (checkpoint->model_spec != spec_.to_string()) {
      return make_status(StatusCode::shape_mismatch, checkpoint_path + " is for model '" +
                                                         checkpoint->model_spec + "', not '" +
                                                         spec_.to_string() + "'");
    }
    double mode = 0;
    for (const NamedScalar& scalar : checkpoint->scalars) {
      if (scalar.name == kModeScalar) mode = scalar.value;
    }
    if ((mode != 0) != asynchronous()) {
      return make_status(StatusCode::failed_precondition,
                         checkpoint_path + " was written by a" + (mode != 0 ? "n asynchronous" : " synchronous") +
                             " run; strategy '" + config_.strategy.name + "' cannot resume it");
    }
    EDGEFL_RETURN_IF_ERROR(decode_into(checkpoint->params, global_.span()));
    StrategyState state;
    for (const NamedTensor& named : checkpoint->optimizer_state) {
      FloatBuffer buffer(spec_.parameter_count());
      EDGEFL_RETURN_IF_ERROR(decode_into(named.tensor, buffer.span()));
      state.buffers.emplace_back(named.name, std::move(buffer));
    }
    for (const NamedScalar& scalar : checkpoint->scalars) state.scalars.emplace_back(scalar.name, scalar.value);
    EDGEFL_RETURN_IF_ERROR(strategy_->restore_state(state).with_context("restoring strategy state"));
    version_ = checkpoint->model_version;
    generation_ = checkpoint->round;
    EDGEFL_RETURN_IF_ERROR(restore_extras(*checkpoint).with_context(checkpoint_path));
  } else if (bytes.status().code() != StatusCode::not_found) {
    return bytes.status();
  } else {
    EDGEFL_RETURN_IF_ERROR(init_parameters(spec_, global_.span(), config_.seed));
  }

  Result<WriteAheadLog> wal = WriteAheadLog::open(
      *fs_, wal_dir, generation_ + 1, [this](std::span<const std::byte> record) { return replay(record); });
  if (!wal) return wal.status().with_context("opening the write-ahead log");
  wal_.emplace(std::move(*wal));
  const WalRecovery& recovery = wal_->recovery();
  if (config_.resume) {
    log_("resumed at " + std::string(asynchronous() ? "model version " : "round ") +
         std::to_string(asynchronous() ? version_ : rounds_closed_ + 1) + ", " +
         std::to_string(recovery.records) + " logged updates replayed");
  }
  if (recovery.tail_dropped) {
    warn("write-ahead log: dropped a torn tail of " + std::to_string(recovery.dropped_bytes) +
         " bytes (an update that was never acknowledged)");
  }
  return Status();
}

Status Coordinator::replay(std::span<const std::byte> record) {
  Result<LogRecord> entry = decode_log_record(record);
  if (!entry) return entry.status();
  Result<DecodedMessage> decoded = decode_message(entry->update_message, decode_scratch_, limits_);
  if (!decoded) return decoded.status().with_context("replaying the write-ahead log");
  const Update* update = std::get_if<Update>(&decoded->message);
  if (update == nullptr) return make_status(StatusCode::corrupt, "write-ahead log holds a record that is not an update");
  const std::string device(entry->device_id);
  // The log holds only updates that were admitted and folded in live, in the same order and
  // from the same state, so each must be admitted and fold the same way again.
  const Admission admission = admit(*update);
  if (!admission.refusal.ok()) {
    return make_status(StatusCode::corrupt, "write-ahead log of generation " + std::to_string(generation_ + 1) +
                                                " holds an update its state refuses: " +
                                                admission.refusal.to_string());
  }
  Status folded = verify_and_fold(device, *update, *decoded, admission);
  if (!folded.ok()) return folded.with_context("replaying the write-ahead log");
  accepted_[dedupe_key(device, *update)] = update->update_id;
  note_accepted(*update, admission.staleness);
  return after_logged(device, *update, admission, true);
}

Status Coordinator::poll(ServerChannel& channel, std::chrono::milliseconds wait) {
  // After the end this still answers, with Bye: devices that were offline hear it too.
  Result<std::optional<Inbound>> inbound = channel.receive(wait);
  if (!inbound) {
    warn("receive: " + inbound.status().to_string());
  } else if (inbound->has_value()) {
    EDGEFL_RETURN_IF_ERROR(handle(channel, **inbound));
  }
  if (finished()) return Status();
  return run_timers(channel);
}

bool Coordinator::finished() const { return rounds_closed_ >= config_.rounds; }

Status Coordinator::handle(ServerChannel& channel, Inbound& inbound) {
  current_.bytes_in += inbound.payload.size();
  Result<DecodedMessage> decoded = decode_message(inbound.payload, decode_scratch_, limits_);
  if (!decoded) {
    ++current_.rejected;
    warn("undecodable message from " + (inbound.identity.empty() ? std::string("a device") : inbound.identity) +
         ": " + decoded.status().to_string());
    reject(channel, inbound.peer, decoded.status(), std::nullopt);
    return Status();
  }
  if (finished() && !std::holds_alternative<Bye>(decoded->message)) {
    // Devices that were away when the run ended learn it at their next word.
    return send(channel, inbound.peer, Bye{ByeReason::finished, "training finished"});
  }
  const Clock::time_point now = Clock::now();
  if (const Join* join = std::get_if<Join>(&decoded->message)) return handle_join(channel, inbound, *join, now);

  // Every other message comes from a device that joined: by key (CURVE) or by routing id.
  std::string id = inbound.identity;
  if (id.empty()) {
    for (const std::string& live : devices_.live_ids(now, Clock::duration::max())) {
      const DeviceRecord* record = devices_.find(live);
      if (record != nullptr && record->peer == inbound.peer) id = live;
    }
  }
  DeviceRecord* device = id.empty() ? nullptr : devices_.touch(id, inbound.peer, now);
  if (device == nullptr) {
    std::optional<uint64_t> update_id;
    if (const Update* update = std::get_if<Update>(&decoded->message)) {
      update_id = update->update_id;
      ++current_.rejected;
      warn("rejected update " + std::to_string(update->update_id) + " from " +
           (id.empty() ? std::string("a connection that has not joined") : "unknown device " + id) +
           ": unknown_device");
    }
    reject(channel, inbound.peer,
           make_status(StatusCode::unknown_device, "join first: this connection has not joined"), update_id);
    return Status();
  }

  if (const Heartbeat* heartbeat = std::get_if<Heartbeat>(&decoded->message)) {
    if (!finished()) EDGEFL_RETURN_IF_ERROR(on_heartbeat(channel, *device, heartbeat->working_on));
    return send(channel, inbound.peer, Heartbeat{heartbeat->sequence, unix_ms(), 0});
  }
  if (std::holds_alternative<Update>(decoded->message)) {
    return handle_update(channel, id, inbound.peer, *decoded, inbound.payload);
  }
  if (std::holds_alternative<Bye>(decoded->message)) {
    log_("device " + id + " said bye");
    devices_.forget(id);
    return Status();
  }
  reject(channel, inbound.peer,
         make_status(StatusCode::invalid_argument,
                     "a device may not send " + std::string(message_type_name(decoded->type()))),
         std::nullopt);
  return Status();
}

Status Coordinator::handle_join(ServerChannel& channel, const Inbound& inbound, const Join& join,
                                Clock::time_point now) {
  std::string id = inbound.identity.empty() ? join.device_id : inbound.identity;
  if (id.empty()) {
    reject(channel, inbound.peer, make_status(StatusCode::invalid_argument, "join without a device id"), std::nullopt);
    return Status();
  }
  Status fits = check_fits(join.capabilities);
  if (!fits.ok()) {
    warn("device " + id + " cannot train this model: " + fits.to_string());
    reject(channel, inbound.peer, fits, std::nullopt);
    return Status();
  }
  DeviceRecord& device = devices_.join(id, inbound.peer, join, now);
  Welcome welcome;
  welcome.device_id = id;
  welcome.server_session = session_;
  welcome.heartbeat_interval_ms = static_cast<uint32_t>(config_.heartbeat_s * config_.time_scale * 1000);
  welcome.peer_timeout_ms = 3 * welcome.heartbeat_interval_ms;
  welcome.max_message_bytes = limits_.max_message_bytes;
  welcome.server_time_ms = unix_ms();
  EDGEFL_RETURN_IF_ERROR(send(channel, inbound.peer, welcome));
  if (finished()) return Status();
  return on_joined(channel, device);
}

Status Coordinator::handle_update(ServerChannel& channel, const std::string& device_id, const std::string& peer,
                                  const DecodedMessage& decoded, std::span<const uint8_t> raw) {
  const Update& update = std::get<Update>(decoded.message);
  const AcceptedKey key = dedupe_key(device_id, update);
  auto previous = accepted_.find(key);
  if (previous != accepted_.end()) {
    // A resend after a lost Ack (or a restart): acknowledge again, never apply again.
    ++current_.duplicates;
    return send(channel, peer, Ack{previous->second, update.round, AckStatus::duplicate});
  }
  const Admission admission = admit(update);
  Status refusal = admission.refusal;
  if (refusal.ok()) refusal = verify_and_fold(device_id, update, decoded, admission);
  if (!refusal.ok()) {
    if (admission.late) {
      ++current_.late;
    } else {
      ++current_.rejected;
      warn("rejected update " + std::to_string(update.update_id) + " of " + device_id + ": " + refusal.to_string());
    }
    reject(channel, peer, refusal, update.update_id);
    return after_refusal(channel, device_id, update);
  }

  // Durable before the Ack: a crash after this line replays the update, before it the device resends.
  std::vector<std::byte> record = encode_log_record(device_id, raw);
  EDGEFL_RETURN_IF_ERROR(wal_->append(record).with_context("write-ahead log append"));
  EDGEFL_RETURN_IF_ERROR(wal_->sync().with_context("write-ahead log sync"));
  accepted_[key] = update.update_id;
  note_accepted(update, admission.staleness);
  EDGEFL_RETURN_IF_ERROR(after_logged(device_id, update, admission, false));
  EDGEFL_RETURN_IF_ERROR(send(channel, peer, Ack{update.update_id, update.round, AckStatus::accepted}));
  return after_ack(channel, device_id, update);
}

Status Coordinator::verify_and_fold(const std::string& device_id, const Update& update, const DecodedMessage& decoded,
                                    const Admission& admission) {
  EDGEFL_RETURN_IF_ERROR(decoded.payload_into(scratch_.span()));
  return fold(device_id, update, scratch_.span(), admission);
}

void Coordinator::note_accepted(const Update& update, uint64_t staleness) {
  ++current_.answered;
  current_.samples += update.sample_count;
  loss_sum_ += update.metrics.train_loss * static_cast<double>(update.sample_count);
  staleness_sum_ += staleness;
  current_.max_staleness = std::max(current_.max_staleness, staleness);
  if (!update.metrics.batch_sizes.empty()) {
    const uint32_t last = update.metrics.batch_sizes.back();
    batch_sum_ += last;
    current_.max_batch = std::max(current_.max_batch, last);
  }
}

Status Coordinator::publish_metrics(Clock::time_point started_at) {
  const Clock::time_point now = Clock::now();
  RoundMetrics metrics = std::move(current_);
  metrics.version = version_;
  if (metrics.samples > 0) metrics.train_loss = loss_sum_ / static_cast<double>(metrics.samples);
  if (metrics.answered > 0) {
    metrics.mean_batch = static_cast<uint32_t>(batch_sum_ / metrics.answered);
    metrics.mean_staleness = static_cast<double>(staleness_sum_) / metrics.answered;
  }
  EDGEFL_RETURN_IF_ERROR(evaluate(metrics));
  metrics.wall_s = std::chrono::duration<double>(now - started_at).count();
  metrics.elapsed_s = std::chrono::duration<double>(now - started_at_).count();
  std::string line = metrics_json(metrics);
  // Durable before the round's checkpoint (see trim_metrics): then no crash loses the line.
  if (std::fprintf(metrics_file_, "%s\n", line.c_str()) < 0 || std::fflush(metrics_file_) != 0 ||
      ::fsync(fileno(metrics_file_)) != 0) {
    return make_status(StatusCode::io_error, "cannot write the metrics line of round " + std::to_string(metrics.round));
  }
  if (!config_.quiet) log_(metrics_progress_line(metrics, config_.rounds));
  history_.push_back(std::move(metrics));

  current_ = RoundMetrics{};
  current_.strategy = config_.strategy.name;
  current_.asynchronous = asynchronous();
  loss_sum_ = 0;
  batch_sum_ = 0;
  staleness_sum_ = 0;
  return Status();
}

namespace {

// The "round" field of a metrics line (0 when absent: such a line is kept).
uint64_t metrics_line_round(std::string_view line) {
  constexpr std::string_view kKey = "\"round\":";
  const std::size_t at = line.find(kKey);
  if (at == std::string_view::npos) return 0;
  return std::strtoull(std::string(line.substr(at + kKey.size(), 24)).c_str(), nullptr, 10);
}

}  // namespace

Status Coordinator::trim_metrics(const std::string& path) {
  Result<std::vector<std::byte>> bytes = read_file(*fs_, path, uint64_t{1} << 30);
  if (!bytes) return bytes.status().code() == StatusCode::not_found ? Status() : bytes.status();
  const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  std::string kept;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) break;  // a line torn by the crash
    const std::string_view line = text.substr(begin, end + 1 - begin);
    if (metrics_line_round(line) <= rounds_closed_) kept.append(line);
    begin = end + 1;
  }
  if (kept.size() == text.size()) return Status();
  return atomic_write_file(*fs_, path, std::as_bytes(std::span(kept.data(), kept.size())));
}

Status Coordinator::evaluate(RoundMetrics& metrics) {
  if (!test_data_) return Status();
  Result<Evaluation> evaluation = edgefl::evaluate(spec_, *compute_, global_.span(), DatasetView(*test_data_));
  if (!evaluation) return evaluation.status().with_context("evaluating the global model");
  metrics.test_loss = evaluation->loss;
  metrics.test_accuracy = evaluation->accuracy;
  return Status();
}

Status Coordinator::checkpoint_and_rotate(uint64_t generation) {
  Checkpoint checkpoint;
  checkpoint.round = generation;
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
  save_extras(checkpoint);
  Result<std::vector<uint8_t>> bytes = encode_checkpoint(checkpoint);
  if (!bytes) return bytes.status().with_context("encoding the checkpoint");
  // Checkpoint first, then the log: a crash in between leaves the old log, which the next
  // start deletes unread because the checkpoint names the newer generation.
  EDGEFL_RETURN_IF_ERROR(
      atomic_write_file(*fs_, config_.state_dir + "/checkpoint.bin", std::as_bytes(std::span(*bytes))));
  generation_ = generation;
  return wal_->rotate(generation + 1).with_context("rotating the write-ahead log");
}

Result<std::vector<uint8_t>> Coordinator::encode_task(uint64_t task_id, uint64_t round) const {
  Task task;
  task.task_id = task_id;
  task.round = round;
  task.model_version = version_;
  task.model_spec = spec_.to_string();
  task.params = f32_tensor(global_.span());
  TaskConfig& c = task.config;
  Result<OptimizerKind> optimizer = parse_optimizer(config_.train.optimizer);
  if (!optimizer) return optimizer.status();
  c.optimizer = *optimizer;
  c.lr = config_.train.learning_rate;
  c.momentum = config_.train.momentum;
  c.weight_decay = config_.train.weight_decay;
  c.beta1 = config_.train.adam_beta1;
  c.beta2 = config_.train.adam_beta2;
  c.eps = config_.train.adam_epsilon;
  c.batch_size = config_.train.batch_size;
  c.local_steps = config_.train.local_steps;
  c.local_epochs = config_.train.local_epochs;
  Result<CodecKind> codec = parse_codec(config_.codec.name);
  if (!codec) return codec.status();
  c.upload.kind = *codec;
  c.upload.int8_block_size = config_.codec.int8_block_size;
  c.upload.topk_fraction = *codec == CodecKind::topk ? config_.codec.topk_fraction : 0.0f;
  c.seed = splitmix64(config_.seed ^ (task_id * 0x9E3779B97F4A7C15ull));
  c.deadline_ms = static_cast<uint32_t>(config_.round_deadline_s * config_.time_scale * 1000);
  // Any PALSGD setting (a sync interval H alone included) sends the section: p = 0 is DiLoCo.
  if (config_.palsgd.probability > 0 || config_.palsgd.warmup_steps > 0 || config_.palsgd.sync_interval > 0) {
    c.palsgd = PalsgdSettings{config_.palsgd.probability, config_.palsgd.rho, config_.palsgd.sync_interval,
                              config_.palsgd.warmup_steps};
  }
  if (config_.adaptive_batch.test != "none") {
    AdaptiveBatchSettings adaptive;
    adaptive.test = static_cast<uint8_t>(*parse_batch_test(config_.adaptive_batch.test));
    adaptive.eta = config_.adaptive_batch.eta;
    adaptive.theta = config_.adaptive_batch.theta;
    adaptive.nu = config_.adaptive_batch.nu;
    adaptive.batch_cap = config_.adaptive_batch.max_batch;
    adaptive.test_interval = config_.adaptive_batch.test_interval;
    c.adaptive_batch = adaptive;
  }
  Result<std::vector<uint8_t>> bytes = encode_message(task);
  if (!bytes) return bytes.status().with_context("encoding a task");
  return bytes;
}

Status Coordinator::send_task_bytes(ServerChannel& channel, DeviceRecord& device, std::span<const uint8_t> task,
                                    uint64_t task_id) {
  device.busy_task = task_id;
  Status sent = channel.send(device.peer, task);
  if (!sent.ok()) {
    // The device's link is down; it gets the task again when it rejoins or heartbeats.
    warn("task for " + device.id + " not sent: " + sent.to_string());
    return Status();
  }
  current_.bytes_out += task.size();
  ++current_.asked;
  return Status();
}

Result<bool> Coordinator::enough_devices(Clock::time_point now) {
  const std::size_t live = live_devices(now).size();
  if (live >= config_.min_devices) return true;
  if (now - waiting_since_ > scaled(config_.join_timeout_s)) {
    return make_status(StatusCode::timeout, "only " + std::to_string(live) + " of the " +
                                                std::to_string(config_.min_devices) +
                                                " devices the run needs are connected");
  }
  return false;
}

std::vector<std::string> Coordinator::live_devices(Clock::time_point now) {
  return devices_.live_ids(now, scaled(3 * config_.heartbeat_s));
}

void Coordinator::say_goodbye(ServerChannel& channel) {
  const Clock::time_point now = Clock::now();
  for (const std::string& id : devices_.live_ids(now, Clock::duration::max())) {
    if (const DeviceRecord* device = devices_.find(id)) {
      (void)send(channel, device->peer, Bye{ByeReason::finished, "training finished"});
    }
  }
}

Status Coordinator::send(ServerChannel& channel, const std::string& peer, const Message& message) {
  Result<std::vector<uint8_t>> bytes = encode_message(message);
  if (!bytes) return bytes.status().with_context("encoding a reply");
  Status sent = channel.send(peer, *bytes);
  if (sent.ok()) {
    current_.bytes_out += bytes->size();
  } else {
    warn(std::string(message_type_name(message_type(message))) + " not sent: " + sent.to_string());
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

Status Coordinator::check_fits(const Capabilities& capabilities) const {
  if (capabilities.memory_budget_bytes == 0) return Status();  // the device sizes itself
  Result<OptimizerKind> optimizer = parse_optimizer(config_.train.optimizer);
  Result<BatchTest> test = parse_batch_test(config_.adaptive_batch.test);
  if (!optimizer || !test) return make_status(StatusCode::internal, "validated settings failed to parse");
  const std::size_t message_bytes = spec_.parameter_count() * sizeof(float) + 4096;
  const std::size_t dataset_bytes = capabilities.sample_count * spec_.input_size();
  MemoryPlanRequest request =
      task_memory_request(spec_, Backend::xnnpack, *optimizer, *test, config_.adaptive_batch.max_batch,
                          config_.codec.name != "f32", message_bytes, dataset_bytes, kTypicalDeviceProcessBytes);
  Result<MemoryPlan> plan = plan_memory(request, capabilities.memory_budget_bytes);
  return plan.ok() ? Status() : plan.status();
}

void Coordinator::warn(const std::string& line) { log_("warning: " + line); }

Clock::duration Coordinator::scaled(double seconds) const {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds * config_.time_scale));
}

}  // namespace edgefl::server
