// Federated standardisation through the coordinator, message by message over in-memory
// channels: the statistics phase before round 1, late joiners, refusals, a restart.
#include <doctest/doctest.h>

#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<float> kDelta{0.1f, -0.2f, 0.3f, 0.5f};  // linear:4-1: 4 inputs, 4 parameters

server::ServerConfig federated(uint32_t min_devices) {
  server::ServerConfig config = MemoryServer::config();
  config.standardize.mode = "federated";
  config.min_devices = min_devices;
  return config;
}

// What device `i` reports: 100 samples (as MemoryDevice declares), its own means and spreads.
FeatureMoments moments_of_device(int i) {
  return FeatureMoments{100, {1.0 + i, -2.0 * i, 1e6, 0.25}, {50.0 * (i + 1), 4.0, 0.0, 100.0 + i}};
}

Standardization expected_of(std::initializer_list<int> devices) {
  FeatureMoments total;
  for (int i : devices) REQUIRE(merge_moments(total, moments_of_device(i)).ok());
  return standardization_of(total, 1e-6);
}

TEST_CASE(
    "standardize: no task before every device reported, then every Task carries the merged "
    "statistics") {
  MemoryServer server;
  REQUIRE(server.start(federated(2)).ok());
  MemoryDevice a(server.net, "dev-a"), b(server.net, "dev-b");
  a.join();
  b.join();
  server.deliver();
  for (MemoryDevice* d : {&a, &b}) {
    std::vector<Welcome> welcome = d->take<Welcome>();
    REQUIRE(welcome.size() == 1);
    CHECK(welcome[0].data_statistics_wanted);
  }
  a.send(DataStatistics{moments_of_device(0)});
  server.run_for(1s);  // one report of two: still waiting, and heartbeats hand out nothing
  a.heartbeat(0);
  b.heartbeat(0);
  server.run_for(1s);
  CHECK(a.tasks().empty());
  CHECK(server.coordinator->standardization().empty());

  b.send(DataStatistics{moments_of_device(1)});
  server.deliver();
  server.deliver();
  const Standardization want = expected_of({0, 1});
  CHECK(server.coordinator->standardization() == want);
  for (MemoryDevice* d : {&a, &b}) {
    std::vector<Task> tasks = d->tasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].standardization == want);
    CHECK(tasks[0].standardization.deviation[2] == 1.0);  // a constant feature: centred only
  }

  // A device joining after the statistics were fixed is not asked; it gets them in its Task.
  MemoryDevice late(server.net, "dev-c");
  late.join();
  server.deliver();
  std::vector<Welcome> welcome = late.take<Welcome>();
  REQUIRE(welcome.size() == 1);
  CHECK_FALSE(welcome[0].data_statistics_wanted);
  late.send(DataStatistics{moments_of_device(2)});  // unasked: ignored, nothing is recomputed
  server.deliver();
  CHECK(server.coordinator->standardization() == want);
}

TEST_CASE("standardize: a late joiner trains with the statistics fixed before it came") {
  MemoryServer server;
  REQUIRE(server.start(federated(2)).ok());
  MemoryDevice a(server.net, "dev-a"), b(server.net, "dev-b");
  for (MemoryDevice* d : {&a, &b}) d->join();
  server.deliver();
  a.send(DataStatistics{moments_of_device(0)});
  b.send(DataStatistics{moments_of_device(1)});
  server.deliver();
  server.deliver();
  std::vector<Task> first_a = a.tasks(), first_b = b.tasks();
  REQUIRE(first_a.size() == 1);
  REQUIRE(first_b.size() == 1);

  MemoryDevice late(server.net, "dev-c");
  late.join();
  server.deliver();
  a.answer(first_a[0], kDelta);
  b.answer(first_b[0], kDelta);
  server.deliver();
  server.deliver();
  REQUIRE(server.coordinator->rounds_closed() == 1);
  std::vector<Task> second = late.tasks();
  REQUIRE(second.size() == 1);
  CHECK(second[0].round == 2);
  CHECK(second[0].standardization == expected_of({0, 1}));
}

TEST_CASE(
    "standardize: statistics a device's data cannot have are refused and the device leaves the "
    "run") {
  MemoryServer server;
  REQUIRE(server.start(federated(2)).ok());
  MemoryDevice a(server.net, "dev-a"), b(server.net, "dev-b"), liar(server.net, "dev-liar");
  for (MemoryDevice* d : {&a, &b, &liar}) d->join();
  server.deliver();
  FeatureMoments inflated = moments_of_device(2);
  inflated.count = 1000000;  // declared 100 at Join: it would outweigh everyone
  liar.send(DataStatistics{inflated});
  server.deliver();
  std::vector<Reject> refused = liar.take<Reject>();
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].reason == StatusCode::out_of_range);
  CHECK(refused[0].message.find("declared 100") != std::string::npos);

  a.send(DataStatistics{moments_of_device(0)});
  FeatureMoments narrow{100, {1.0, 2.0}, {1.0, 1.0}};  // 2 features; the model has 4 inputs
  b.send(DataStatistics{narrow});
  server.deliver();
  CHECK(b.take<Reject>().at(0).reason == StatusCode::shape_mismatch);
  // The refused may not come back with other numbers.
  liar.reconnect();
  liar.join();
  server.deliver();
  std::vector<Reject> again = liar.take<Reject>();
  REQUIRE(again.size() == 1);
  CHECK(again[0].reason == StatusCode::failed_precondition);
  CHECK(again[0].message.find("data statistics were refused") != std::string::npos);

  // One honest report of the two min_devices: the phase waits for another device.
  CHECK(server.coordinator->standardization().empty());
  MemoryDevice c(server.net, "dev-c");
  c.join();
  server.deliver();
  c.send(DataStatistics{moments_of_device(3)});
  server.deliver();
  server.deliver();
  CHECK(server.coordinator->standardization() == expected_of({0, 3}));
}

TEST_CASE("standardize: a 1.5 device, which cannot apply it, is refused with the reason") {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config();
  config.standardize.mode = "constants";
  config.standardize.mean = "0.5";
  config.standardize.deviation = "2";
  config.min_devices = 1;
  REQUIRE(server.start(config).ok());
  MemoryDevice old_device(server.net, "old");
  old_device.join(0x0105);
  server.deliver();
  std::vector<Reject> refused = old_device.take<Reject>();
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].reason == StatusCode::version_mismatch);
  CHECK(refused[0].message.find("needs protocol 1.6") != std::string::npos);

  // Constants need no statistics phase: a 1.6 device trains from round 1 with them.
  MemoryDevice device(server.net, "new");
  device.join();
  server.deliver();
  server.deliver();
  CHECK_FALSE(device.take<Welcome>().at(0).data_statistics_wanted);
  std::vector<Task> tasks = device.tasks();
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].standardization == Standardization{{0.5}, {2.0}});
}

TEST_CASE("standardize: a restarted server keeps the fixed statistics and does not ask again") {
  MemoryServer server;
  const server::ServerConfig config = federated(2);
  REQUIRE(server.start(config).ok());
  {
    MemoryDevice a(server.net, "dev-a"), b(server.net, "dev-b");
    for (MemoryDevice* d : {&a, &b}) d->join();
    server.deliver();
    a.send(DataStatistics{moments_of_device(0)});
    b.send(DataStatistics{moments_of_device(1)});
    server.deliver();
    server.deliver();
  }
  const Standardization fixed = server.coordinator->standardization();
  REQUIRE_FALSE(fixed.empty());

  server.coordinator.reset();  // a crash before round 1 closed
  server::ServerConfig resumed = config;
  resumed.resume = true;
  REQUIRE(server.start(resumed).ok());
  CHECK(server.coordinator->standardization() == fixed);
  MemoryDevice a(server.net, "dev-a"), b(server.net, "dev-b");
  for (MemoryDevice* d : {&a, &b}) d->join();
  server.deliver();
  server.deliver();
  for (MemoryDevice* d : {&a, &b}) {
    CHECK_FALSE(d->take<Welcome>().at(0).data_statistics_wanted);
    std::vector<Task> tasks = d->tasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].standardization == fixed);
  }

  // A resume that changes the mode cannot continue the run.
  server.coordinator.reset();
  resumed.standardize.mode = "none";
  Status refused = server.start(resumed);
  CHECK(refused.code() == StatusCode::failed_precondition);
  CHECK(refused.message().find("standardises its data") != std::string::npos);
}

TEST_CASE("standardize: an asynchronous run starts its devices once the statistics are fixed") {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config("fedbuff");
  config.standardize.mode = "federated";
  config.standardize.pooled = true;
  config.min_devices = 2;
  REQUIRE(server.start(config).ok());
  MemoryDevice a(server.net, "dev-a"), b(server.net, "dev-b");
  for (MemoryDevice* d : {&a, &b}) d->join();
  server.deliver();
  a.send(DataStatistics{moments_of_device(0)});
  server.deliver();
  CHECK(a.tasks().empty());
  b.send(DataStatistics{moments_of_device(1)});
  server.deliver();
  server.deliver();
  FeatureMoments total;
  REQUIRE(merge_moments(total, moments_of_device(0)).ok());
  REQUIRE(merge_moments(total, moments_of_device(1)).ok());
  const Standardization pooled = standardization_of(pool_features(total), 1e-6);
  REQUIRE(pooled.mean.size() == 1);
  for (MemoryDevice* d : {&a, &b}) {
    std::vector<Task> tasks = d->tasks();
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].standardization == pooled);
  }
}

}  // namespace
}  // namespace edgefl::testing
