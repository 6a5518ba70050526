#include <doctest/doctest.h>

#include "child_process.hpp"
#include "e2e_configs.hpp"
#include "relay_runs.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

TEST_CASE(
    "deadline: a slowed device stops its local steps at the Task's deadline and sends them in "
    "time") {
  TempDir dir;
  const std::string state = dir.file("server");
  // 400 local steps a round; the slowed device would need tens of seconds for them.
  std::vector<std::string> args = upstream_server_args(2, 3, "tcp://127.0.0.1:*", state, false);
  for (std::string& arg : args) {
    if (arg == "30") arg = "2";  // --round-deadline-s
  }
  args.insert(args.end(), {"--train-local-steps", "400"});
  ChildProcess server(EDGEFL_SERVER_BINARY, args, dir.file("server.log"));
  const std::string endpoint = server.wait_endpoint(20s);
  REQUIRE(!endpoint.empty());

  sim::SimulationOptions options = blobs_cluster(dir.path(), 3, 2);
  options.external_endpoint = endpoint;
  options.configure_device = [](uint32_t index, device::DeviceConfig& config) {
    if (index == 0) config.slowdown = 2000;  // a step of ~50 us takes ~0.1 s
  };
  auto devices = sim::Simulation::start(options);
  REQUIRE(devices.ok());
  REQUIRE(server.wait(60s) == 0);

  const std::vector<JsonFields> rounds = read_json_lines(state + "/metrics.jsonl");
  REQUIRE(rounds.size() == 2);
  for (const JsonFields& line : rounds) {
    // All three answered, the slowed one with part of its steps, before the 2 s deadline.
    CHECK(json_int(line, "answered") == 3);
    CHECK(json_int(line, "late") == 0);
    CHECK(json_int(line, "partial_updates") == 1);
    CHECK(json_int(line, "local_steps") < 3 * 400);
    CHECK(json_int(line, "local_steps") > 2 * 400);
    auto wall = line.find("wall_s");
    REQUIRE(wall != line.end());
    CHECK(std::stod(wall->second) < 2.0);
  }
}

TEST_CASE(
    "deadline: a relay closes its round before the upstream's deadline and sends what its devices "
    "sent") {
  TempDir dir;
  const std::string upstream_state = dir.file("upstream"), relay_state = dir.file("relay");
  std::vector<std::string> args =
      upstream_server_args(2, 1, "tcp://127.0.0.1:*", upstream_state, false);
  for (std::string& arg : args) {
    if (arg == "30") arg = "2";  // --round-deadline-s
  }
  args.insert(args.end(), {"--train-local-steps", "400"});
  ChildProcess upstream(EDGEFL_SERVER_BINARY, args, dir.file("upstream.log"));
  const std::string upstream_endpoint = upstream.wait_endpoint(20s);
  REQUIRE(!upstream_endpoint.empty());
  // The relay closes 0.6 s before the upstream's deadline: room for its sum to travel on a busy
  // machine.
  std::vector<std::string> relay_args =
      relay_server_args(upstream_endpoint, "relay-a", 3, "tcp://127.0.0.1:*", relay_state, false);
  relay_args.insert(relay_args.end(), {"--upstream-margin-s", "0.6"});
  ChildProcess relay(EDGEFL_SERVER_BINARY, relay_args, dir.file("relay.log"));
  const std::string relay_endpoint = relay.wait_endpoint(20s);
  REQUIRE(!relay_endpoint.empty());

  sim::SimulationOptions options = blobs_cluster(dir.path(), 3, 2);
  options.external_endpoint = relay_endpoint;
  options.configure_device = [](uint32_t index, device::DeviceConfig& config) {
    if (index != 0) return;
    config.slowdown = 2000;
    config.deadline_reserve = 0;  // trains up to the deadline itself: too late for the relay
  };
  auto devices = sim::Simulation::start(options);
  REQUIRE(devices.ok());
  REQUIRE(upstream.wait(60s) == 0);

  const std::vector<JsonFields> rounds = read_json_lines(upstream_state + "/metrics.jsonl");
  REQUIRE(rounds.size() == 2);
  for (const JsonFields& line : rounds) {
    // The relay's sum arrived in time, without the device that kept training to the deadline.
    CHECK(json_int(line, "answered") == 1);
    CHECK(json_int(line, "late") == 0);
    CHECK(json_int(line, "device_updates") == 2);
    auto wall = line.find("wall_s");
    REQUIRE(wall != line.end());
    CHECK(std::stod(wall->second) < 2.0);
  }
}
