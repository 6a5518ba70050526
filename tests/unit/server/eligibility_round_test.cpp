// Device eligibility in the round schedule (protocol 1.6), over in-memory channels with a
// manual clock: a device that reads too hot says so in its heartbeat, the server leaves it out
// of rounds, does not wait for it, counts it on the status endpoint, and takes it back once it
// heartbeats eligible.
#include <doctest/doctest.h>

#include <span>

#include "edgefl/store/atomic_file.hpp"
#include "eligibility_monitor.hpp"
#include "memory_device.hpp"
#include "status_render.hpp"
#include "system_probe.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<float> kDelta{0.1f, -0.2f, 0.3f, 0.5f};  // linear:4-1 has 4 parameters
const EligibilityRule kRule{.max_temperature_c = 75, .temperature_hysteresis_c = 5};

// What the device side makes of a board whose thermal zone reads `millidegrees` (the same
// probe and monitor edgefl-device runs, on a faked /sys).
uint32_t reasons_at(device::EligibilityMonitor& monitor, const std::string& millidegrees) {
  FaultFileSystem board;
  REQUIRE(board.create_dir("/sys/class/thermal/thermal_zone0").ok());
  const std::string text = millidegrees + "\n";
  REQUIRE(atomic_write_file(board, "/sys/class/thermal/thermal_zone0/temp",
                            std::as_bytes(std::span(text)))
              .ok());
  return monitor.update(device::SystemProbe(board, "", 4).read());
}

server::ServerConfig config_with_rule() {
  server::ServerConfig config = MemoryServer::config();
  config.min_devices = 2;
  config.eligibility = kRule;
  return config;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST_CASE(
    "eligibility: a device reading 80 C is skipped when the round opens, and asked again once "
    "cool") {
  MemoryServer server;
  REQUIRE(server.start(config_with_rule()).ok());
  MemoryDevice hot{server.net, "hot"}, a{server.net, "a"}, b{server.net, "b"};
  hot.join();
  server.deliver();
  std::vector<Welcome> welcome = hot.take<Welcome>();
  REQUIRE(welcome.size() == 1);
  CHECK(welcome[0].eligibility == kRule);  // the rule reaches the device with its Welcome

  device::EligibilityMonitor monitor;
  monitor.set_rule(welcome[0].eligibility);
  const uint32_t reasons = reasons_at(monitor, "80000");
  CHECK(reasons == kIneligibleTemperature);
  hot.heartbeat(0, reasons);
  a.join();
  a.heartbeat(0);  // a 1.6 device is picked once its first heartbeat says it may train
  server.deliver();
  CHECK(server.coordinator->rounds_closed() == 0);
  CHECK(a.tasks().empty());  // two devices live, one eligible: no round yet

  b.join();
  server.deliver();
  CHECK(b.tasks().empty());  // not before its first heartbeat
  b.heartbeat(0);
  server.deliver();
  CHECK(hot.tasks().empty());
  a.answer(a.tasks().at(0), kDelta);
  b.answer(b.tasks().at(0), kDelta);
  server.deliver();
  REQUIRE(server.coordinator->history().size() == 1);
  CHECK(server.coordinator->history()[0].asked == 2);

  std::shared_ptr<const server::FleetSnapshot> snapshot = server.coordinator->snapshot();
  CHECK(snapshot->devices_eligible() == 2);
  const std::string metrics = server::prometheus_text(*snapshot);
  CHECK(has_line(metrics, "edgefl_devices_eligible 2"));
  CHECK(has_line(metrics, "edgefl_devices_ineligible{reason=\"temperature\"} 1"));
  CHECK(has_line(metrics, "edgefl_devices_ineligible{reason=\"battery\"} 0"));
  CHECK(server::status_json(*snapshot, *server::parse_page_request("1", "50"))
            .find("\"eligible\":false,\"ineligible\":\"temperature\"") != std::string::npos);

  // 72 C is inside the 5 C band: still out. 69 C: back in the next round.
  hot.heartbeat(0, reasons_at(monitor, "72000"));
  a.answer(a.tasks().at(0), kDelta);
  b.answer(b.tasks().at(0), kDelta);
  server.deliver();
  REQUIRE(server.coordinator->history().size() == 2);
  CHECK(hot.tasks().empty());
  hot.heartbeat(0, reasons_at(monitor, "69000"));
  a.answer(a.tasks().at(0), kDelta);
  b.answer(b.tasks().at(0), kDelta);
  server.deliver();
  REQUIRE(server.coordinator->history().size() == 3);
  std::vector<Task> hot_tasks = hot.tasks();
  REQUIRE(hot_tasks.size() == 1);
  CHECK(hot_tasks[0].round == 4);
}

TEST_CASE(
    "eligibility: an asked device that turns ineligible while idle no longer holds the round "
    "open") {
  server::ServerConfig config = config_with_rule();
  config.round_deadline_s = 60;
  MemoryServer server;
  REQUIRE(server.start(config).ok());
  MemoryDevice a{server.net, "a"}, b{server.net, "b"};
  a.join();
  b.join();
  a.heartbeat(0);
  b.heartbeat(0);
  server.deliver();
  Task task_b = b.tasks().at(0);
  a.answer(a.tasks().at(0), kDelta);
  server.deliver();
  CHECK(server.coordinator->rounds_closed() == 0);  // b owes its update

  // b heats up training the task: it finishes and sends it, so the round waits for it...
  b.heartbeat(task_b.task_id, kIneligibleTemperature);
  server.run_for(500ms);
  CHECK(server.coordinator->rounds_closed() == 0);
  // ...but once b says it is idle and ineligible (it will not train the task), the round closes.
  b.heartbeat(0, kIneligibleTemperature);
  server.deliver();
  REQUIRE(server.coordinator->history().size() == 1);
  CHECK(server.coordinator->history()[0].answered == 1);
  // And no Task is resent to it while it stays ineligible.
  server.run_for(3s);
  b.heartbeat(0, kIneligibleTemperature);
  server.deliver();
  CHECK(b.tasks().empty());
}

TEST_CASE(
    "eligibility: while fewer than min_devices are eligible the server waits past join_timeout_s") {
  server::ServerConfig config = config_with_rule();
  config.join_timeout_s = 2;
  MemoryServer server;
  REQUIRE(server.start(config).ok());
  MemoryDevice a{server.net, "a"}, b{server.net, "b"};
  a.join();
  b.join();
  a.heartbeat(0, kIneligibleBattery);
  b.heartbeat(0, kIneligibleBattery);
  for (int i = 0; i < 5; ++i) {  // both stay heard from, both stay on a low battery
    server.run_for(900ms);
    a.heartbeat(0, kIneligibleBattery);
    b.heartbeat(0, kIneligibleBattery);
  }
  server.deliver();
  CHECK(server.coordinator->rounds_closed() == 0);
  CHECK(a.tasks().empty());
  a.heartbeat(0, 0);
  b.heartbeat(0, 0);
  server.deliver();
  CHECK(a.tasks().size() == 1);
  CHECK(b.tasks().size() == 1);
}

TEST_CASE("eligibility: the server refuses a nonsense rule at start, naming the key") {
  server::ServerConfig config = MemoryServer::config();
  config.eligibility.max_temperature_c = 75;
  config.eligibility.temperature_hysteresis_c = 80;
  const Status status = server::validate_server_config(config);
  CHECK(status.code() == StatusCode::invalid_argument);
  CHECK(status.message().find("eligibility.temperature_hysteresis_c") != std::string::npos);
}

}  // namespace
}  // namespace edgefl::testing
