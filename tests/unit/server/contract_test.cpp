// The server's side of docs/protocol.md §6 and §10 where a device depends on the exact answer:
// which code, naming which update id, and what is not answered at all.
#include <doctest/doctest.h>

#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

const std::vector<float> kDelta{0.1f, -0.2f, 0.3f, 0.5f};  // linear:4-1 has 4 parameters

// One joined device with the task of round 1 in hand.
struct Joined {
  MemoryServer server;
  MemoryDevice device{server.net, "dev"};
  Task task;

  explicit Joined(server::ServerConfig config = MemoryServer::config()) {
    config.min_devices = 1;
    config.min_updates = 1;
    config.grace_s = 100;  // round 1 stays open
    REQUIRE(server.start(config).ok());
    device.join();
    server.deliver();
    std::vector<Task> tasks = device.tasks();
    REQUIRE(tasks.size() == 1);
    task = tasks[0];
  }
  // The payload views `delta`: it must outlive the send (kDelta does; a temporary lasts the full expression).
  Update update(uint64_t id, const std::vector<float>& delta = kDelta) const {
    Update u;
    u.update_id = id;
    u.task_id = task.task_id;
    u.round = task.round;
    u.base_version = task.model_version;
    u.sample_count = 100;
    u.metrics.train_loss = 0.5f;
    u.payload = f32_tensor(delta);
    u.run_id = task.run_id;
    u.base_hash = task.base_hash;
    return u;
  }
  Reject only_reject() {
    std::vector<Reject> rejects = device.take<Reject>();
    REQUIRE(rejects.size() == 1);
    return rejects[0];
  }
};

TEST_CASE("contract: a second update id for an answered round is acknowledged under that id") {
  Joined j;
  j.device.send(j.update(41));
  j.device.send(j.update(42));
  j.server.deliver();
  std::vector<Ack> acks = j.device.take<Ack>();
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].update_id == 41);
  CHECK(acks[0].status == AckStatus::accepted);
  CHECK(acks[1].update_id == 42);  // the device clears its outbox entry by this id
  CHECK(acks[1].status == AckStatus::duplicate);
}

TEST_CASE("contract: after the run, a resend under another id is acknowledged under that id, then Bye") {
  server::ServerConfig config = MemoryServer::config();
  config.rounds = 1;
  Joined j(config);
  j.device.send(j.update(41));
  j.server.deliver();  // the only device asked answered: the run is over
  REQUIRE(j.server.coordinator->finished());
  REQUIRE(j.device.take<Ack>().size() == 1);
  j.device.send(j.update(42));
  j.server.deliver();
  std::vector<Ack> acks = j.device.take<Ack>();
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].update_id == 42);
  CHECK(acks[0].status == AckStatus::duplicate);
  CHECK(!j.device.take<Bye>().empty());
}

TEST_CASE("contract: an update for a round that has not opened is stale") {
  Joined j;
  Update ahead = j.update(7);
  ahead.round = j.task.round + 1;
  j.device.send(ahead);
  j.server.deliver();
  Reject reject = j.only_reject();
  CHECK(reject.reason == StatusCode::stale);
  CHECK(reject.update_id == 7);
}

TEST_CASE("contract: asynchronously, an update on a model version not yet made is stale") {
  Joined j(MemoryServer::config("fedasync"));
  Update ahead = j.update(7);
  ahead.base_version = j.task.model_version + 5;
  j.device.send(ahead);
  j.server.deliver();
  Reject reject = j.only_reject();
  CHECK(reject.reason == StatusCode::stale);
  CHECK(reject.update_id == 7);
}

TEST_CASE("contract: an update with one value too many is a shape_mismatch naming its id") {
  Joined j;
  j.device.send(j.update(8, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}));
  j.server.deliver();
  Reject reject = j.only_reject();
  CHECK(reject.reason == StatusCode::shape_mismatch);
  CHECK(reject.update_id == 8);
}

TEST_CASE("contract: a Reject from a device is not answered") {
  Joined j;
  j.device.send(Reject{StatusCode::internal, "device-side trouble", std::nullopt});
  j.device.heartbeat(0);
  j.server.deliver();
  CHECK(j.device.take<Reject>().empty());
  CHECK(j.device.take<Heartbeat>().size() == 1);
}

TEST_CASE("contract: words from a connection that has not joined get unknown_device and count as no rejection") {
  Joined j;
  MemoryDevice stranger(j.server.net, "stranger");
  Update early = j.update(9);
  stranger.send(early);
  stranger.heartbeat(0);
  j.server.deliver();
  std::vector<Reject> rejects = stranger.take<Reject>();
  REQUIRE(rejects.size() == 2);
  CHECK(rejects[0].reason == StatusCode::unknown_device);
  CHECK(rejects[0].update_id == 9);
  CHECK(rejects[1].reason == StatusCode::unknown_device);
  CHECK(!rejects[1].update_id.has_value());
  j.device.send(j.update(10));  // the only device asked answered: the round closes
  j.server.deliver();
  REQUIRE(j.server.coordinator->history().size() == 1);
  CHECK(j.server.coordinator->history()[0].rejected == 0);
}

TEST_CASE("contract: a device that does not declare the run's upload codec is refused at Join") {
  server::ServerConfig config = MemoryServer::config();
  config.codec.kind = CodecKind::int8_block;
  config.min_devices = 5;  // only joins matter
  MemoryServer server;
  REQUIRE(server.start(config).ok());
  MemoryDevice plain(server.net, "plain"), able(server.net, "able");
  Join join;
  join.device_id = "plain";
  join.capabilities.sample_count = 100;
  join.capabilities.codecs = {CodecKind::f32};
  plain.send(join);
  join.device_id = "able";
  join.capabilities.codecs = {CodecKind::f32, CodecKind::int8_block};
  able.send(join);
  server.deliver();
  std::vector<Reject> refused = plain.take<Reject>();
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].reason == StatusCode::failed_precondition);
  CHECK(able.take<Welcome>().size() == 1);
}

}  // namespace
}  // namespace edgefl::testing
