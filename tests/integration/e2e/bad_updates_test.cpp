#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "hand_client.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

struct Logged {
  std::mutex mutex;
  std::vector<std::string> lines;
  bool contains(const std::string& a, const std::string& b) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const std::string& line : lines) {
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
    }
    return false;
  }
};

std::vector<float> good_delta(std::size_t n) {
  std::vector<float> delta(n);
  for (std::size_t i = 0; i < n; ++i) delta[i] = 0.001f * static_cast<float>(i % 7) - 0.002f;
  return delta;
}

void expect_reject(HandClient& client, const Update& update, StatusCode code) {
  REQUIRE(client.send(update).ok());
  std::optional<Bytes> reply = client.expect(MessageType::reject, 10s);
  REQUIRE(reply.has_value());
  std::optional<Reject> reject = decode_as<Reject>(*reply);
  REQUIRE(reject.has_value());
  CHECK_MESSAGE(reject->reason == code, "expected ", status_code_name(code), ", got ",
                status_code_name(reject->reason), ": ", reject->message);
  CHECK(reject->update_id == std::optional<uint64_t>(update.update_id));
}

// One round with a hand-made device "hand-a" that sends `bad` first (when asked) and then one
// good update; returns the global model after the round.
std::vector<float> hand_round(bool send_bad_updates, Logged& logged) {
  TempDir dir;
  sim::SimulationOptions options = blobs_cluster(dir.path(), 0, 2);
  options.server.min_devices = 1;
  options.server.heartbeat_s = 10.0;  // the hand-made client never heartbeats
  options.server_log = [&logged](const std::string& line) {
    std::lock_guard<std::mutex> lock(logged.mutex);
    logged.lines.push_back(line);
  };
  auto simulation = sim::Simulation::start(options);
  REQUIRE(simulation.ok());
  auto context = NetContext::create();
  REQUIRE(context.ok());
  HandClient a(**context, (*simulation)->endpoint());
  HandClient stranger(**context, (*simulation)->endpoint());
  REQUIRE((a.ok() && stranger.ok()));
  REQUIRE(a.join("hand-a").ok());
  REQUIRE(a.expect(MessageType::welcome, 10s).has_value());
  std::optional<Bytes> task_bytes = a.expect(MessageType::task, 10s);
  REQUIRE(task_bytes.has_value());
  std::optional<TaskFacts> task = task_facts(*task_bytes);
  REQUIRE(task.has_value());
  REQUIRE(task->round == 1);
  const std::size_t n = task->params.size();
  const std::vector<float> delta = good_delta(n);

  if (send_bad_updates) {
    const std::vector<float> short_delta(n - 1, 0.0f);
    expect_reject(a, make_update(101, 1, task->version, short_delta), StatusCode::shape_mismatch);
    std::vector<float> nan_delta = delta;
    nan_delta[n / 2] = std::numeric_limits<float>::quiet_NaN();
    expect_reject(a, make_update(102, 1, task->version, nan_delta), StatusCode::non_finite);
    expect_reject(a, make_update(103, 5, task->version, delta), StatusCode::stale);  // round not open
    expect_reject(a, make_update(104, 1, task->version + 3, delta), StatusCode::stale);
    expect_reject(stranger, make_update(105, 1, task->version, delta), StatusCode::unknown_device);
    // The model has not moved, and each refusal was logged with its reason.
    CHECK(same_bytes(global_of(**simulation), task->params));
    CHECK(logged.contains("rejected update 101", "shape_mismatch"));
    CHECK(logged.contains("rejected update 102", "non_finite"));
    CHECK(logged.contains("rejected update 103", "stale"));
    CHECK(logged.contains("rejected update 104", "stale"));
  }

  const Update good = make_update(200, 1, task->version, delta);
  Result<std::vector<uint8_t>> good_bytes = encode_message(good);
  REQUIRE(good_bytes.ok());
  REQUIRE(a.send_raw(*good_bytes).ok());
  std::optional<Bytes> ack_bytes = a.expect(MessageType::ack, 10s);
  REQUIRE(ack_bytes.has_value());
  CHECK(decode_as<Ack>(*ack_bytes)->status == AckStatus::accepted);
  REQUIRE(wait_until([&] {
    uint64_t closed = 0;
    (*simulation)->inspect([&](const server::Coordinator& c) { closed = c.rounds_closed(); });
    return closed >= 1;
  }, 10s));
  std::vector<float> after = global_of(**simulation);

  if (send_bad_updates) {
    // A replay of the applied update (same id, then a new id for the same round) is
    // acknowledged as a duplicate and never applied again.
    REQUIRE(a.send_raw(*good_bytes).ok());
    std::optional<Bytes> again = a.expect(MessageType::ack, 10s);
    REQUIRE(again.has_value());
    CHECK(decode_as<Ack>(*again)->status == AckStatus::duplicate);
    REQUIRE(a.send(make_update(201, 1, task->version, delta)).ok());
    std::optional<Bytes> other_id = a.expect(MessageType::ack, 10s);
    REQUIRE(other_id.has_value());
    CHECK(decode_as<Ack>(*other_id)->update_id == 201);  // the id the device waits for
    CHECK(decode_as<Ack>(*other_id)->status == AckStatus::duplicate);
    // A device that joined late sends an update for the closed round: stale.
    REQUIRE(stranger.join("hand-b").ok());
    REQUIRE(stranger.expect(MessageType::welcome, 10s).has_value());
    expect_reject(stranger, make_update(106, 1, task->version, delta), StatusCode::stale);
    CHECK(same_bytes(global_of(**simulation), after));
  }
  uint32_t rejected = 0;
  (*simulation)->inspect([&](const server::Coordinator& c) { rejected = c.history().at(0).rejected; });
  // Wrong shape, NaN, future round, wrong base version; the unknown device is told to join, not
  // counted (a restarted server hears that from every device).
  CHECK(rejected == (send_bad_updates ? 4u : 0u));
  return after;
}

}  // namespace

TEST_CASE("e2e: bad updates are rejected with the right code, logged, and leave the model unchanged") {
  Logged with_bad, clean;
  std::vector<float> after_bad = hand_round(true, with_bad);
  std::vector<float> after_clean = hand_round(false, clean);
  // The round's model is exactly what the good update alone makes of it.
  CHECK(same_bytes(after_bad, after_clean));
}
