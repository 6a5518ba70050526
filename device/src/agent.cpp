#include "agent.hpp"

#include <cinttypes>
#include <cstdio>
#include <thread>

#include <unistd.h>

#include "edgefl/base/rng.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "edgefl/train/memory_plan.hpp"
#include "upstream_link.hpp"

namespace edgefl::device {

namespace {

const char* const kSoftwareVersion = "edgefl-device 0.1.0";

uint64_t hash_text(const std::string& text) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, then mixed
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return splitmix64(h);
}

uint64_t unix_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

}  // namespace

DeviceAgent::DeviceAgent(const DeviceConfig& config, FileSystem& fs, LogSink log, TimeSource& clock)
    : config_(config),
      fs_(&fs),
      clock_(&clock),
      log_([this, sink = std::move(log)](const std::string& line) {
        if (line.rfind("warning", 0) == 0) {
          last_error_ = line;
          last_error_unix_ms_ = unix_ms();
        }
        sink(line);
      }) {}

DeviceAgent::~DeviceAgent() = default;

Result<std::unique_ptr<DeviceAgent>> DeviceAgent::create(const DeviceConfig& config, FileSystem& fs,
                                                         LogSink log, TimeSource& clock) {
  EDGEFL_RETURN_IF_ERROR(validate_device_config(config));
  Result<DataSource> source = DataSource::parse(config.data, config.data_dir);
  if (!source) return source.status();
  Result<Shard> loaded = source->load_shard(shard_spec(config));
  if (!loaded) return loaded.status().with_context("loading local data");
  return create(config, std::move(loaded->data), fs, std::move(log), clock);
}

Result<std::unique_ptr<DeviceAgent>> DeviceAgent::create(const DeviceConfig& config, Dataset local_data,
                                                         FileSystem& fs, LogSink log, TimeSource& clock) {
  SharedSamples own{std::make_shared<const Dataset>(std::move(local_data)), {}};
  return create(config, std::move(own), fs, std::move(log), nullptr, clock);
}

DatasetView DeviceAgent::data_view() const {
  return data_.rows.empty() ? DatasetView(*data_.dataset) : DatasetView(*data_.dataset, data_.rows);
}

Result<std::unique_ptr<DeviceAgent>> DeviceAgent::create(const DeviceConfig& config,
                                                         SharedSamples samples, FileSystem& fs,
                                                         LogSink log, TrainingPool* pool,
                                                         TimeSource& clock) {
  EDGEFL_RETURN_IF_ERROR(validate_device_config(config));
  if (samples.dataset == nullptr || samples.dataset->size() == 0) {
    return make_status(StatusCode::invalid_argument, "the device has no local samples to train on");
  }
  EDGEFL_RETURN_IF_ERROR(
      DatasetView(*samples.dataset, samples.rows).validate().with_context("the device's rows"));
  std::unique_ptr<DeviceAgent> agent(new DeviceAgent(config, fs, std::move(log), clock));
  agent->device_id_ = config.device_id.empty() ? "device-" + std::to_string(config.partition_index)
                                               : config.device_id;
  Result<uint64_t> budget = config.memory_budget == "auto" ? available_memory_bytes()
                                                           : parse_byte_size(config.memory_budget);
  if (!budget) return budget.status().with_context("memory budget");
  agent->memory_budget_ = *budget;
  // What the process holds besides its data (already resident here): the plan counts it too.
  Result<uint64_t> resident = resident_memory_bytes();
  const uint64_t data_bytes = samples.dataset->memory_bytes();
  const uint64_t process_bytes =
      resident.ok() && *resident > data_bytes ? *resident - data_bytes : 0;
  agent->data_ = std::move(samples);
  if (!config.model.empty()) {
    // Refuse now, with the number needed, rather than at the first task.
    ModelSpec spec = *ModelSpec::parse(config.model);
    TaskConfig typical;
    typical.optimizer = OptimizerKind::momentum;
    const std::size_t message_bytes = spec.parameter_count() * sizeof(float) + 4096;
    Result<MemoryPlan> plan =
        plan_device_memory(spec, config.backend, typical, message_bytes,
                           agent->data_view().memory_bytes(), agent->memory_budget_, process_bytes);
    if (!plan) return plan.status();
    agent->log_(agent->device_id_ + ": " + plan->describe());
  }

  EDGEFL_RETURN_IF_ERROR(fs.create_dir(config.state_dir));
  Result<Outbox> outbox = Outbox::open(fs, config.state_dir + "/outbox");
  if (!outbox) return outbox.status().with_context("opening the outbox");
  agent->outbox_.emplace(std::move(*outbox));
  agent->status_file_ = std::make_unique<StatusFile>(fs, config.state_dir + "/status.json");
  agent->probe_ = std::make_unique<SystemProbe>(fs, config.system_root);
  if (!config.save_updates_dir.empty()) EDGEFL_RETURN_IF_ERROR(fs.create_dir(config.save_updates_dir));

  // The boot counter tells the server this is a new process (it drops stale busy state).
  const std::string counter_path = config.state_dir + "/boot_counter";
  Result<std::vector<std::byte>> counter = read_file(fs, counter_path, 64);
  if (counter.ok()) {
    std::string text(reinterpret_cast<const char*>(counter->data()), counter->size());
    agent->boot_counter_ = std::strtoull(text.c_str(), nullptr, 10);
  }
  ++agent->boot_counter_;
  std::string text = std::to_string(agent->boot_counter_);
  EDGEFL_RETURN_IF_ERROR(atomic_write_file(fs, counter_path, std::as_bytes(std::span(text))));

  LocalTrainingOptions options;
  options.data = agent->data_.dataset.get();
  options.rows = agent->data_.rows;
  options.memory_budget = agent->memory_budget_;
  options.threads = config.threads;
  options.backend = config.backend;
  options.direct_isa = config.direct_isa;
  options.device_seed = hash_text(agent->device_id_);
  options.process_bytes = process_bytes;
  options.slowdown = config.slowdown;
  options.deadline_reserve = config.deadline_reserve;
  // On a pool, as many devices train at once as it has threads: they borrow its workspaces.
  options.workspaces = pool != nullptr ? &pool->workspaces() : nullptr;
  agent->process_bytes_ = process_bytes;
  Result<std::unique_ptr<LocalTaskTrainer>> local = LocalTaskTrainer::create(options);
  if (!local) return local.status();
  std::unique_ptr<TaskTrainer> trainer = std::move(*local);
  Result<std::unique_ptr<TrainingWorker>> worker = TrainingWorker::create(std::move(trainer), pool);
  if (!worker) return worker.status();
  agent->worker_ = std::move(*worker);

  if (!config.peer_listen.empty()) EDGEFL_RETURN_IF_ERROR(agent->open_peer_mode());

  UpstreamOptions upstream;
  upstream.endpoint = config.endpoint;
  upstream.join = agent->join_message();
  upstream.heartbeat_interval = seconds_to_ms(config.heartbeat_s * config.time_scale);
  upstream.time_scale = config.time_scale;
  upstream.backoff_seed = hash_text(agent->device_id_) ^ config.simulation_seed;
  upstream.give_up_after = seconds_to_ms(config.give_up_s * config.time_scale);
  // Of the data as loaded: the standardisation a Task sets changes what training sees, not these.
  const DeviceAgent* self = agent.get();
  upstream.data_statistics = [self] { return feature_moments(self->data_view()); };
  agent->session_ = std::make_unique<UpstreamSession>(std::move(upstream), *agent->outbox_, clock, agent->log_);

  if (config.offline_probability > 0) {
    OutageOptions outage;
    outage.probability = config.offline_probability;
    outage.offline_s = config.offline_s;
    outage.duration = seconds_to_ms(config.offline_s * config.time_scale);
    outage.seed = config.simulation_seed;
    outage.stream = hash_text(agent->device_id_);
    outage.device_id = agent->device_id_;
    Result<std::vector<std::string>> sent_before = agent->outbox_->list();
    if (!sent_before) return sent_before.status().with_context("outbox");
    agent->outages_ = std::make_unique<SimulatedOutages>(std::move(outage), std::move(*sent_before), agent->log_);
  }
  return agent;
}

Status DeviceAgent::open_peer_mode() {
  PeerLinkSettings settings;
  settings.listen = config_.peer_listen;
  settings.insecure = config_.insecure;
  settings.policy.time_scale = config_.time_scale;
  if (!config_.secret_key_file.empty()) {
    Result<CurveKeyPair> keys = load_curve_keypair(config_.secret_key_file);
    if (!keys) return keys.status().with_context("peer keys");
    settings.keys = std::move(*keys);
  }
  Result<std::unique_ptr<PeerLinks>> links = PeerLinks::open(settings);
  if (!links) return links.status();
  peer_endpoint_ = config_.peer_advertise.empty() ? (*links)->endpoint() : config_.peer_advertise;
  DpsgdWorkerOptions options;
  options.device_id = device_id_;
  options.data = data_.dataset.get();
  options.rows = data_.rows;
  options.threads = config_.threads;
  options.backend = config_.backend;
  options.device_seed = hash_text(device_id_);
  options.fs = fs_;
  options.state_path = config_.state_dir + "/dpsgd_state";
  options.persist_interval = config_.peer_persist_interval;
  options.slowdown = config_.slowdown;
  if (config_.offline_probability > 0) {
    options.offline_probability = config_.offline_probability;
    options.offline = seconds_to_ms(config_.offline_s * config_.time_scale);
    options.offline_seed = config_.simulation_seed;
    options.offline_stream = hash_text(device_id_);
    // The upstream link goes down with the peer socket (outages_ is made after this worker and
    // destroyed after it).
    options.on_offline = [this] {
      if (outages_) outages_->go_offline();
    };
  }
  dpsgd_ = std::make_unique<DpsgdWorker>(std::move(options), std::move(*links),
                                         [log = log_, id = device_id_](const std::string& line) { log(id + ": " + line); });
  if (!config_.quiet) log_(device_id_ + ": peer socket on " + peer_endpoint_);
  return Status();
}

void DeviceAgent::on_peer_assignment(const PeerAssignment& assignment, Bytes message) {
  if (!dpsgd_) {
    log_("warning: the server assigned a topology, but this device has no peer socket (set peer.listen)");
    return;
  }
  if (!config_.quiet) {
    log_(device_id_ + ": topology epoch " + std::to_string(assignment.epoch) + ", " +
         std::to_string(assignment.neighbours.size()) + " neighbour(s)");
  }
  dpsgd_->assign(std::move(message));
}

Join DeviceAgent::join_message() const {
  Join join;
  join.device_id = device_id_;
  join.boot_counter = boot_counter_;
  join.capabilities.arch = host_arch();
  join.capabilities.cores = std::max(1u, std::thread::hardware_concurrency());
  join.capabilities.memory_budget_bytes = memory_budget_;
  join.capabilities.sample_count = data_view().size();
  join.capabilities.codecs = {CodecKind::f32, CodecKind::f16, CodecKind::int8_block, CodecKind::topk};
  join.capabilities.software_version = kSoftwareVersion;
  join.capabilities.backend = static_cast<uint8_t>(static_cast<uint8_t>(config_.backend) + 1);
  join.capabilities.dataset_bytes = data_view().memory_bytes();
  join.capabilities.process_bytes = process_bytes_;
  join.peer_endpoint = peer_endpoint_;
  return join;
}

Status DeviceAgent::run(const ChannelFactory& connect, const std::atomic<bool>& stop) {
  check_eligibility(true);
  publish_status("running", true);
  Status end = outages_ ? session_->run(outages_->wrap(connect, stop), *this, stop) : session_->run(connect, *this, stop);
  if (!end.ok() && end.code() != StatusCode::cancelled) {
    last_error_ = end.to_string();  // the caller reports it; the status file keeps it
    last_error_unix_ms_ = unix_ms();
  }
  publish_status(end.ok() ? "finished" : end.code() == StatusCode::cancelled ? "stopped" : "failed", true);
  return end;
}

void DeviceAgent::on_welcome(const Welcome& welcome) {
  linked_ = true;
  monitor_.set_rule(welcome.eligibility);
  check_eligibility(true);  // the first heartbeat already judges by this rule
}

void DeviceAgent::on_link_end() {
  linked_ = false;
  publish_status("running", true);
}

void DeviceAgent::check_eligibility(bool now_too) {
  const SteadyTime now = clock_->now();
  if (!now_too && probed_ && now - last_probe_ < std::chrono::seconds(1)) return;
  probed_ = true;
  last_probe_ = now;
  const uint32_t before = monitor_.reasons();
  const uint32_t after = monitor_.update(probe_->read());
  if (after == before) return;
  if (after != 0) {
    log_(device_id_ + ": ineligible to train (" + ineligible_reason_text(after) + "): " + monitor_.explain());
  } else {
    log_(device_id_ + ": eligible to train again (" + monitor_.describe_readings() + ")");
  }
}

DeviceStatus DeviceAgent::current_status(const std::string& state) const {
  DeviceStatus s;
  s.device_id = device_id_;
  s.pid = static_cast<int64_t>(::getpid());
  s.state = state;
  s.server = config_.endpoint;
  s.connected = linked_ && session_->joined();
  s.training_task = worker_->working_on();
  s.training_round = s.training_task != 0 ? training_round_ : 0;
  Result<std::vector<std::string>> pending = outbox_->list();
  s.outbox_updates = pending.ok() ? pending->size() : 0;
  s.tasks_trained = tasks_trained_;
  s.updates_acked = session_->stats().updates_acked;
  s.last_error = last_error_;
  s.last_error_unix_ms = last_error_unix_ms_;
  s.eligible = monitor_.reasons() == 0;
  s.ineligible = ineligible_reason_text(monitor_.reasons());
  s.why = monitor_.explain();
  s.readings = monitor_.describe_readings();
  return s;
}

void DeviceAgent::publish_status(const std::string& state, bool force) {
  Status written = status_file_->offer(current_status(state), clock_->now(), unix_ms(), force);
  if (written.ok()) {
    status_failed_ = false;
  } else if (!status_failed_) {
    status_failed_ = true;
    log_("warning: status file: " + written.to_string());
  }
}

AgentStats DeviceAgent::stats() const {
  const UpstreamStats& upstream = session_->stats();
  AgentStats stats;
  stats.tasks_trained = tasks_trained_;
  stats.updates_acked = upstream.updates_acked;
  stats.updates_rejected = upstream.updates_rejected;
  stats.updates_resent = upstream.updates_resent;
  stats.connections = upstream.connections;
  stats.offline_periods = outages_ ? outages_->periods() : 0;
  return stats;
}

Status DeviceAgent::turn(UpstreamSession& session) {
  check_eligibility(false);
  if (dpsgd_) {
    // Reports are monitoring: kept while there is no joined link (a bounded few), not resent
    // once sent.
    for (Bytes& report : dpsgd_->take_reports()) unsent_reports_.push_back(std::move(report));
    while (unsent_reports_.size() > kMaxUnsentReports) unsent_reports_.pop_front();
    while (!unsent_reports_.empty() && session.send(unsent_reports_.front()).ok()) unsent_reports_.pop_front();
    if (dpsgd_->finished()) {
      EDGEFL_RETURN_IF_ERROR(dpsgd_->error());
      finishing_ = true;
    }
  }
  EDGEFL_RETURN_IF_ERROR(deliver_result(session));
  publish_status("running", false);
  return Status();
}

Status DeviceAgent::deliver_result(UpstreamSession& session) {
  std::optional<TrainingResult> done = worker_->take_result();
  if (!done) return Status();
  if (!done->status.ok()) {
    log_("warning: task " + std::to_string(done->task_id) + " failed: " + done->status.to_string());
    return Status();
  }
  EDGEFL_RETURN_IF_ERROR(session.deliver(done->task_id, done->update_message));
  const std::string id = UpstreamSession::outbox_id(done->task_id);
  if (!config_.save_updates_dir.empty()) {
    Status saved = atomic_write_file(*fs_, config_.save_updates_dir + "/" + id + ".update",
                                     std::as_bytes(std::span(done->update_message)));
    if (!saved.ok()) log_("warning: save_updates: " + saved.to_string());
  }
  ++tasks_trained_;
  if (!config_.quiet) {
    char line[160];
    std::snprintf(line, sizeof line, "%s: task %" PRIu64 " trained in %.2f s, loss %.4f", device_id_.c_str(),
                  done->task_id, done->seconds, done->train_loss);
    log_(line);
  }
  if (config_.max_tasks != 0 && tasks_trained_ >= config_.max_tasks) finishing_ = true;
  return Status();
}

void DeviceAgent::on_task(const Task& task, Bytes message) {
  if (worker_->working_on() == task.task_id || finishing_) return;
  if (monitor_.reasons() != 0) {
    if (skipped_task_ != task.task_id) {
      log_(device_id_ + ": not training task " + std::to_string(task.task_id) + " while ineligible (" +
           monitor_.explain() + ")");
    }
    skipped_task_ = task.task_id;
    return;
  }
  training_round_ = task.round;
  Status submitted = worker_->submit(task.task_id, std::move(message));
  if (!submitted.ok()) log_("warning: task " + std::to_string(task.task_id) + ": " + submitted.to_string());
}

}  // namespace edgefl::device
