#include "simulation.hpp"

#include "serve_loop.hpp"

#include <algorithm>
#include <future>

#include "edgefl/base/rng.hpp"
#include "edgefl/net/zmq_transport.hpp"

namespace edgefl::sim {

namespace {

// A device link wrapped in fault injection; owns the link FaultyDeviceChannel refers to.
class OwnedFaultyChannel final : public DeviceChannel {
 public:
  OwnedFaultyChannel(std::unique_ptr<DeviceChannel> inner, const FaultPlan& plan)
      : inner_(std::move(inner)), faulty_(*inner_, plan) {}
  Status send(ByteView message) override { return faulty_.send(message); }
  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override {
    return faulty_.receive(timeout);
  }
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override {
    return faulty_.poll_events(wait);
  }

 private:
  std::unique_ptr<DeviceChannel> inner_;
  FaultyDeviceChannel faulty_;
};

// The outermost layer of every device link: once `cut` is set nothing goes in or out, so a
// stopped agent behaves like a killed process (its goodbye never reaches the server).
class CuttableChannel final : public DeviceChannel {
 public:
  CuttableChannel(std::unique_ptr<DeviceChannel> inner, const std::atomic<bool>& cut)
      : inner_(std::move(inner)), cut_(&cut) {}
  Status send(ByteView message) override { return cut_->load() ? Status() : inner_->send(message); }
  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override {
    if (cut_->load()) {
      std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(10)));
      return std::optional<Bytes>();
    }
    return inner_->receive(timeout);
  }
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override {
    return inner_->poll_events(wait);
  }

 private:
  std::unique_ptr<DeviceChannel> inner_;
  const std::atomic<bool>* cut_;
};

template <typename Predicate>
bool wait_for(std::chrono::milliseconds limit, Predicate done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

struct Simulation::Device {
  std::unique_ptr<device::DeviceAgent> agent;
  std::atomic<bool> stop{false};
  std::atomic<bool> cut{false};
  std::atomic<bool> done{false};
  std::atomic<uint64_t> connections{0};
  Status result;
  DeviceOutcome outcome;  // filled when it stops
  std::thread thread;
};

Simulation::Simulation(SimulationOptions options) : options_(std::move(options)) {}

Simulation::~Simulation() {
  for (uint32_t i = 0; i < devices_.size(); ++i) (void)stop_device(i);
  crash_server();
}

std::string Simulation::device_state_dir(uint32_t index) const {
  return options_.state_root + "/device-" + std::to_string(index);
}

Result<std::unique_ptr<Simulation>> Simulation::start(SimulationOptions options) {
  if (!(options.slow_fraction >= 0 && options.slow_fraction <= 1)) {
    return make_status(StatusCode::invalid_argument, "the share of slow devices must be in [0, 1]");
  }
  if (!(options.slowdown >= 1)) return make_status(StatusCode::invalid_argument, "slowdown must be >= 1");
  if (options.state_root.empty()) return make_status(StatusCode::invalid_argument, "no state directory");
  if (options.end_device == 0) options.end_device = options.devices;
  if (options.first_device >= options.end_device || options.end_device > options.devices) {
    if (options.devices != 0) {
      return make_status(StatusCode::invalid_argument,
                         "devices [" + std::to_string(options.first_device) + ", " +
                             std::to_string(options.end_device) + ") are not a slice of the " +
                             std::to_string(options.devices) + " devices");
    }
  }
  const bool slice = options.first_device != 0 || options.end_device != options.devices;
  if (slice && options.external_endpoint.empty()) {
    return make_status(StatusCode::invalid_argument,
                       "a slice of the devices runs against an external server: give its endpoint");
  }
  EDGEFL_RETURN_IF_ERROR(posix_file_system().create_dir(options.state_root));
  std::unique_ptr<Simulation> sim(new Simulation(std::move(options)));
  SimulationOptions& o = sim->options_;
  if (!o.server_log) o.server_log = [](const std::string&) {};
  if (!o.device_log) o.device_log = [](const std::string&) {};

  // Which devices are slow: a seeded partial shuffle, the same for the same seed.
  sim->slow_.assign(o.devices, false);
  std::vector<uint32_t> order(o.devices);
  for (uint32_t i = 0; i < o.devices; ++i) order[i] = i;
  Rng rng(o.seed, 0x51);
  const auto slow_count = static_cast<uint32_t>(o.slow_fraction * o.devices + 0.5);
  for (uint32_t i = 0; i < slow_count; ++i) {
    std::swap(order[i], order[i + rng.below(o.devices - i)]);
    sim->slow_[order[i]] = true;
  }

  // One socket per device link (no link monitors: both ends are ours), the server's, and room
  // for restarts; libzmq's default of 1023 held about 340 monitored devices.
  const int sockets =
      static_cast<int>(std::min<uint64_t>(uint64_t{o.end_device - o.first_device} * 2 + 64, 65535));
  Result<std::unique_ptr<NetContext>> context = NetContext::create(1, sockets);
  if (!context) return context.status();
  if (o.memory_outboxes) sim->memory_fs_ = std::make_unique<MemoryFileSystem>();
  if (o.training_threads > 0)
    sim->pool_ = std::make_unique<device::TrainingPool>(o.training_threads);
  sim->context_ = std::move(*context);
  if (!o.external_endpoint.empty()) {
    sim->endpoint_ = o.external_endpoint;
  } else if (o.drive_server) {
    SocketPolicy policy;
    policy.time_scale = o.server.time_scale;
    policy.link_events = false;
    Result<std::unique_ptr<ServerTransport>> transport =
        ServerTransport::bind(*sim->context_, "tcp://127.0.0.1:*", policy, ServerSecurity{});
    if (!transport) return transport.status();
    sim->caller_transport_ = std::move(*transport);
    sim->endpoint_ = sim->caller_transport_->endpoint();
  } else {
    EDGEFL_RETURN_IF_ERROR(sim->start_server_thread("tcp://127.0.0.1:*"));
  }
  for (uint32_t i = 0; i < o.devices; ++i) sim->devices_.push_back(std::make_unique<Device>());
  EDGEFL_RETURN_IF_ERROR(sim->start_devices());
  return sim;
}

Status Simulation::start_devices() {
  const SimulationOptions& o = options_;
  std::atomic<uint32_t> next{o.first_device};
  std::mutex failed_mutex;
  Status failed;
  auto work = [&] {
    for (uint32_t i = next++; i < o.end_device; i = next++) {
      if (o.cancel != nullptr && o.cancel->load()) {
        std::lock_guard<std::mutex> lock(failed_mutex);
        if (failed.ok())
          failed = make_status(StatusCode::cancelled, "start-up stopped by a signal");
      }
      {
        std::lock_guard<std::mutex> lock(failed_mutex);
        if (!failed.ok()) return;
      }
      Status started = start_device(i).with_context("device " + std::to_string(i));
      if (!started.ok()) {
        std::lock_guard<std::mutex> lock(failed_mutex);
        if (failed.ok()) failed = std::move(started);
      }
    }
  };
  std::vector<std::thread> helpers;
  for (uint32_t t = 1; t < std::max(o.startup_threads, 1u); ++t) helpers.emplace_back(work);
  work();
  for (std::thread& helper : helpers) helper.join();
  return failed;
}

FileSystem& Simulation::device_file_system() {
  return memory_fs_ ? static_cast<FileSystem&>(*memory_fs_) : posix_file_system();
}

Status Simulation::start_server_thread(const std::string& endpoint) {
  std::promise<Result<std::string>> bound;
  std::future<Result<std::string>> bound_future = bound.get_future();
  server_stop_ = false;
  server_done_ = false;
  server_thread_ = std::thread([this, endpoint, &bound] { serve(endpoint, &bound); });
  Result<std::string> where = bound_future.get();
  if (!where) {
    server_thread_.join();
    return where.status();
  }
  endpoint_ = *where;
  return Status();
}

// The server thread: binds, creates the coordinator (its XNNPACK state stays on this thread)
// and polls until the run finishes or crash_server() stops it.
void Simulation::serve(std::string endpoint, std::promise<Result<std::string>>* bound) {
  server::ServerConfig config = options_.server;
  config.endpoint = endpoint;
  config.state_dir = server_state_dir();
  config.resume = config.resume || resume_;
  SocketPolicy policy;
  policy.time_scale = config.time_scale;
  policy.link_events = false;  // the coordinator reads none
  // A restart binds the port the crashed coordinator used; its listener may linger briefly.
  Result<std::unique_ptr<ServerTransport>> transport = make_status(StatusCode::unavailable, "not bound");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    transport = ServerTransport::bind(*context_, endpoint, policy, ServerSecurity{});
    if (transport.ok() || endpoint.find('*') != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < give_up);
  if (!transport) {
    bound->set_value(transport.status());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(server_mutex_);
    Result<std::unique_ptr<server::Coordinator>> created =
        server::Coordinator::create(config, posix_file_system(), options_.server_log);
    if (!created) {
      bound->set_value(created.status());
      return;
    }
    coordinator_ = std::move(*created);
  }
  bound->set_value((*transport)->endpoint());

  std::optional<FaultyServerChannel> faulty;
  if (options_.server_faults) faulty.emplace(**transport, *options_.server_faults);
  ServerChannel& channel = faulty ? static_cast<ServerChannel&>(*faulty) : **transport;
  server::ServeOptions serve_options;
  serve_options.poll_wait = std::chrono::milliseconds(10);
  serve_options.stop = [this] { return server_stop_.load(); };
  serve_options.poll_lock = &server_mutex_;
  Status status = server::serve(*coordinator_, channel, serve_options);
  bool finished = false;
  {
    std::lock_guard<std::mutex> lock(server_mutex_);
    finished = status.ok() && coordinator_->finished();
  }
  server_status_ = finished || !status.ok() ? status : make_status(StatusCode::cancelled, "server stopped");
  if (!finished) {
    // A crash or a failure: the coordinator goes with the thread that built it.
    std::lock_guard<std::mutex> lock(server_mutex_);
    coordinator_.reset();
  }
  server_done_ = true;
}

Status Simulation::wait_server(std::chrono::milliseconds limit) {
  if (!wait_for(limit, [this] { return server_done_.load() || !server_thread_.joinable(); })) {
    return make_status(StatusCode::timeout, "the run did not finish in time");
  }
  if (server_thread_.joinable()) server_thread_.join();
  return server_status_;
}

void Simulation::inspect(const std::function<void(const server::Coordinator&)>& f) {
  std::lock_guard<std::mutex> lock(server_mutex_);
  if (coordinator_) f(*coordinator_);
}

void Simulation::crash_server() {
  server_stop_ = true;
  if (server_thread_.joinable()) server_thread_.join();
  std::lock_guard<std::mutex> lock(server_mutex_);
  coordinator_.reset();
}

Status Simulation::restart_server() {
  crash_server();
  resume_ = true;
  return start_server_thread(endpoint_);
}

device::DeviceConfig Simulation::device_config(uint32_t index) const {
  device::DeviceConfig config = options_.device;
  if (options_.configure_device) options_.configure_device(index, config);
  config.endpoint = endpoint_;
  config.partitions = options_.own_data ? 1 : options_.devices;
  config.partition_index = options_.own_data ? 0 : index;
  // The default id names the partition; with data of their own every device loads partition 0.
  if (options_.own_data && config.device_id.empty())
    config.device_id = "device-" + std::to_string(index);
  config.state_dir = device_state_dir(index);
  if (slow_[index]) config.slowdown = std::max(config.slowdown, options_.slowdown);
  return config;
}

Status Simulation::start_device(uint32_t index) {
  if (index >= devices_.size()) return make_status(StatusCode::out_of_range, "no such device");
  Device& d = *devices_[index];
  if (d.thread.joinable()) return make_status(StatusCode::failed_precondition, "device is running");
  if (index < options_.first_device || index >= options_.end_device) {
    return make_status(StatusCode::out_of_range,
                       "device " + std::to_string(index) + " runs in another process");
  }
  const device::DeviceConfig config = device_config(index);
  Result<device::SharedSamples> samples = data_.samples_for(config);
  if (!samples) return samples.status();
  Result<std::unique_ptr<device::DeviceAgent>> agent = device::DeviceAgent::create(
      config, std::move(*samples), device_file_system(), options_.device_log, pool_.get());
  if (!agent) return agent.status();
  d.agent = std::move(*agent);
  d.stop = false;
  d.cut = false;
  d.done = false;

  SocketPolicy policy;
  policy.time_scale = options_.socket_time_scale;
  policy.link_events = false;  // they report refused keys; the simulation's links have none
  device::ChannelFactory connect = [this, index, policy, &d]() -> Result<std::unique_ptr<DeviceChannel>> {
    Result<std::unique_ptr<DeviceTransport>> transport =
        DeviceTransport::connect(*context_, endpoint_, policy, DeviceSecurity{});
    if (!transport) return transport.status();
    std::unique_ptr<DeviceChannel> link = std::move(*transport);
    const uint64_t connection = d.connections.fetch_add(1);
    if (options_.device_faults) {
      FaultPlan plan = *options_.device_faults;
      plan.seed = splitmix64(plan.seed ^ (uint64_t{index} << 32) ^ connection);
      link = std::make_unique<OwnedFaultyChannel>(std::move(link), plan);
    }
    if (options_.wrap) link = options_.wrap(index, std::move(link));
    return std::unique_ptr<DeviceChannel>(std::make_unique<CuttableChannel>(std::move(link), d.cut));
  };
  d.thread = std::thread([&d, connect] {
    d.result = d.agent->run(connect, d.stop);
    d.done = true;
  });
  return Status();
}

Status Simulation::stop_device(uint32_t index) {
  if (index >= devices_.size()) return make_status(StatusCode::out_of_range, "no such device");
  Device& d = *devices_[index];
  d.cut = true;
  d.stop = true;
  if (d.thread.joinable()) d.thread.join();
  if (d.agent) d.outcome = DeviceOutcome{d.agent->device_id(), d.result, d.agent->stats()};
  d.agent.reset();
  return d.result;
}

bool Simulation::device_running(uint32_t index) const {
  return index < devices_.size() && devices_[index]->thread.joinable() && !devices_[index]->done.load();
}

uint32_t Simulation::devices_finished() const {
  uint32_t finished = 0;
  for (const auto& d : devices_) finished += d->done.load() && d->result.ok() ? 1 : 0;
  return finished;
}

Status Simulation::wait_devices(std::chrono::milliseconds limit) {
  const bool ended = wait_for(limit, [this] {
    for (const auto& d : devices_) {
      if (d->thread.joinable() && !d->done.load()) return false;
    }
    return true;
  });
  if (!ended) return make_status(StatusCode::timeout, "devices still running");
  for (const auto& d : devices_) {
    if (d->thread.joinable()) d->thread.join();
  }
  return Status();
}

std::vector<DeviceOutcome> Simulation::finish(std::chrono::steady_clock::time_point deadline,
                                              server::Coordinator* coordinator) {
  auto all_done = [this] {
    for (const auto& d : devices_) {
      if (d->thread.joinable() && !d->done.load()) return false;
    }
    return true;
  };
  while (!all_done() && std::chrono::steady_clock::now() < deadline) {
    if (coordinator != nullptr && caller_transport_ != nullptr) {
      (void)coordinator->poll(*caller_transport_, std::chrono::milliseconds(20));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::vector<DeviceOutcome> outcomes;
  for (uint32_t i = options_.first_device; i < options_.end_device; ++i) {
    (void)stop_device(i);
    outcomes.push_back(devices_[i]->outcome);
  }
  return outcomes;
}

}  // namespace edgefl::sim
