// Decentralised training end to end: edgefl-server's topology service and DeviceAgents in peer
// mode, as threads of one process over real loopback sockets (the simulator).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "e2e_configs.hpp"
#include "json_lines.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

sim::SimulationOptions dpsgd_cluster(const std::string& root, uint32_t devices, uint32_t steps) {
  sim::SimulationOptions o = blobs_cluster(root, devices, steps);
  o.server.strategy.name = "dpsgd";
  o.server.dpsgd.offline_s = 5;  // a line missing a report is written after this
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
  int complete = 0;
  for (const JsonFields& line : lines) {
    CHECK(line.at("strategy") == "dpsgd");
    // A report lost in flight with a dropped link (a loaded machine) leaves one line short.
    complete += field(line, "devices") == 4 ? 1 : 0;
    CHECK(field(line, "bytes_per_step") > 0);
    CHECK(field(line, "consensus_distance") >= 0);
  }
  CHECK(complete >= 5);
  CHECK(field(lines.back(), "train_loss") < 0.5 * field(lines.front(), "train_loss"));
  CHECK(field(lines.back(), "test_accuracy") > field(lines.front(), "test_accuracy"));
}

namespace {

// Collects the devices' log lines (the simulator's devices share one sink).
struct DeviceLog {
  std::mutex mutex;
  std::vector<std::string> lines;
  device::LogSink sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    };
  }
  bool has(const std::string& text) {
    std::lock_guard lock(mutex);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
};

std::vector<JsonFields> metrics_of(sim::Simulation& simulation) {
  return read_json_lines(simulation.server_state_dir() + "/metrics.jsonl");
}

}  // namespace

TEST_CASE(
    "a device restarted within the staleness bound resumes its persisted step and catches up") {
  TempDir dir;
  DeviceLog log;
  sim::SimulationOptions options = dpsgd_cluster(dir.path(), 4, 400);
  options.server.dpsgd.staleness_bound = 1000;  // any gap is within the bound
  options.server.dpsgd.step_deadline_s = 0.3;
  // Reports the cut link lost (the steps before the restart) are waited for this long.
  options.server.dpsgd.offline_s = 2.0;
  options.device.peer_persist_interval = 1;
  options.device.quiet = false;
  options.device_log = log.sink();
  auto started = sim::Simulation::start(options);
  REQUIRE_MESSAGE(started.ok(), started.status().to_string());
  sim::Simulation& simulation = **started;
  REQUIRE(wait_until([&] { return !metrics_of(simulation).empty(); }, 30s));
  (void)simulation.stop_device(1);  // like a crash: no Bye, the link cut
  REQUIRE(simulation.start_device(1).ok());
  Status end = simulation.wait_server(90s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());
  CHECK(log.has("device-1: resumed the persisted state of step"));
  CHECK_FALSE(log.has("device-1: adopted"));
  const std::vector<JsonFields> lines = metrics_of(simulation);
  REQUIRE(lines.size() == 40);
  // device-1 reports again after its restart (a report lost in flight may leave one line short).
  CHECK(std::count_if(lines.begin() + 1, lines.end(),
                      [](const JsonFields& l) { return field(l, "devices") == 4; }) >= 30);
  CHECK(field(lines.back(), "train_loss") < field(lines.front(), "train_loss"));
}

TEST_CASE(
    "a device offline beyond the limit is wired around, and back later than the bound, it adopts "
    "its "
    "neighbours' mean") {
  TempDir dir;
  DeviceLog log;
  sim::SimulationOptions options = dpsgd_cluster(dir.path(), 4, 600);
  options.server.dpsgd.staleness_bound = 2;
  options.server.dpsgd.step_deadline_s = 0.3;
  options.server.dpsgd.offline_s = 1.0;
  options.device.quiet = false;
  options.device_log = log.sink();
  auto started = sim::Simulation::start(options);
  REQUIRE_MESSAGE(started.ok(), started.status().to_string());
  sim::Simulation& simulation = **started;
  REQUIRE(wait_until([&] { return !metrics_of(simulation).empty(); }, 30s));
  const double before = field(metrics_of(simulation).front(), "consensus_distance");
  (void)simulation.stop_device(2);
  // The others keep stepping: first folding device-2's weight, then, after the offline limit,
  // in a new topology of three (lines of three devices).
  auto three_device_lines = [&] {
    int n = 0;
    for (const JsonFields& line : metrics_of(simulation)) n += field(line, "devices") == 3 ? 1 : 0;
    return n;
  };
  REQUIRE(wait_until([&] { return three_device_lines() >= 2; }, 60s));
  REQUIRE(simulation.start_device(2).ok());
  Status end = simulation.wait_server(120s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());
  CHECK(log.has("device-2: adopted the neighbours' mean at step"));
  const std::vector<JsonFields> lines = metrics_of(simulation);
  double missed = 0;
  for (const JsonFields& line : lines) missed += field(line, "missed");
  CHECK(missed > 0);  // the neighbours folded device-2's weight before the re-wire
  CHECK(field(lines.back(), "devices") == 4);
  // Re-wired without device-2, then with it again: two topology epochs after the first line's.
  CHECK(field(lines.back(), "epoch") >= field(lines.front(), "epoch") + 2);
  // Consensus back at the level of before the outage (it does not drift apart).
  CHECK(field(lines.back(), "consensus_distance") < 2 * before + 1e-3);
}

TEST_CASE("simulated outages and a slow device act on DPSGD steps: neighbours fold and the run converges") {
  TempDir dir;
  DeviceLog log;
  sim::SimulationOptions options = dpsgd_cluster(dir.path(), 4, 120);
  options.server.dpsgd.step_deadline_s = 0.2;
  options.server.dpsgd.offline_s = 3.0;
  options.device.offline_probability = 0.03f;  // per step: about 14 outages over the run
  options.device.offline_s = 0.6;              // three step deadlines
  options.device.simulation_seed = 7;
  options.slow_fraction = 0.25;  // one board of four computes three times slower
  options.slowdown = 3;
  options.device.quiet = false;
  options.device_log = log.sink();
  auto started = sim::Simulation::start(options);
  REQUIRE_MESSAGE(started.ok(), started.status().to_string());
  sim::Simulation& simulation = **started;
  Status end = simulation.wait_server(90s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());
  CHECK(log.has("(simulated)"));
  CHECK(log.has("resumed its own state of step"));  // back within the bound, no reset
  const std::vector<JsonFields> lines = metrics_of(simulation);
  REQUIRE(lines.size() >= 10);
  double missed = 0;
  for (const JsonFields& line : lines) missed += field(line, "missed");
  CHECK(missed > 0);  // the neighbours of a device off the network folded its weight
  CHECK(missed < 1e6);  // counters stay monotone across re-wires (no wrapped differences)
  CHECK(field(lines.back(), "train_loss") < 0.5 * field(lines.front(), "train_loss"));
  CHECK(field(lines.back(), "test_accuracy") >= 0.9);
}
