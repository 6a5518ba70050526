// Partial-sum updates (a relay's exact sum) folded by the server: a round of two relays' sums
// gives bit for bit the model of the same six updates sent one by one.
#include <doctest/doctest.h>

#include <cstring>

#include "edgefl/aggregate/exact_mean.hpp"
#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

// Mixed magnitudes: a float sum of these depends on the order, the exact sum does not.
const std::vector<std::vector<float>> kDeltas{
    {0.1f, -0.2f, 3e-8f, 1024.5f},   {-7e-3f, 0.25f, 1e-30f, -0.3f}, {5.5f, 1e-9f, -2e-4f, 0.7f},
    {-0.125f, 3.3f, 6e-6f, -1e-12f}, {1e-5f, -9.0f, 0.01f, 2.0f},    {0.3f, 0.3f, -0.3f, 1e-20f}};
const std::vector<uint64_t> kSamples{10, 20, 30, 5, 15, 17};

std::vector<float> flat_model() {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config();
  config.min_devices = 6;
  REQUIRE(server.start(config).ok());
  std::vector<std::unique_ptr<MemoryDevice>> devices;
  for (std::size_t i = 0; i < 6; ++i) {
    devices.push_back(std::make_unique<MemoryDevice>(server.net, "dev-" + std::to_string(i)));
    devices.back()->join();
  }
  server.deliver();
  for (std::size_t i = 0; i < 6; ++i)
    devices[i]->answer(devices[i]->tasks().at(0), kDeltas[i], kSamples[i]);
  server.deliver();
  REQUIRE(server.coordinator->history().size() == 1);
  return {server.coordinator->global().begin(), server.coordinator->global().end()};
}

// What a relay sends for devices [first, first + 3): the exact sum of their weighted deltas.
Update relay_update(const Task& task, std::size_t first) {
  ExactMean sum(4);
  Update update;
  for (std::size_t i = first; i < first + 3; ++i) {
    REQUIRE(sum.add(kDeltas[i], kSamples[i]).ok());
    update.sample_count += kSamples[i];
  }
  update.update_id = task.task_id;
  update.task_id = task.task_id;
  update.round = task.round;
  update.base_version = task.model_version;
  update.metrics.train_loss = 0.5f;
  update.run_id = task.run_id;
  update.base_hash = task.base_hash;
  update.partial_sum.high.assign(sum.high_words().begin(), sum.high_words().end());
  update.partial_sum.low.assign(sum.low_words().begin(), sum.low_words().end());
  update.partial_sum.total_weight = sum.total_weight();
  update.partial_sum.update_count = sum.count();
  return update;
}

// A server whose round waits for two relays, both joined and asked.
struct TwoRelays {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config();
  MemoryDevice first{server.net, "relay-a"};
  MemoryDevice second{server.net, "relay-b"};

  TwoRelays() {
    config.min_devices = 2;
    REQUIRE(server.start(config).ok());
    first.join();
    second.join();
    server.deliver();
  }
  // The global model equals `flat` byte for byte.
  void check_model(const std::vector<float>& flat) {
    const std::span<const float> tiered = server.coordinator->global();
    REQUIRE(tiered.size() == flat.size());
    CHECK(std::memcmp(tiered.data(), flat.data(), flat.size() * sizeof(float)) == 0);
  }
};

TEST_CASE("partial sums: two relays of three devices give the flat model of six, bit for bit") {
  const std::vector<float> flat = flat_model();
  TwoRelays run;
  MemoryServer& server = run.server;
  MemoryDevice& first = run.first;
  MemoryDevice& second = run.second;
  // The second relay's sum arrives first: the order must not matter.
  second.send(relay_update(second.tasks().at(0), 3));
  first.send(relay_update(first.tasks().at(0), 0));
  server.deliver();
  REQUIRE(server.coordinator->history().size() == 1);
  CHECK(server.coordinator->history()[0].answered == 2);
  CHECK(first.take<Ack>().size() == 1);
  CHECK(second.take<Ack>().size() == 1);
  run.check_model(flat);
}

TEST_CASE("partial sums: a server killed after logging one relay's sum resumes to the flat model") {
  const std::vector<float> flat = flat_model();
  TwoRelays run;
  MemoryServer& server = run.server;
  MemoryDevice& first = run.first;
  MemoryDevice& second = run.second;
  const Update logged = relay_update(first.tasks().at(0), 0);
  const Task second_task = second.tasks().at(0);
  first.send(logged);
  server.deliver();
  REQUIRE(first.take<Ack>().size() == 1);  // durable in the write-ahead log
  server.coordinator.reset();              // killed: the open round lives only in the log
  run.config.resume = true;
  REQUIRE(server.start(run.config).ok());
  for (MemoryDevice* relay : {&first, &second}) {
    relay->reconnect();
    relay->join();
  }
  server.deliver();
  first.send(logged);  // its Ack may have been lost: the resend must not count twice
  second.send(relay_update(second_task, 3));
  server.deliver();
  std::vector<Ack> acks = first.take<Ack>();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].status == AckStatus::duplicate);
  REQUIRE(server.coordinator->rounds_closed() == 1);
  run.check_model(flat);
}

TEST_CASE("partial sums: an asynchronous strategy refuses one, naming the strategy") {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config("fedasync");
  config.min_devices = 1;
  REQUIRE(server.start(config).ok());
  MemoryDevice relay(server.net, "relay");
  relay.join();
  server.deliver();
  relay.send(relay_update(relay.tasks().at(0), 0));
  server.deliver();
  std::vector<Reject> rejects = relay.take<Reject>();
  REQUIRE(rejects.size() == 1);
  CHECK(rejects[0].reason == StatusCode::invalid_argument);
  CHECK(rejects[0].message.find("fedasync") != std::string::npos);
  CHECK(relay.take<Ack>().empty());
}

}  // namespace
}  // namespace edgefl::testing
