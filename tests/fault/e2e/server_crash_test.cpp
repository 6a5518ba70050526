#include <doctest/doctest.h>

#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "hand_client.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

std::vector<float> delta_for(std::size_t n, float scale) {
  std::vector<float> delta(n);
  for (std::size_t i = 0; i < n; ++i) delta[i] = scale * static_cast<float>(static_cast<int>(i % 5) - 2);
  return delta;
}

// Two hand-made devices; A's update is acknowledged, then (optionally) the server crashes and
// resumes; then B answers. Returns the model after round 1.
std::vector<float> two_device_round(bool crash_after_ack) {
  TempDir dir;
  sim::SimulationOptions options = blobs_cluster(dir.path(), 0, 2);
  options.server.min_devices = 2;
  // Hand-made clients never heartbeat: keep them live for the whole test, however loaded
  // the machine is (a 0.2 s heartbeat counts them gone after 0.6 s of silence).
  options.server.heartbeat_s = 10.0;
  auto simulation = sim::Simulation::start(options);
  REQUIRE(simulation.ok());
  auto context = NetContext::create();
  REQUIRE(context.ok());
  HandClient a(**context, (*simulation)->endpoint());
  HandClient b(**context, (*simulation)->endpoint());
  REQUIRE(a.join("hand-a").ok());
  REQUIRE(b.join("hand-b").ok());
  std::optional<Bytes> task_bytes = a.expect(MessageType::task, 10s);
  REQUIRE(task_bytes.has_value());
  std::optional<TaskFacts> task = task_facts(*task_bytes);
  REQUIRE(task.has_value());
  const std::vector<float> delta_a = delta_for(task->params.size(), 0.001f);
  const std::vector<float> delta_b = delta_for(task->params.size(), -0.0005f);
  Result<std::vector<uint8_t>> update_a = encode_message(make_update(11, 1, task->version, delta_a));
  REQUIRE(update_a.ok());
  REQUIRE(a.send_raw(*update_a).ok());
  std::optional<Bytes> ack = a.expect(MessageType::ack, 10s);
  REQUIRE(ack.has_value());
  REQUIRE(decode_as<Ack>(*ack)->status == AckStatus::accepted);

  if (crash_after_ack) {
    (*simulation)->crash_server();
    REQUIRE((*simulation)->restart_server().ok());
    // The acknowledged update came back from the write-ahead log alone.
    uint64_t replayed = 0;
    std::optional<uint64_t> id;
    (*simulation)->inspect([&](const server::Coordinator& c) {
      replayed = c.recovery().records;
      auto it = c.accepted().find({"hand-a", 1});
      if (it != c.accepted().end()) id = it->second;
    });
    CHECK(replayed == 1);
    CHECK(id == std::optional<uint64_t>(11));
    // Both devices meet a server that does not know them: they join again.
    REQUIRE(a.join("hand-a").ok());
    REQUIRE(a.expect(MessageType::welcome, 10s).has_value());
    // A resend of the acknowledged update is a duplicate, not a second term.
    REQUIRE(a.send_raw(*update_a).ok());
    std::optional<Bytes> again = a.expect(MessageType::ack, 10s);
    REQUIRE(again.has_value());
    CHECK(decode_as<Ack>(*again)->status == AckStatus::duplicate);
    REQUIRE(b.join("hand-b").ok());
  }
  REQUIRE(b.expect(MessageType::task, 10s).has_value());
  REQUIRE(b.send(make_update(21, 1, task->version, delta_b)).ok());
  REQUIRE(b.expect(MessageType::ack, 10s).has_value());
  REQUIRE(wait_until([&] {
    uint64_t closed = 0;
    (*simulation)->inspect([&](const server::Coordinator& c) { closed = c.rounds_closed(); });
    return closed >= 1;
  }, 10s));
  uint32_t answered = 0;
  (*simulation)->inspect([&](const server::Coordinator& c) { answered = c.history().back().answered; });
  CHECK(answered == 2);
  return global_of(**simulation);
}

}  // namespace

TEST_CASE("e2e fault: an update acknowledged before a server crash is replayed from the WAL, once") {
  std::vector<float> crashed = two_device_round(true);
  std::vector<float> undisturbed = two_device_round(false);
  CHECK(same_bytes(crashed, undisturbed));
}

TEST_CASE("e2e fault: a device deletes its outbox entry only after the Ack") {
  TempDir dir;
  LinkTap tap;
  std::atomic<bool> lose_acks{true};
  std::atomic<bool> hold_round_2{true};
  tap.set_filter([&](const DecodedMessage& m) {
    // Acks are lost while `lose_acks`; round 2's task until the test is done with round 1.
    if (m.type() == MessageType::ack) return lose_acks.load();
    const Task* task = std::get_if<Task>(&m.message);
    return task != nullptr && task->round >= 2 && hold_round_2.load();
  });
  sim::SimulationOptions options = blobs_cluster(dir.path(), 1, 2);
  options.wrap = [&tap](uint32_t, std::unique_ptr<DeviceChannel> link) { return tap.wrap(std::move(link)); };
  auto simulation = sim::Simulation::start(options);
  REQUIRE(simulation.ok());
  const std::string outbox_dir = (*simulation)->device_state_dir(0) + "/outbox";
  auto pending = [&] { return outbox_entries(outbox_dir); };
  // The server accepted (and logged) the update; the device has resent it at least once and
  // had the duplicate acknowledged too; every Ack was lost, so the entry is still there.
  REQUIRE(wait_until([&] { return tap.swallowed(MessageType::ack) >= 2; }, 20s));
  bool accepted = false;
  (*simulation)->inspect([&](const server::Coordinator& c) { accepted = c.accepted().count({"device-0", 1}) == 1; });
  CHECK(accepted);
  CHECK(pending() == std::vector<std::string>{"u00000000000000000001"});
  lose_acks = false;
  REQUIRE(wait_until([&] { return pending().empty(); }, 10s));
  hold_round_2 = false;
  Status end = (*simulation)->wait_server(30s);
  CHECK_MESSAGE(end.ok(), end.to_string());
}
