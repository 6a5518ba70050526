// A device process SIGKILLed mid-run and started again on its state directory: within the
// staleness bound it resumes its persisted step, beyond it it adopts its neighbours' mean.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "json_lines.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kDevices = 3;

std::vector<std::string> server_args(const TempDir& dir, const std::string& staleness_bound) {
  return {"--model",
          "mlp:16-32-4:relu",
          "--data",
          "blobs:16:4",
          "--eval-samples",
          "500",
          "--rounds",
          "500",
          "--round-min-devices",
          std::to_string(kDevices),
          "--seed",
          "5",
          "--strategy-name",
          "dpsgd",
          "--dpsgd-report-interval",
          "10",
          "--dpsgd-step-deadline-s",
          "0.3",
          "--dpsgd-staleness-bound",
          staleness_bound,
          "--dpsgd-offline-s",
          "1",
          "--train-optimizer",
          "sgd",
          "--train-learning-rate",
          "0.05",
          "--train-batch-size",
          "16",
          "--train-local-steps",
          "1",
          "--heartbeat-s",
          "0.2",
          "--quiet",
          "--endpoint",
          "tcp://127.0.0.1:*",
          "--state-dir",
          dir.file("server")};
}

std::unique_ptr<ChildProcess> device(const TempDir& dir, const std::string& endpoint, int i) {
  const std::string id = "dev-" + std::to_string(i);
  return std::make_unique<ChildProcess>(EDGEFL_DEVICE_BINARY,
                                        std::vector<std::string>{"--endpoint",
                                                                 endpoint,
                                                                 "--device-id",
                                                                 id,
                                                                 "--data",
                                                                 "blobs:16:4",
                                                                 "--partition-scheme",
                                                                 "iid",
                                                                 "--partition-count",
                                                                 std::to_string(kDevices),
                                                                 "--partition-index",
                                                                 std::to_string(i),
                                                                 "--state-dir",
                                                                 dir.file("state-" + id),
                                                                 "--peer-listen",
                                                                 "tcp://127.0.0.1:*",
                                                                 "--peer-persist-interval",
                                                                 "1",
                                                                 "--memory-budget",
                                                                 "256M",
                                                                 "--heartbeat-s",
                                                                 "0.2",
                                                                 "--give-up-s",
                                                                 "30"},
                                        dir.file(id + ".log"));
}

// Lines of the metrics file with fewer than all devices (written while one was away).
int partial_lines(const TempDir& dir) {
  int n = 0;
  for (const JsonFields& line : read_json_lines(dir.file("server/metrics.jsonl"))) {
    n += line.count("devices") != 0 && line.at("devices") != std::to_string(kDevices) ? 1 : 0;
  }
  return n;
}

// Runs the federation, SIGKILLs dev-1 after the first metrics line, waits for `away` more
// partial lines, restarts it, and returns the restarted device's log.
std::string kill_and_restart(const std::string& staleness_bound, int away) {
  TempDir dir;
  ChildProcess server(EDGEFL_SERVER_BINARY, server_args(dir, staleness_bound),
                      dir.file("server.log"));
  const std::string endpoint = server.wait_endpoint(20s);
  REQUIRE_MESSAGE(!endpoint.empty(), "edgefl-server did not start: ", server.log_text());
  std::vector<std::unique_ptr<ChildProcess>> devices;
  for (int i = 0; i < kDevices; ++i) devices.push_back(device(dir, endpoint, i));
  REQUIRE(
      wait_until([&] { return !read_json_lines(dir.file("server/metrics.jsonl")).empty(); }, 60s));
  devices[1]->kill();  // SIGKILL: no Bye, no last words
  REQUIRE(wait_until([&] { return partial_lines(dir) >= away; }, 60s));
  const std::string first_log = devices[1]->log_text();
  devices[1] = device(dir, endpoint, 1);
  CHECK_MESSAGE(server.wait(120s) == 0, server.log_text());
  for (auto& d : devices) CHECK(d->wait(30s) == 0);
  const std::vector<JsonFields> lines = read_json_lines(dir.file("server/metrics.jsonl"));
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back().at("devices") == std::to_string(kDevices));
  return devices[1]->log_text().substr(first_log.size());
}

}  // namespace

TEST_CASE(
    "a device SIGKILLed and restarted within the staleness bound resumes its persisted step") {
  const std::string log = kill_and_restart("1000", 0);
  CHECK_MESSAGE(log.find("dev-1: resumed the persisted state of step") != std::string::npos, log);
}

TEST_CASE(
    "a device SIGKILLed and restarted beyond the staleness bound adopts its neighbours' mean") {
  const std::string log = kill_and_restart("2", 2);
  CHECK_MESSAGE(log.find("dev-1: adopted the neighbours' mean at step") != std::string::npos, log);
}
