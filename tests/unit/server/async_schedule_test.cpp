// The asynchronous schedule over in-memory channels with a manual clock.
#include <doctest/doctest.h>

#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<float> kDelta{0.1f, -0.2f, 0.3f, 0.5f};  // linear:4-1 has 4 parameters

TEST_CASE("async: an answer gets the next task at once, and updates staler than the bound are refused") {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config("fedasync");
  config.min_devices = 2;
  config.strategy.max_staleness = 1;
  config.rounds = 50;
  REQUIRE(server.start(config).ok());
  MemoryDevice fast(server.net, "fast");
  MemoryDevice slow(server.net, "slow");
  fast.join();
  slow.join();
  server.deliver();
  Task slow_task = slow.tasks().at(0);
  CHECK(slow_task.model_version == 0);
  // The fast device answers twice: versions 1 and 2; the slow device's base is now 2 behind.
  for (int i = 0; i < 2; ++i) {
    std::vector<Task> tasks = fast.tasks();
    REQUIRE(tasks.size() == 1);
    fast.answer(tasks[0], kDelta);
    server.deliver();
  }
  CHECK(server.coordinator->version() == 2);
  slow.answer(slow_task, kDelta);
  server.deliver();
  std::vector<Reject> rejects = slow.take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::stale);
  CHECK(server.coordinator->version() == 2);
  // Refused, the slow device is handed a fresh task on the current model.
  std::vector<Task> next = slow.tasks();
  REQUIRE(next.size() == 1);
  CHECK(next[0].model_version == 2);
}

TEST_CASE("async: metrics count distinct devices given new tasks per version") {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config("fedasync");
  config.min_devices = 3;
  config.rounds = 5;
  REQUIRE(server.start(config).ok());
  std::vector<std::unique_ptr<MemoryDevice>> devices;
  for (int i = 0; i < 3; ++i) {
    devices.push_back(std::make_unique<MemoryDevice>(server.net, "d" + std::to_string(i)));
    devices.back()->join();
  }
  server.deliver();
  devices[0]->answer(devices[0]->tasks().at(0), kDelta);
  server.deliver();
  REQUIRE(server.coordinator->history().size() == 1);
  // Version 1: the three first tasks plus the answering device's next one, three devices.
  CHECK(server.coordinator->history()[0].asked == 3);
  CHECK(server.coordinator->history()[0].tasks_sent == 3);
}

}  // namespace
}  // namespace edgefl::testing
