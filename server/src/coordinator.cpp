#include "coordinator.hpp"

#include <algorithm>
#include <cmath>

#include "edgefl/adaptive_batch.hpp"
#include "edgefl/atomic_file.hpp"
#include "edgefl/memory_plan.hpp"
#include "edgefl/checkpoint.hpp"
#include "edgefl/data_source.hpp"
#include "edgefl/model.hpp"
#include "edgefl/optimizer.hpp"
#include "edgefl/rng.hpp"
#include "edgefl/trainer.hpp"
#include "update_log.hpp"

namespace edgefl::server {

namespace {

constexpr uint64_t kMaxCheckpointBytes = uint64_t{1} << 31;
// An edgefl-device's resident size before data and training state (code, libraries, ZeroMQ),
// measured on x86-64 and aarch64: the server's fit check adds it to the device's plan.
constexpr std::size_t kTypicalDeviceProcessBytes = std::size_t{8} << 20;

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

Coordinator::Coordinator(const ServerConfig& config, FileSystem& fs, LogSink log, ModelSpec spec)
    : config_(config),
      fs_(&fs),
      log_(std::move(log)),
      spec_(std::move(spec)),
      global_(spec_.parameter_count()),
      scratch_(spec_.parameter_count()),
      mean_delta_(spec_.parameter_count()) {
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
  std::unique_ptr<Coordinator> c(new Coordinator(config, fs, std::move(log), std::move(*spec)));

  Result<StrategySettings> settings = strategy_settings(config);
  if (!settings) return settings.status();
  auto strategy = make_server_strategy(config.strategy.name, *settings, c->spec_.parameter_count());
  if (!strategy) return strategy.status();
  if ((*strategy)->asynchronous()) {
    return make_status(StatusCode::invalid_argument, "strategy '" + config.strategy.name +
                                                         "' is asynchronous; this coordinator runs rounds");
  }
  c->strategy_ = std::move(*strategy);
  c->mean_ = std::make_unique<ExactMean>(c->spec_.parameter_count(),
                                         UpdateChecks{config.max_update_norm, false});
  c->session_ = splitmix64(unix_ms());

  if (config.data != "none" && config.eval_samples > 0) {
    Result<DataSource> source = DataSource::parse(config.data, config.data_dir);
    if (!source) return source.status();
    Result<Dataset> test = source->load_test(c->spec_, config.eval_samples);
    if (!test) return test.status().with_context("server evaluation data");
    c->test_data_ = std::move(*test);
    auto compute = ComputeContext::create(Backend::xnnpack, 1);
    if (!compute) return compute.status();
    c->compute_ = std::move(*compute);
  }

  EDGEFL_RETURN_IF_ERROR(c->load_state());

  std::string metrics_path =
      config.metrics_path.empty() ? config.state_dir + "/metrics.jsonl" : config.metrics_path;
  c->metrics_file_ = std::fopen(metrics_path.c_str(), config.resume ? "a" : "w");
  if (c->metrics_file_ == nullptr) {
    return make_status(StatusCode::io_error, "cannot open metrics file '" + metrics_path + "'");
  }
  c->started_at_ = Clock::now();
  c->waiting_since_ = c->started_at_;
  return c;
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
    rounds_closed_ = checkpoint->round;
  } else if (bytes.status().code() != StatusCode::not_found) {
    return bytes.status();
  } else {
    EDGEFL_RETURN_IF_ERROR(init_parameters(spec_, global_.span(), config_.seed));
  }

  Result<WriteAheadLog> wal = WriteAheadLog::open(
      *fs_, wal_dir, rounds_closed_ + 1,
      [this](std::span<const std::byte> record) { return replay(record); });
  if (!wal) return wal.status().with_context("opening the write-ahead log");
  wal_.emplace(std::move(*wal));
  const WalRecovery& recovery = wal_->recovery();
  if (config_.resume) {
    log_("resumed at round " + std::to_string(rounds_closed_ + 1) + " (model version " +
         std::to_string(version_) + "), " + std::to_string(recovery.records) +
         " logged updates replayed");
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
  const uint64_t round = rounds_closed_ + 1;
  if (update == nullptr || update->round != round) {
    return make_status(StatusCode::corrupt, "write-ahead log of round " + std::to_string(round) +
                                                " holds a record of another round or type");
  }
  EDGEFL_RETURN_IF_ERROR(decoded->payload_into(scratch_.span()));
  EDGEFL_RETURN_IF_ERROR(mean_->add(scratch_.span(), update->sample_count));
  const std::string device(entry->device_id);
  answered_.insert(device);
  accepted_[{device, round}] = update->update_id;
  loss_sum_ += update->metrics.train_loss * static_cast<double>(update->sample_count);
  return Status();
}

Status Coordinator::poll(ServerChannel& channel, std::chrono::milliseconds wait) {
  Result<std::optional<Inbound>> inbound = channel.receive(wait);
  if (!inbound) {
    warn("receive: " + inbound.status().to_string());
  } else if (inbound->has_value()) {
    EDGEFL_RETURN_IF_ERROR(handle(channel, **inbound));
  }
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
  const Clock::time_point now = Clock::now();

  if (const Join* join = std::get_if<Join>(&decoded->message)) {
    std::string id = inbound.identity.empty() ? join->device_id : inbound.identity;
    if (id.empty()) {
      reject(channel, inbound.peer, make_status(StatusCode::invalid_argument, "join without a device id"), std::nullopt);
      return Status();
    }
    Status fits = check_fits(join->capabilities);
    if (!fits.ok()) {
      warn("device " + id + " cannot train this model: " + fits.to_string());
      reject(channel, inbound.peer, fits, std::nullopt);
      return Status();
    }
    DeviceRecord& device = devices_.join(id, inbound.peer, *join, now);
    Welcome welcome;
    welcome.device_id = id;
    welcome.server_session = session_;
    welcome.heartbeat_interval_ms = static_cast<uint32_t>(config_.heartbeat_s * config_.time_scale * 1000);
    welcome.peer_timeout_ms = 3 * welcome.heartbeat_interval_ms;
    welcome.max_message_bytes = limits_.max_message_bytes;
    welcome.server_time_ms = unix_ms();
    EDGEFL_RETURN_IF_ERROR(send(channel, inbound.peer, welcome));
    if (round_open_ && asked_.count(id) != 0 && answered_.count(id) == 0) {
      return send_task(channel, device);
    }
    return Status();
  }

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
    if (const Update* update = std::get_if<Update>(&decoded->message)) update_id = update->update_id;
    reject(channel, inbound.peer,
           make_status(StatusCode::unknown_device, "join first: this connection has not joined"), update_id);
    return Status();
  }

  if (const Heartbeat* heartbeat = std::get_if<Heartbeat>(&decoded->message)) {
    const uint64_t round = rounds_closed_ + 1;
    if (round_open_ && asked_.count(id) != 0 && answered_.count(id) == 0 && heartbeat->working_on != round) {
      // The device is idle but owes this round an update: its Task was lost on the way.
      EDGEFL_RETURN_IF_ERROR(send_task(channel, *device));
    }
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

Status Coordinator::handle_update(ServerChannel& channel, const std::string& device_id,
                                  const std::string& peer, const DecodedMessage& decoded,
                                  std::span<const uint8_t> raw) {
  const Update& update = std::get<Update>(decoded.message);
  const uint64_t round = rounds_closed_ + 1;
  auto refuse = [&](const Status& why) {
    ++current_.rejected;
    warn("rejected update " + std::to_string(update.update_id) + " of " + device_id + ": " + why.to_string());
    reject(channel, peer, why, update.update_id);
    return Status();
  };

  auto previous = accepted_.find({device_id, update.round});
  if (previous != accepted_.end()) {
    // A resend after a lost Ack (or a restart): acknowledge again, never apply again.
    ++current_.duplicates;
    return send(channel, peer, Ack{previous->second, update.round, AckStatus::duplicate});
  }
  if (update.round < round) {
    ++current_.late;
    reject(channel, peer,
           make_status(StatusCode::stale, "round " + std::to_string(update.round) + " is closed"),
           update.update_id);
    return Status();
  }
  if (update.round > round) {
    return refuse(make_status(StatusCode::out_of_range, "round " + std::to_string(update.round) +
                                                            " has not started (open: " + std::to_string(round) + ")"));
  }
  if (update.base_version != version_) {
    return refuse(make_status(StatusCode::stale, "computed on model version " +
                                                     std::to_string(update.base_version) + ", current is " +
                                                     std::to_string(version_)));
  }
  Status decoded_payload = decoded.payload_into(scratch_.span());
  if (!decoded_payload.ok()) return refuse(decoded_payload);
  Status added = mean_->add(scratch_.span(), update.sample_count);
  if (!added.ok()) return refuse(added);

  // Durable before the Ack: a crash after this line replays the update, before it the device resends.
  std::vector<std::byte> record = encode_log_record(device_id, raw);
  EDGEFL_RETURN_IF_ERROR(wal_->append(record).with_context("write-ahead log append"));
  EDGEFL_RETURN_IF_ERROR(wal_->sync().with_context("write-ahead log sync"));

  accepted_[{device_id, round}] = update.update_id;
  answered_.insert(device_id);
  loss_sum_ += update.metrics.train_loss * static_cast<double>(update.sample_count);
  if (!update.metrics.batch_sizes.empty()) {
    const uint32_t last = update.metrics.batch_sizes.back();
    batch_sum_ += last;
    current_.max_batch = std::max(current_.max_batch, last);
  }
  if (DeviceRecord* device = devices_.find(device_id)) device->busy_task = 0;
  const std::size_t wanted = config_.min_updates == 0 ? asked_.size() : config_.min_updates;
  if (!enough_at_ && answered_.size() >= wanted) enough_at_ = Clock::now();
  return send(channel, peer, Ack{update.update_id, round, AckStatus::accepted});
}

Status Coordinator::run_timers(ServerChannel& channel) {
  if (finished()) return Status();
  const Clock::time_point now = Clock::now();
  if (!round_open_) {
    const std::size_t live = devices_.live_ids(now, scaled(3 * config_.heartbeat_s)).size();
    if (live >= config_.min_devices) return open_round(channel);
    if (now - waiting_since_ > scaled(config_.join_timeout_s)) {
      return make_status(StatusCode::timeout, "only " + std::to_string(live) + " of the " +
                                                  std::to_string(config_.min_devices) +
                                                  " devices a round needs are connected");
    }
    return Status();
  }
  std::size_t asked_answered = 0;
  for (const std::string& id : asked_) asked_answered += answered_.count(id);
  const bool all_answered = asked_answered == asked_.size();
  const bool grace_over = config_.min_updates > 0 && answered_.size() >= config_.min_updates &&
                          enough_at_ && now - *enough_at_ >= scaled(config_.grace_s);
  const bool deadline = now - round_opened_at_ >= scaled(config_.round_deadline_s);
  if (all_answered || grace_over || deadline) return close_round(channel);
  return Status();
}

Status Coordinator::open_round(ServerChannel& channel) {
  const uint64_t round = rounds_closed_ + 1;
  const Clock::time_point now = Clock::now();
  Rng rng(config_.seed, round);
  std::vector<std::string> selected = select_devices(devices_.live_ids(now, scaled(3 * config_.heartbeat_s)),
                                                     config_.fraction, config_.min_devices, rng);
  asked_ = std::set<std::string>(selected.begin(), selected.end());
  asked_.insert(answered_.begin(), answered_.end());  // replayed after a restart

  Task task;
  task.task_id = round;
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
  c.seed = splitmix64(config_.seed ^ (round * 0x9E3779B97F4A7C15ull));
  c.deadline_ms = static_cast<uint32_t>(config_.round_deadline_s * config_.time_scale * 1000);
  if (config_.palsgd.probability > 0 || config_.palsgd.warmup_steps > 0) {
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
  if (!bytes) return bytes.status().with_context("encoding the round's task");
  task_bytes_ = std::move(*bytes);

  round_open_ = true;
  round_opened_at_ = now;
  enough_at_.reset();
  current_ = RoundMetrics{};
  current_.round = round;
  current_.strategy = config_.strategy.name;
  current_.asked = static_cast<uint32_t>(asked_.size());
  for (const std::string& id : selected) {
    if (answered_.count(id) != 0) continue;
    if (DeviceRecord* device = devices_.find(id)) EDGEFL_RETURN_IF_ERROR(send_task(channel, *device));
  }
  return Status();
}

Status Coordinator::send_task(ServerChannel& channel, const DeviceRecord& device) {
  Status sent = channel.send(device.peer, task_bytes_);
  if (!sent.ok()) {
    // The device's link is down; it gets the task again when it rejoins or heartbeats.
    warn("task for " + device.id + " not sent: " + sent.to_string());
    return Status();
  }
  current_.bytes_out += task_bytes_.size();
  if (DeviceRecord* record = devices_.find(device.id)) record->busy_task = rounds_closed_ + 1;
  return Status();
}

Status Coordinator::close_round(ServerChannel& channel) {
  (void)channel;
  const Clock::time_point now = Clock::now();
  RoundMetrics metrics = current_;
  metrics.answered = static_cast<uint32_t>(answered_.size());
  metrics.samples = mean_->total_weight();
  if (mean_->count() > 0) {
    EDGEFL_RETURN_IF_ERROR(mean_->mean_into(mean_delta_.span()));
    EDGEFL_RETURN_IF_ERROR(strategy_->apply(global_.span(), mean_delta_.span()));
    ++version_;
    metrics.train_loss = loss_sum_ / static_cast<double>(mean_->total_weight());
    metrics.mean_batch = metrics.answered == 0 ? 0 : static_cast<uint32_t>(batch_sum_ / metrics.answered);
  } else {
    warn("round " + std::to_string(metrics.round) + " closed without updates; the model is unchanged");
  }
  ++rounds_closed_;
  metrics.version = version_;
  EDGEFL_RETURN_IF_ERROR(evaluate(metrics));
  // Checkpoint first, then the log: a crash in between leaves the old log, which the next
  // start deletes unread because the checkpoint names the newer generation.
  EDGEFL_RETURN_IF_ERROR(write_checkpoint());
  EDGEFL_RETURN_IF_ERROR(wal_->rotate(rounds_closed_ + 1).with_context("rotating the write-ahead log"));

  mean_->reset();
  answered_.clear();
  asked_.clear();
  loss_sum_ = 0;
  batch_sum_ = 0;
  round_open_ = false;
  waiting_since_ = now;
  // Keep two closed rounds of ids to answer late resends with Ack(duplicate).
  for (auto it = accepted_.begin(); it != accepted_.end();) {
    it = it->first.second + 2 < rounds_closed_ ? accepted_.erase(it) : std::next(it);
  }

  metrics.wall_s = std::chrono::duration<double>(now - round_opened_at_).count();
  metrics.elapsed_s = std::chrono::duration<double>(now - started_at_).count();
  std::string line = metrics_json(metrics);
  std::fprintf(metrics_file_, "%s\n", line.c_str());
  std::fflush(metrics_file_);
  if (!config_.quiet) log_(metrics_progress_line(metrics, config_.rounds));
  history_.push_back(std::move(metrics));
  return Status();
}

Status Coordinator::evaluate(RoundMetrics& metrics) {
  if (!test_data_) return Status();
  Result<Evaluation> evaluation = edgefl::evaluate(spec_, *compute_, global_.span(), DatasetView(*test_data_));
  if (!evaluation) return evaluation.status().with_context("evaluating the global model");
  metrics.test_loss = evaluation->loss;
  metrics.test_accuracy = evaluation->accuracy;
  return Status();
}

Status Coordinator::write_checkpoint() {
  Checkpoint checkpoint;
  checkpoint.round = rounds_closed_;
  checkpoint.model_version = version_;
  checkpoint.model_spec = spec_.to_string();
  checkpoint.params = f32_tensor(global_.span());
  checkpoint.created_unix_ms = unix_ms();
  StrategyState state = strategy_->save_state();
  for (const auto& [name, buffer] : state.buffers) {
    checkpoint.optimizer_state.push_back(NamedTensor{name, f32_tensor(buffer.span())});
  }
  for (const auto& [name, value] : state.scalars) checkpoint.scalars.push_back(NamedScalar{name, value});
  Result<std::vector<uint8_t>> bytes = encode_checkpoint(checkpoint);
  if (!bytes) return bytes.status().with_context("encoding the checkpoint");
  return atomic_write_file(*fs_, config_.state_dir + "/checkpoint.bin", std::as_bytes(std::span(*bytes)));
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
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(seconds * config_.time_scale));
}

}  // namespace edgefl::server
