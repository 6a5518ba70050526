// Group commit of the server's write-ahead log: updates that arrive together share one fsync,
// and none of their Acks leaves before it. A crash between the appends and that fsync loses
// only updates nobody acknowledged: their devices resend, and the round ends as without it.
#include <doctest/doctest.h>

#include "edgefl/base/rng.hpp"
#include "edgefl/store/write_ahead_log.hpp"
#include "memory_device.hpp"

namespace edgefl::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kDevices = 5;

std::vector<float> delta_of(std::size_t device) {
  std::vector<float> delta(4);  // linear:4-1 has 4 parameters
  for (std::size_t i = 0; i < delta.size(); ++i)
    delta[i] = 0.01f * static_cast<float>((device + 1) * (i + 1));
  return delta;
}

// The log of round 1 (the generation after an empty state is 1).
const std::string kRoundOneLog = WriteAheadLog::file_path("/state/wal", 1);

struct Fleet {
  MemoryServer server;
  server::ServerConfig config = MemoryServer::config();
  std::vector<std::unique_ptr<MemoryDevice>> devices;
  std::vector<Task> tasks;

  Fleet() {
    config.min_devices = kDevices;
    config.heartbeat_s = 1000;  // liveness never expires within the test
    REQUIRE(server.start(config).ok());
    for (std::size_t i = 0; i < kDevices; ++i) {
      devices.push_back(std::make_unique<MemoryDevice>(server.net, "dev-" + std::to_string(i)));
      devices.back()->join();
    }
    server.deliver();  // joins handled, round 1 opened, tasks sent
    for (auto& device : devices) {
      std::vector<Task> got = device->tasks();
      REQUIRE(got.size() == 1);
      tasks.push_back(got[0]);
    }
  }
  // Every device answers its task; the updates wait in the server's queue together.
  void answer_all() {
    for (std::size_t i = 0; i < kDevices; ++i) devices[i]->answer(tasks[i], delta_of(i));
  }
  // The Acks a device received since the last call: (accepted, duplicate).
  std::pair<std::size_t, std::size_t> acks(std::size_t device) {
    std::pair<std::size_t, std::size_t> n{0, 0};
    for (const Ack& ack : devices[device]->take<Ack>())
      ++(ack.status == AckStatus::accepted ? n.first : n.second);
    return n;
  }
};

// The model of a round over all devices' updates, without faults.
std::vector<float> clean_model() {
  Fleet fleet;
  fleet.answer_all();
  fleet.server.deliver();
  REQUIRE(fleet.server.coordinator->rounds_closed() == 1);
  return {fleet.server.coordinator->global().begin(), fleet.server.coordinator->global().end()};
}

TEST_CASE(
    "group commit: updates that arrive together cost one fsync of the log, then all are "
    "acknowledged") {
  Fleet fleet;
  const uint64_t syncs_before = fleet.server.fs.file_syncs(kRoundOneLog);
  fleet.answer_all();
  fleet.server.deliver();  // polls until the queue is empty (and the round closes)
  CHECK(fleet.server.fs.file_syncs(kRoundOneLog) == syncs_before + 1);
  for (std::size_t i = 0; i < kDevices; ++i)
    CHECK(fleet.acks(i) == std::pair<std::size_t, std::size_t>{1, 0});
  CHECK(fleet.server.coordinator->rounds_closed() == 1);
  // The round's metrics line counts the batch and its one fsync.
  const server::RoundMetrics& round = fleet.server.coordinator->history().back();
  CHECK(round.update_batches == 1);
  CHECK(round.wal_syncs == 1);
}

TEST_CASE("group commit: updates that arrive apart are counted as batches, one fsync each") {
  Fleet fleet;
  for (std::size_t i = 0; i < kDevices; ++i) {
    fleet.devices[i]->answer(fleet.tasks[i], delta_of(i));
    fleet.server.deliver();
  }
  REQUIRE(fleet.server.coordinator->rounds_closed() == 1);
  const server::RoundMetrics& round = fleet.server.coordinator->history().back();
  CHECK(round.update_batches == kDevices);
  CHECK(round.wal_syncs == kDevices);
  CHECK(fleet.server.fs.file_syncs(kRoundOneLog) >= kDevices);
}

TEST_CASE(
    "group commit: a crash between the appends and their fsync loses only updates nobody "
    "acknowledged") {
  const std::vector<float> clean = clean_model();
  Rng rng(20261204, 11);
  for (int trial = 0; trial < 8; ++trial) {
    INFO("trial " << trial << ", 0: unsynced appends dropped, else a random prefix of them kept");
    Fleet fleet;
    FaultFileSystem& fs = fleet.server.fs;
    const Result<std::vector<std::byte>> log_before = fs.contents(kRoundOneLog);
    REQUIRE(log_before.ok());
    fleet.answer_all();
    // Each append is two writes (frame header, record); the operation after them is the fsync.
    fs.fail_from(fs.operation_count() + 2 * kDevices + 1);
    CHECK_FALSE(fleet.server.coordinator->poll(fleet.server.net.server(), 10ms).ok());
    const Result<std::vector<std::byte>> log_after = fs.contents(kRoundOneLog);
    REQUIRE(log_after.ok());
    CHECK(log_after->size() > log_before->size());  // the updates were appended ...
    for (std::size_t i = 0; i < kDevices; ++i) {
      CHECK(fleet.acks(i) ==
            std::pair<std::size_t, std::size_t>{0, 0});  // ... but no Ack left before the fsync
      std::vector<Reject> rejects = fleet.devices[i]->take<Reject>();
      REQUIRE(rejects.size() == 1);
      CHECK(rejects[0].reason == StatusCode::resource_exhausted);
    }

    // Power loss, restart from what survived; the devices rejoin and resend their updates.
    fleet.server.coordinator.reset();
    fs.crash(trial == 0 ? nullptr : &rng);
    fleet.config.resume = true;
    REQUIRE(fleet.server.start(fleet.config).ok());
    for (std::size_t i = 0; i < kDevices; ++i) {
      fleet.devices[i]->reconnect();
      fleet.devices[i]->join();
    }
    fleet.server.deliver();
    fleet.answer_all();
    fleet.server.deliver();
    for (std::size_t i = 0; i < kDevices; ++i) {
      // Accepted now, or a duplicate of a record the crash happened to keep: once either way.
      const auto [accepted, duplicate] = fleet.acks(i);
      CHECK(accepted + duplicate == 1);
    }
    REQUIRE(fleet.server.coordinator->rounds_closed() == 1);
    const std::vector<float> model(fleet.server.coordinator->global().begin(),
                                   fleet.server.coordinator->global().end());
    CHECK(model == clean);  // each update applied exactly once
  }
}

}  // namespace
}  // namespace edgefl::testing
