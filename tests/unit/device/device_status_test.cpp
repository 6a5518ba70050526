// The device's status file: written atomically on change at most once a second, read back,
// and printed for `edgefl-device status`.
#include <doctest/doctest.h>

#include "device_status.hpp"
#include "edgefl/store/fault_file_system.hpp"

namespace edgefl::device {
namespace {

using namespace std::chrono_literals;

DeviceStatus busy() {
  DeviceStatus s;
  s.device_id = "pi-kitchen";
  s.pid = 4242;
  s.server = "tcp://10.0.0.1:5555";
  s.connected = true;
  s.training_task = 7;
  s.training_round = 7;
  s.outbox_updates = 1;
  s.tasks_trained = 6;
  s.updates_acked = 6;
  s.eligible = false;
  s.ineligible = "temperature";
  s.why = "temperature 80.0 C, limit 75.0 C, eligible again below 70.0 C";
  s.readings = "temperature 80.0 C; load 0.52 on 4 cores; available memory 3157 MiB; no battery";
  s.last_error = "warning: server rejected update 3: stale: round 3 is closed";
  s.last_error_unix_ms = 1'700'000'000'000;
  return s;
}

TEST_CASE("device status: JSON round trip, and a file that is not a status is refused") {
  DeviceStatus s = busy();
  s.updated_unix_ms = 1'700'000'005'000;
  Result<DeviceStatus> back = parse_device_status(device_status_json(s));
  REQUIRE(back.ok());
  CHECK(*back == s);
  Result<DeviceStatus> bad = parse_device_status(R"({"device_id":"x"})");
  CHECK(bad.status().code() == StatusCode::corrupt);
  CHECK(bad.status().message().find("'pid'") != std::string::npos);
}

TEST_CASE("device status: printed for a terminal") {
  DeviceStatus s = busy();
  s.updated_unix_ms = 1'700'000'005'000;
  const std::string text = format_device_status(s, 1'700'000'007'000);
  CHECK(text.find("device: pi-kitchen (pid 4242)\n") != std::string::npos);
  CHECK(text.find("updated: 2 s ago\n") != std::string::npos);
  CHECK(text.find("server: tcp://10.0.0.1:5555 (connected)\n") != std::string::npos);
  CHECK(text.find("training: round 7 (task 7)\n") != std::string::npos);
  CHECK(text.find("outbox: 1 update(s) waiting for an ack\n") != std::string::npos);
  CHECK(text.find("eligibility: ineligible (temperature): temperature 80.0 C, limit 75.0 C") !=
        std::string::npos);
  CHECK(
      text.find(
          "last error: warning: server rejected update 3: stale: round 3 is closed (7 s ago)\n") !=
      std::string::npos);
}

TEST_CASE("device status: written at once, then on change at most once a second, and every 30 s") {
  FaultFileSystem fs;
  REQUIRE(fs.create_dir("/state").ok());
  StatusFile file(fs, "/state/status.json");
  const SteadyTime t0{};
  DeviceStatus s = busy();
  REQUIRE(file.offer(s, t0, 1000).ok());
  CHECK(read_device_status(fs, "/state/status.json")->updated_unix_ms == 1000);

  s.outbox_updates = 0;  // a change, but within the second
  REQUIRE(file.offer(s, t0 + 500ms, 1500).ok());
  CHECK(read_device_status(fs, "/state/status.json")->outbox_updates == 1);
  REQUIRE(file.offer(s, t0 + 1000ms, 2000).ok());
  CHECK(read_device_status(fs, "/state/status.json")->outbox_updates == 0);

  s.readings = "temperature 81.0 C";  // readings alone are no change
  REQUIRE(file.offer(s, t0 + 5s, 6000).ok());
  CHECK(read_device_status(fs, "/state/status.json")->updated_unix_ms == 2000);
  REQUIRE(file.offer(s, t0 + 31s, 32000).ok());
  CHECK(read_device_status(fs, "/state/status.json")->updated_unix_ms == 32000);
  CHECK(read_device_status(fs, "/state/status.json")->readings == "temperature 81.0 C");

  s.state = "stopped";  // the end is written at once
  REQUIRE(file.offer(s, t0 + 31100ms, 32100, true).ok());
  CHECK(read_device_status(fs, "/state/status.json")->state == "stopped");
}

TEST_CASE("device status: a missing file is not_found") {
  FaultFileSystem fs;
  CHECK(read_device_status(fs, "/nowhere/status.json").status().code() == StatusCode::not_found);
}

}  // namespace
}  // namespace edgefl::device
