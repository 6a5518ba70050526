#include "agent.hpp"

#include <cinttypes>
#include <cstdio>
#include <thread>

#include "edgefl/atomic_file.hpp"
#include "edgefl/backoff.hpp"
#include "edgefl/memory_plan.hpp"
#include "edgefl/proto.hpp"
#include "edgefl/rng.hpp"

namespace edgefl::device {

namespace {

constexpr uint64_t kSoftwareVersionMajor = 0;
const char* const kSoftwareVersion = "edgefl-device 0.1.0";

std::string host_arch() {
#if defined(__aarch64__)
  return "aarch64";
#elif defined(__arm__)
  return "armv7l";
#elif defined(__x86_64__)
  return "x86_64";
#else
  return "unknown";
#endif
}

uint64_t hash_text(const std::string& text) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, then mixed
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return splitmix64(h);
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

// Rejections after which the update can never be accepted: delete it from the outbox.
bool final_rejection(StatusCode code) {
  return code != StatusCode::unavailable && code != StatusCode::resource_exhausted &&
         code != StatusCode::timeout && code != StatusCode::unknown_device;
}

}  // namespace

DeviceAgent::DeviceAgent(const DeviceConfig& config, FileSystem& fs, LogSink log)
    : config_(config),
      fs_(&fs),
      log_(std::move(log)),
      heartbeat_interval_(seconds_to_ms(config.heartbeat_s * config.time_scale)),
      peer_timeout_(3 * heartbeat_interval_) {}

DeviceAgent::~DeviceAgent() = default;

Result<std::unique_ptr<DeviceAgent>> DeviceAgent::create(const DeviceConfig& config, FileSystem& fs,
                                                         LogSink log) {
  EDGEFL_RETURN_IF_ERROR(validate_device_config(config));
  Result<DataSource> source = DataSource::parse(config.data, config.data_dir);
  if (!source) return source.status();
  ShardSpec shard;
  shard.scheme = config.partition;
  shard.count = config.partitions;
  shard.index = config.partition_index;
  shard.alpha = config.dirichlet_alpha;
  shard.shards_per_client = config.shards_per_client;
  shard.seed = config.partition_seed;
  shard.max_samples = config.max_samples;
  Result<Shard> loaded = source->load_shard(shard);
  if (!loaded) return loaded.status().with_context("loading local data");
  return create(config, std::move(loaded->data), fs, std::move(log));
}

Result<std::unique_ptr<DeviceAgent>> DeviceAgent::create(const DeviceConfig& config, Dataset local_data,
                                                         FileSystem& fs, LogSink log) {
  EDGEFL_RETURN_IF_ERROR(validate_device_config(config));
  if (local_data.size() == 0) {
    return make_status(StatusCode::invalid_argument, "the device has no local samples to train on");
  }
  std::unique_ptr<DeviceAgent> agent(new DeviceAgent(config, fs, std::move(log)));
  agent->device_id_ = config.device_id.empty() ? "device-" + std::to_string(config.partition_index)
                                               : config.device_id;
  Result<uint64_t> budget = config.memory_budget == "auto" ? available_memory_bytes()
                                                           : parse_byte_size(config.memory_budget);
  if (!budget) return budget.status().with_context("memory budget");
  agent->memory_budget_ = *budget;
  // What the process holds besides its data (already resident here): the plan counts it too.
  Result<uint64_t> resident = resident_memory_bytes();
  const uint64_t process_bytes = resident.ok() && *resident > local_data.memory_bytes()
                                     ? *resident - local_data.memory_bytes()
                                     : 0;
  agent->data_ = std::move(local_data);
  if (!config.model.empty()) {
    // Refuse now, with the number needed, rather than at the first task.
    ModelSpec spec = *ModelSpec::parse(config.model);
    TaskConfig typical;
    typical.optimizer = OptimizerKind::momentum;
    const std::size_t message_bytes = spec.parameter_count() * sizeof(float) + 4096;
    Result<MemoryPlan> plan = plan_device_memory(spec, *resolve_backend(config.backend), typical,
                                                 message_bytes,
                                                 agent->data_, agent->memory_budget_, process_bytes);
    if (!plan) return plan.status();
    agent->log_(agent->device_id_ + ": " + plan->describe());
  }

  EDGEFL_RETURN_IF_ERROR(fs.create_dir(config.state_dir));
  Result<Outbox> outbox = Outbox::open(fs, config.state_dir + "/outbox");
  if (!outbox) return outbox.status().with_context("opening the outbox");
  agent->outbox_.emplace(std::move(*outbox));
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

  WorkerOptions options;
  options.data = &agent->data_;
  options.memory_budget = agent->memory_budget_;
  options.threads = config.threads;
  options.backend = *resolve_backend(config.backend);  // validated with the config
  options.direct_isa = config.direct_isa;
  options.device_seed = hash_text(agent->device_id_);
  options.slowdown = config.slowdown;
  options.process_bytes = process_bytes;
  agent->process_bytes_ = process_bytes;
  agent->backend_ = options.backend;
  Result<std::unique_ptr<TrainingWorker>> worker = TrainingWorker::create(options);
  if (!worker) return worker.status();
  agent->worker_ = std::move(*worker);
  return agent;
}

std::string DeviceAgent::outbox_id(uint64_t update_id) {
  char text[32];
  std::snprintf(text, sizeof text, "u%020" PRIu64, update_id);
  return text;
}

bool DeviceAgent::sleep_unless_stopped(Clock::duration duration, const std::atomic<bool>& stop) {
  const Clock::time_point until = Clock::now() + duration;
  while (Clock::now() < until) {
    if (stop.load()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
  }
  return !stop.load();
}

Status DeviceAgent::run(const ChannelFactory& connect, const std::atomic<bool>& stop) {
  SocketPolicy policy;
  policy.time_scale = config_.time_scale;
  Backoff backoff(policy, hash_text(device_id_) ^ config_.simulation_seed);
  while (!stop.load()) {
    Result<std::unique_ptr<DeviceChannel>> channel = connect();
    if (!channel) {
      log_("warning: cannot open a link to " + config_.endpoint + ": " + channel.status().to_string());
      if (!sleep_unless_stopped(backoff.next(), stop)) break;
      continue;
    }
    ++stats_.connections;
    joined_this_session_ = false;
    Result<SessionEnd> end = session(**channel, stop);
    if (!end) return end.status();
    // The backoff grows only while the server cannot be reached; a session that joined proves
    // the link works, so the next reconnect starts from the shortest wait again.
    if (joined_this_session_) backoff.reset();
    if (*end == SessionEnd::finished) return Status();
    if (*end == SessionEnd::stopped) break;
    channel->reset();  // drop the link (and anything queued on it) before waiting
    if (!sleep_unless_stopped(backoff.next(), stop)) break;
  }
  return make_status(StatusCode::cancelled, "stopped");
}

Status DeviceAgent::send_join(DeviceChannel& channel) {
  Join join;
  join.device_id = device_id_;
  join.boot_counter = boot_counter_;
  join.capabilities.arch = host_arch();
  join.capabilities.cores = std::max(1u, std::thread::hardware_concurrency());
  join.capabilities.memory_budget_bytes = memory_budget_;
  join.capabilities.sample_count = data_.size();
  join.capabilities.codecs = {CodecKind::f32, CodecKind::f16, CodecKind::int8_block, CodecKind::topk};
  join.capabilities.software_version = kSoftwareVersion;
  join.capabilities.backend = static_cast<uint8_t>(static_cast<uint8_t>(backend_) + 1);
  join.capabilities.dataset_bytes = data_.memory_bytes();
  join.capabilities.process_bytes = process_bytes_;
  (void)kSoftwareVersionMajor;
  Result<std::vector<uint8_t>> bytes = encode_message(join);
  if (!bytes) return bytes.status();
  return channel.send(*bytes);
}

void DeviceAgent::resend_outbox(DeviceChannel& channel) {
  Result<std::vector<std::string>> pending = outbox_->list();
  if (!pending) {
    log_("warning: outbox: " + pending.status().to_string());
    return;
  }
  for (const std::string& id : *pending) {
    Result<std::vector<std::byte>> bytes = outbox_->read(id);
    if (!bytes) {
      log_("warning: outbox entry " + id + ": " + bytes.status().to_string());
      continue;
    }
    Status sent = channel.send(std::span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
    if (sent.ok()) ++stats_.updates_resent;
  }
}

Result<DeviceAgent::SessionEnd> DeviceAgent::session(DeviceChannel& channel, const std::atomic<bool>& stop) {
  Rng offline_rng(config_.simulation_seed, hash_text(device_id_) + stats_.connections);
  bool joined = false;
  Clock::time_point now = Clock::now();
  Clock::time_point last_join = now;
  Clock::time_point last_heard = now;
  Clock::time_point last_heartbeat = now;
  Clock::time_point last_resend = now;
  Status join_sent = send_join(channel);
  if (!join_sent.ok()) log_("warning: join not sent: " + join_sent.to_string());
  AlignedBytes scratch;

  while (true) {
    if (stop.load()) {
      Result<std::vector<uint8_t>> bye = encode_message(Bye{ByeReason::shutdown, "device stopping"});
      if (bye) (void)channel.send(*bye);
      return SessionEnd::stopped;
    }

    if (std::optional<TrainingResult> done = worker_->take_result()) {
      if (!done->status.ok()) {
        log_("warning: task " + std::to_string(done->task_id) + " failed: " + done->status.to_string());
      } else {
        const std::string id = outbox_id(done->task_id);
        // Durable before it leaves the device: an update survives a crash or reboot from here on.
        Status stored = outbox_->put(id, std::as_bytes(std::span(done->update_message)));
        if (!stored.ok() && stored.code() != StatusCode::duplicate) return stored.with_context("outbox");
        if (!config_.save_updates_dir.empty()) {
          Status saved = atomic_write_file(*fs_, config_.save_updates_dir + "/" + id + ".update",
                                           std::as_bytes(std::span(done->update_message)));
          if (!saved.ok()) log_("warning: save_updates: " + saved.to_string());
        }
        ++stats_.tasks_trained;
        if (!config_.quiet) {
          char line[160];
          std::snprintf(line, sizeof line, "%s: task %" PRIu64 " trained in %.2f s, loss %.4f",
                        device_id_.c_str(), done->task_id, done->seconds, done->train_loss);
          log_(line);
        }
        (void)channel.send(done->update_message);
        last_resend = Clock::now();
        if (config_.max_tasks != 0 && stats_.tasks_trained >= config_.max_tasks) finishing_ = true;
        if (config_.offline_probability > 0 && offline_rng.uniform() < config_.offline_probability) {
          ++stats_.offline_periods;
          log_(device_id_ + ": going offline for " + std::to_string(config_.offline_s) + " s (simulated)");
          if (!sleep_unless_stopped(seconds_to_ms(config_.offline_s * config_.time_scale), stop)) {
            return SessionEnd::stopped;
          }
          return SessionEnd::reconnect;
        }
      }
    }

    Result<std::optional<Bytes>> received = channel.receive(std::chrono::milliseconds(50));
    now = Clock::now();
    if (!received) {
      log_("warning: receive: " + received.status().to_string());
    } else if (received->has_value()) {
      const Bytes& raw = **received;
      Result<DecodedMessage> decoded = decode_message(raw, scratch);
      if (!decoded) {
        log_("warning: dropped a message from the server: " + decoded.status().to_string());
      } else {
        last_heard = now;
        const Message& message = decoded->message;
        if (const Welcome* welcome = std::get_if<Welcome>(&message)) {
          joined = true;
          joined_this_session_ = true;
          heartbeat_interval_ = std::chrono::milliseconds(welcome->heartbeat_interval_ms);
          peer_timeout_ = std::chrono::milliseconds(welcome->peer_timeout_ms);
          resend_outbox(channel);
          last_resend = now;
        } else if (const Task* task = std::get_if<Task>(&message)) {
          Result<std::vector<std::byte>> stored = outbox_->read(outbox_id(task->task_id));
          if (stored.ok()) {
            // Trained before (maybe before a reboot): send that update, never train twice.
            (void)channel.send(std::span(reinterpret_cast<const uint8_t*>(stored->data()), stored->size()));
          } else if (worker_->working_on() != task->task_id && !finishing_) {
            Status submitted = worker_->submit(task->task_id, std::move(**received));
            if (!submitted.ok()) log_("warning: task " + std::to_string(task->task_id) + ": " + submitted.to_string());
          }
        } else if (const Ack* ack = std::get_if<Ack>(&message)) {
          Status removed = outbox_->remove(outbox_id(ack->update_id));
          if (!removed.ok()) return removed.with_context("outbox");
          ++stats_.updates_acked;
        } else if (const Reject* reject = std::get_if<Reject>(&message)) {
          log_("warning: server rejected " +
               (reject->update_id ? "update " + std::to_string(*reject->update_id) : std::string("a message")) +
               ": " + std::string(status_code_name(reject->reason)) + ": " + reject->message);
          if (reject->reason == StatusCode::version_mismatch) {
            return make_status(StatusCode::version_mismatch, "the server speaks another protocol version");
          }
          if (reject->reason == StatusCode::resource_exhausted && !reject->update_id) {
            return make_status(StatusCode::resource_exhausted, "the server will not assign work: " + reject->message);
          }
          if (reject->reason == StatusCode::unknown_device) {
            joined = false;
            (void)send_join(channel);
            last_join = now;
          }
          if (reject->update_id && final_rejection(reject->reason)) {
            ++stats_.updates_rejected;
            Status removed = outbox_->remove(outbox_id(*reject->update_id));
            if (!removed.ok()) return removed.with_context("outbox");
          }
        } else if (const Bye* bye = std::get_if<Bye>(&message)) {
          if (bye->reason == ByeReason::finished) return SessionEnd::finished;
          return SessionEnd::reconnect;
        }
      }
    }

    if (finishing_ && worker_->working_on() == 0) {
      Result<std::vector<std::string>> pending = outbox_->list();
      if (pending.ok() && pending->empty()) return SessionEnd::finished;
    }
    if (!joined && now - last_join >= heartbeat_interval_) {
      (void)send_join(channel);
      last_join = now;
    }
    if (joined && now - last_heartbeat >= heartbeat_interval_) {
      Heartbeat heartbeat{++heartbeat_sequence_, 0, worker_->working_on()};
      Result<std::vector<uint8_t>> bytes = encode_message(heartbeat);
      if (bytes) (void)channel.send(*bytes);
      last_heartbeat = now;
    }
    if (joined && now - last_resend >= 3 * heartbeat_interval_) {
      resend_outbox(channel);  // acks can be lost too; the server answers a resend with Ack(duplicate)
      last_resend = now;
    }
    if (now - last_heard >= peer_timeout_) {
      log_("warning: " + device_id_ + ": no word from the server for " +
           std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - last_heard).count()) +
           " ms; reconnecting");
      return SessionEnd::reconnect;
    }
  }
}

}  // namespace edgefl::device
