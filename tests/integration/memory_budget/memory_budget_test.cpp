// A training device stays inside its memory budget: the whole process's peak resident set
// (VmHWM, taken from the kernel's accounting of the child: wait4 ru_maxrss), data included.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "temp_dir.hpp"

using edgefl::testing::ChildProcess;
using edgefl::testing::TempDir;

namespace {

// A one-round server on a free loopback port, and the endpoint it listens on ("" if it did not
// start).
std::unique_ptr<ChildProcess> start_server(const TempDir& dir, const std::string& batch, std::string& endpoint,
                                           const std::string& model = "mlp:784-256-128-10") {
  auto server = std::make_unique<ChildProcess>(
      EDGEFL_SERVER_BINARY,
      std::vector<std::string>{"--endpoint", "tcp://127.0.0.1:*", "--rounds", "1", "--round-min-devices", "1",
                               "--data", "none", "--train-optimizer", "sgd", "--train-batch-size", batch,
                               "--train-local-steps", "2", "--model", model, "--state-dir", dir.file("server"),
                               "--quiet"},
      dir.file("server.log"));
  endpoint = server->wait_endpoint(std::chrono::seconds(20));
  return server;
}

}  // namespace

TEST_CASE("memory budget: a training device's peak resident memory stays within 24, 32 and 64 MB") {
  // A 4096-sample logical batch makes the budget, not the batch, decide the micro-batch.
  for (const char* budget : {"24M", "32M", "64M"}) {
    CAPTURE(budget);
    TempDir dir;
    std::string endpoint;
    std::unique_ptr<ChildProcess> server = start_server(dir, "4096", endpoint);
    REQUIRE_FALSE(endpoint.empty());
    ChildProcess device(EDGEFL_DEVICE_BINARY,
                        {"--endpoint", endpoint, "--memory-budget", budget, "--model", "mlp:784-256-128-10",
                         "--partition-scheme", "iid", "--partition-count", "10", "--state-dir", dir.file("device"),
                         "--max-tasks", "1"},
                        dir.file("device.log"));
    const int device_exit = device.wait(std::chrono::seconds(150));
    const int server_exit = server->wait(std::chrono::seconds(20));
    INFO(device.log_text());
    CHECK(device_exit == 0);
    CHECK(server_exit == 0);
    const long budget_kb = std::stol(budget) * 1024;
    MESSAGE("budget " << budget << ": peak " << device.max_rss_kb() / 1024.0 << " MB");
    CHECK(device.max_rss_kb() > budget_kb / 4);  // it really trained
    CHECK(device.max_rss_kb() <= budget_kb);
  }
}

TEST_CASE("memory budget: a budget too small for one sample is refused at start, saying what is needed") {
  TempDir dir;
  ChildProcess device(EDGEFL_DEVICE_BINARY,
                      {"--endpoint", "tcp://127.0.0.1:9", "--memory-budget", "8M", "--model", "mlp:784-256-128-10",
                       "--state-dir", dir.file("device")},
                      dir.file("device.log"));
  CHECK(device.wait(std::chrono::seconds(60)) == 2);
  CHECK(device.log_text().find("resource_exhausted: memory budget 8.0 MB is too small: need at least") !=
        std::string::npos);
}

TEST_CASE("memory budget: a device training the small CNN stays within 24 MB") {
  // The model reaches the device as the task's model spec string: no wire change.
  const std::string model = "in:28x28x1 conv3x3x8 relu maxpool2 conv3x3x16 relu maxpool2 flatten dense10 loss:xent";
  TempDir dir;
  std::string endpoint;
  std::unique_ptr<ChildProcess> server = start_server(dir, "4096", endpoint, model);
  REQUIRE_FALSE(endpoint.empty());
  ChildProcess device(EDGEFL_DEVICE_BINARY,
                      {"--endpoint", endpoint, "--memory-budget", "24M", "--model", model, "--partition-scheme", "iid",
                       "--partition-count", "10", "--state-dir", dir.file("device"), "--max-tasks", "1"},
                      dir.file("device.log"));
  const int device_exit = device.wait(std::chrono::seconds(150));
  const int server_exit = server->wait(std::chrono::seconds(20));
  INFO(device.log_text());
  CHECK(device_exit == 0);
  CHECK(server_exit == 0);
  MESSAGE("small CNN, budget 24M: peak " << device.max_rss_kb() / 1024.0 << " MB");
  CHECK(device.max_rss_kb() > 24 * 1024 / 4);  // it really trained
  CHECK(device.max_rss_kb() <= 24 * 1024);
}
