// Small settings shared by the async and PALSGD integration tests: a blobs problem that
// trains in milliseconds, state directories under a given root, a quiet log.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>

#include "device_config.hpp"
#include "server_config.hpp"
#include "simulation.hpp"

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
  c.train.optimizer = OptimizerKind::sgd;
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

// `devices` small_device()s on threads against a server socket the test drives
// (Simulation::channel()); `tweak` adjusts device i's configuration.
inline std::unique_ptr<sim::Simulation> start_devices(
    const std::string& dir, uint32_t devices,
    const std::function<void(uint32_t, device::DeviceConfig&)>& tweak = {}) {
  sim::SimulationOptions options;
  options.drive_server = true;
  options.devices = devices;
  options.state_root = dir;
  options.device = small_device(dir, 0, devices);
  options.configure_device = [tweak](uint32_t index, device::DeviceConfig& config) {
    config.simulation_seed = 7 + index;
    if (tweak) tweak(index, config);
  };
  Result<std::unique_ptr<sim::Simulation>> simulation = sim::Simulation::start(std::move(options));
  REQUIRE(simulation.ok());
  return std::move(*simulation);
}

}  // namespace edgefl::test
