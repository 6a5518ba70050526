// LocalCluster: a server transport and DeviceAgents on threads in one process, over
// tcp://127.0.0.1 — for integration tests and experiments (library edgefl_local_cluster).
//
//   auto cluster = LocalCluster::start();                       // binds tcp://127.0.0.1:*
//   config.endpoint = cluster->endpoint();
//   auto coordinator = Coordinator::create(config, posix_file_system(), log);
//   for (auto& d : devices) cluster->add_device(d, log);        // endpoint filled in
//   Status s = serve(**coordinator, cluster->channel(), {.deadline = deadline});   // serve_loop.hpp
//   std::vector<DeviceOutcome> outcomes = cluster->join_devices(deadline, coordinator->get());
//
// The coordinator is not owned: a test may drop it and create a fresh one from the state
// directory (a server restart) while the devices keep running against the same socket.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent.hpp"
#include "coordinator.hpp"
#include "serve_loop.hpp"
#include "edgefl/net_context.hpp"
#include "edgefl/zmq_transport.hpp"

namespace edgefl::server {

struct DeviceOutcome {
  std::string device_id;
  Status status;            // what DeviceAgent::run returned
  device::AgentStats stats;
};

class LocalCluster {
 public:
  static Result<std::unique_ptr<LocalCluster>> start(double time_scale = 1.0);
  ~LocalCluster();  // stops and joins any device still running

  const std::string& endpoint() const { return transport_->endpoint(); }
  ServerChannel& channel() { return *transport_; }

  // Creates the agent (loads its data) and runs it on its own thread.
  Status add_device(device::DeviceConfig config, device::LogSink log);
  // Waits until every device returned or `deadline`; then stops the rest. One entry per device.
  // With a finished `coordinator`, keeps polling it meanwhile so late devices hear Bye.
  std::vector<DeviceOutcome> join_devices(std::chrono::steady_clock::time_point deadline,
                                          Coordinator* coordinator = nullptr);

 private:
  struct Running;
  LocalCluster() = default;

  std::unique_ptr<NetContext> context_;
  std::unique_ptr<ServerTransport> transport_;
  SocketPolicy policy_;
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<Running>> devices_;
};

}  // namespace edgefl::server
