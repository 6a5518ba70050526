// Decentralised training end to end: edgefl-server's topology service and DeviceAgents in peer
// mode, as threads of one process over real loopback sockets (the simulator).
#include <doctest/doctest.h>

#include <cstdlib>

#include "e2e_configs.hpp"
#include "json_lines.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

sim::SimulationOptions dpsgd_cluster(const std::string& root, uint32_t devices, uint32_t steps) {
  sim::SimulationOptions o = blobs_cluster(root, devices, steps);
  o.server.strategy.name = "dpsgd";
  o.server.train.batch_size = 16;
  o.server.train.local_steps = 1;
  o.server.dpsgd.report_interval = 10;
  o.server.dpsgd.snapshot_interval = 10;
  o.server.dpsgd.step_deadline_s = 2;
  o.device.peer_listen = "tcp://127.0.0.1:*";
  return o;
}

double field(const JsonFields& line, const std::string& key) {
  auto it = line.find(key);
  REQUIRE_MESSAGE(it != line.end(), "metrics line without ", key);
  return std::strtod(it->second.c_str(), nullptr);
}

}  // namespace

TEST_CASE(
    "four devices on a ring train to a falling loss, and the server's model is never updated") {
  TempDir dir;
  auto started = sim::Simulation::start(dpsgd_cluster(dir.path(), 4, 60));
  REQUIRE_MESSAGE(started.ok(), started.status().to_string());
  sim::Simulation& simulation = **started;
  std::vector<float> initial;
  simulation.inspect(
      [&](const server::Coordinator& c) { initial.assign(c.global().begin(), c.global().end()); });

  Status end = simulation.wait_server(60s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());
  simulation.inspect([&](const server::Coordinator& c) {
    CHECK(c.version() == 0);
    CHECK(std::equal(initial.begin(), initial.end(), c.global().begin(), c.global().end()));
  });
  const std::vector<JsonFields> lines =
      read_json_lines(simulation.server_state_dir() + "/metrics.jsonl");
  REQUIRE(lines.size() == 6);  // steps 10, 20, ... 60
  for (const JsonFields& line : lines) {
    CHECK(line.at("strategy") == "dpsgd");
    CHECK(field(line, "devices") == 4);
    CHECK(field(line, "bytes_per_step") > 0);
    CHECK(field(line, "consensus_distance") >= 0);
  }
  CHECK(field(lines.back(), "train_loss") < 0.5 * field(lines.front(), "train_loss"));
  CHECK(field(lines.back(), "test_accuracy") > field(lines.front(), "test_accuracy"));
}
