// Small settings shared by the async and PALSGD integration tests: a blobs problem that
// trains in milliseconds, state directories under a given root, a quiet log.
#pragma once

#include <string>

#include "device_config.hpp"
#include "server_config.hpp"

namespace edgefl::test {

inline server::ServerConfig small_server(const std::string& dir, uint32_t devices) {
  server::ServerConfig c;
  c.model = "mlp:16-16-4:relu";
  c.data = "blobs:16:4";
  c.eval_samples = 200;
  c.min_devices = devices;
  c.heartbeat_s = 0.2;
  c.join_timeout_s = 20;
  c.round_deadline_s = 20;
  c.train.optimizer = "sgd";
  c.train.learning_rate = 0.05f;
  c.train.batch_size = 16;
  c.train.local_steps = 5;
  c.state_dir = dir + "/server";
  c.quiet = true;
  return c;
}

inline device::DeviceConfig small_device(const std::string& dir, uint32_t index, uint32_t devices) {
  device::DeviceConfig d;
  d.data = "blobs:16:4";
  d.partition = "iid";
  d.partitions = devices;
  d.partition_index = index;
  d.max_samples = 200;
  d.heartbeat_s = 0.2;
  d.memory_budget = "256M";
  d.state_dir = dir + "/device-" + std::to_string(index);
  d.simulation_seed = 7 + index;
  d.quiet = true;
  return d;
}

inline void quiet_log(const std::string&) {}

}  // namespace edgefl::test
