// Simulation: one Coordinator and N DeviceAgents in one process, each on its own thread,
// talking over real ZeroMQ on tcp://127.0.0.1:* — the same code paths as edgefl-server and
// edgefl-device, for experiments with many devices (edgefl-sim) and end-to-end tests.
//
//   SimulationOptions options;
//   options.server = server_config;            // endpoint is replaced by tcp://127.0.0.1:*
//   options.device = device_template;          // endpoint, partition, state dir set per device
//   options.devices = 10;
//   options.state_root = "/tmp/run";           // server in <root>/server, devices in
//   <root>/device-<i> auto sim = Simulation::start(options); Status end =
//   (*sim)->wait_server(std::chrono::minutes(5));   // ok once the run finished
//   (*sim)->inspect([](const server::Coordinator& c) { ... });    // under the server's lock
//
// With `drive_server` the simulation binds the server's socket but runs no server thread: the
// caller creates coordinators on channel() and serves them (serve_loop.hpp), e.g. to drop one
// mid-run and resume another on the same socket, then collects the devices with finish().
//
// At scale (docs/scale.md): the devices share one copy of the training data (each an index
// list into it), train on a pool of `training_threads` instead of a thread each, may keep
// their outboxes in memory, start on several threads, and one process may run only a slice of
// them against an external server (the other slices in other processes, rank_slice.hpp).
//
// Devices can be stopped (a crash: their link is cut first, so nothing more leaves them) and
// started again on the same state directory (a reboot); the server can be crashed and resumed
// on the same port. Faults: a seeded FaultPlan per device link and/or on the server channel,
// and a `wrap` hook that puts any DeviceChannel decorator around a device's link.
#pragma once

#include <atomic>
#include <future>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent.hpp"
#include "coordinator.hpp"
#include "edgefl/net/fault_transport.hpp"
#include "edgefl/net/net_context.hpp"
#include "edgefl/net/transport.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "edgefl/store/memory_file_system.hpp"
#include "shared_data.hpp"
#include "training_pool.hpp"

namespace edgefl::sim {

// Puts a decorator around device `index`'s fresh link; returns the channel the agent uses.
using ChannelWrapper =
    std::function<std::unique_ptr<DeviceChannel>(uint32_t index, std::unique_ptr<DeviceChannel> link)>;

struct SimulationOptions {
  server::ServerConfig server;   // endpoint and state_dir are set by the simulation
  device::DeviceConfig device;   // template for every device
  uint32_t devices = 2;           // 0: the server only (tests with hand-made clients)
  std::string state_root;        // must exist or be creatable
  // Slow boards: round(slow_fraction * devices) devices, chosen with `seed`, get `slowdown`.
  double slow_fraction = 0;
  double slowdown = 1;
  uint64_t seed = 1;
  std::optional<FaultPlan> device_faults;  // per link; the seed is mixed with device and connection
  std::optional<FaultPlan> server_faults;
  ChannelWrapper wrap;
  // Multiplies the ZeroMQ socket times (send timeout, reconnect, backoff) of the devices.
  double socket_time_scale = 1;
  // Non-empty: devices connect here and no server thread runs (an edgefl-server process).
  std::string external_endpoint;
  // The caller drives coordinators on channel(); no server thread.
  bool drive_server = false;
  // Adjusts device `index`'s configuration after the template; endpoint, partitions,
  // partition_index, state_dir and slowdown are the simulation's and set afterwards.
  std::function<void(uint32_t index, device::DeviceConfig& config)> configure_device;
  // configure_device gives each device data of its own, which it loads whole (one partition).
  bool own_data = false;
  server::LogSink server_log;
  device::LogSink device_log;

  // Scale. Training on a pool of this many threads (0: a thread per device; a slowed device's
  // wait then holds no pool thread).
  uint32_t training_threads = 0;
  // Device state directories (outbox, boot counter) in memory instead of under state_root.
  bool memory_outboxes = false;
  // This process runs devices [first_device, end_device) of `devices` (end 0: all); a slice
  // needs external_endpoint.
  uint32_t first_device = 0;
  uint32_t end_device = 0;
  // Devices are created on this many threads; start() gives up (cancelled) once *cancel is set.
  uint32_t startup_threads = 1;
  const std::atomic<bool>* cancel = nullptr;
};

// How one device's run ended.
struct DeviceOutcome {
  std::string device_id;
  Status status;  // what DeviceAgent::run returned
  device::AgentStats stats;
};

class Simulation {
 public:
  static Result<std::unique_ptr<Simulation>> start(SimulationOptions options);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  std::string server_state_dir() const { return options_.state_root + "/server"; }
  std::string device_state_dir(uint32_t index) const;
  uint32_t device_count() const { return options_.devices; }
  // The devices this process runs: [first_device(), end_device()).
  uint32_t first_device() const { return options_.first_device; }
  uint32_t end_device() const { return options_.end_device; }

  // Waits until the server thread ends: ok when the run finished, the coordinator's error
  // otherwise, timeout if it is still running after `limit`.
  Status wait_server(std::chrono::milliseconds limit);
  // Runs `f(coordinator)` under the lock the server thread polls with.
  void inspect(const std::function<void(const server::Coordinator&)>& f);
  // Destroys the coordinator mid-run without a goodbye (state on disk stays, like a crash).
  void crash_server();
  // A new coordinator on the same state directory and port, with resume = true.
  Status restart_server();

  // Cuts the device's link (nothing more is sent or received), stops and destroys its agent.
  // Returns what the agent's run() returned.
  Status stop_device(uint32_t index);
  // A new DeviceAgent on the device's state directory (a reboot).
  Status start_device(uint32_t index);
  bool device_running(uint32_t index) const;
  // ok once every device's run() ended (the server said the run is over), else timeout.
  Status wait_devices(std::chrono::milliseconds limit);
  // Devices whose run() ended ok: the server told them the run finished.
  uint32_t devices_finished() const;

  // drive_server: the server socket the caller's coordinators use.
  ServerChannel& channel() { return *caller_transport_; }
  // Waits until every device's run() ended or `deadline`, polling `coordinator` meanwhile (if
  // given) so late devices hear Bye; stops the rest. One outcome per device of this process,
  // in index order.
  std::vector<DeviceOutcome> finish(std::chrono::steady_clock::time_point deadline,
                                    server::Coordinator* coordinator = nullptr);

 private:
  struct Device;
  explicit Simulation(SimulationOptions options);
  Status start_server_thread(const std::string& endpoint);
  void serve(std::string endpoint, std::promise<Result<std::string>>* bound);
  device::DeviceConfig device_config(uint32_t index) const;
  Status start_devices();  // this process's slice, on startup_threads
  FileSystem& device_file_system();

  SimulationOptions options_;
  std::unique_ptr<NetContext> context_;
  std::string endpoint_;

  std::mutex server_mutex_;  // held while the coordinator polls; inspect() takes it
  std::unique_ptr<server::Coordinator> coordinator_;
  std::atomic<bool> server_stop_{false};
  std::atomic<bool> server_done_{false};
  Status server_status_;
  std::thread server_thread_;
  bool resume_ = false;

  std::unique_ptr<ServerTransport> caller_transport_;  // drive_server only
  // Before devices_: every agent refers to these, so they go after the agents.
  SharedData data_;
  std::unique_ptr<MemoryFileSystem> memory_fs_;
  std::unique_ptr<device::TrainingPool> pool_;
  std::vector<std::unique_ptr<Device>> devices_;  // one per device index; only the slice runs
  std::vector<bool> slow_;
};

}  // namespace edgefl::sim
