// Settings shared by the end-to-end tests: a small blobs problem that trains in milliseconds.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "simulation.hpp"

namespace edgefl::testing {

inline server::ServerConfig blobs_server(uint32_t rounds, uint32_t devices) {
  server::ServerConfig c;
  c.model = "mlp:16-32-4:relu";
  c.data = "blobs:16:4";
  c.eval_samples = 1000;
  c.rounds = rounds;
  c.min_devices = devices;
  c.round_deadline_s = 30;
  c.grace_s = 0;
  c.join_timeout_s = 30;
  c.heartbeat_s = 0.2;
  c.train.optimizer = OptimizerKind::sgd;
  c.train.learning_rate = 0.05f;
  c.quiet = true;
  return c;
}

inline device::DeviceConfig blobs_device() {
  device::DeviceConfig d;
  d.data = "blobs:16:4";
  d.partition = "iid";
  // The plan counts the whole process's resident size, and these devices share one process
  // with the server and each other (under ASan that alone passes 64 MB): room enough for that.
  d.memory_budget = "512M";
  d.heartbeat_s = 0.2;
  d.quiet = true;
  return d;
}

inline sim::SimulationOptions blobs_cluster(const std::string& root, uint32_t devices, uint32_t rounds) {
  sim::SimulationOptions o;
  o.server = blobs_server(rounds, devices);
  o.device = blobs_device();
  o.devices = devices;
  o.state_root = root;
  o.socket_time_scale = 0.1;  // sends to a dead server fail in 0.5 s, reconnects start at 0.1 s
  if (std::getenv("EDGEFL_E2E_LOG") != nullptr) {  // for debugging a failing scenario
    o.server.quiet = false;
    o.device.quiet = false;
    o.server_log = [](const std::string& line) { std::fprintf(stderr, "server: %s\n", line.c_str()); };
    o.device_log = [](const std::string& line) { std::fprintf(stderr, "device: %s\n", line.c_str()); };
  }
  return o;
}

inline std::vector<float> global_of(sim::Simulation& simulation) {
  std::vector<float> out;
  simulation.inspect([&](const server::Coordinator& c) { out.assign(c.global().begin(), c.global().end()); });
  return out;
}

inline bool same_bytes(const std::vector<float>& a, const std::vector<float>& b) {
  return !a.empty() && a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace edgefl::testing
