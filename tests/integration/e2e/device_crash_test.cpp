#include <doctest/doctest.h>

#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "temp_dir.hpp"
#include "wait_until.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

constexpr uint32_t kVictim = 2;
const char* const kFirstUpdate = "u00000000000000000001";  // the outbox id of round 1's update

std::vector<std::string> outbox_of(const std::string& state_dir) { return outbox_entries(state_dir + "/outbox"); }

uint64_t rounds_closed(sim::Simulation& simulation) {
  uint64_t closed = 0;
  simulation.inspect([&](const server::Coordinator& c) { closed = c.rounds_closed(); });
  return closed;
}

// Device kVictim trains round 1, stores its update in the outbox and dies as it sends it: its
// link loses the Update, then the agent is destroyed with its link cut (like kill -9).
struct CrashedRound {
  TempDir dir;
  std::vector<std::unique_ptr<LinkTap>> taps;
  std::unique_ptr<sim::Simulation> simulation;

  explicit CrashedRound(double deadline_s) {
    for (int i = 0; i < 3; ++i) taps.push_back(std::make_unique<LinkTap>());
    sim::SimulationOptions options = blobs_cluster(dir.path(), 3, 3);
    options.server.round_deadline_s = deadline_s;
    options.wrap = [this](uint32_t index, std::unique_ptr<DeviceChannel> link) {
      return taps[index]->wrap(std::move(link));
    };
    taps[kVictim]->set_send_filter([](const DecodedMessage& m) { return m.type() == MessageType::update; });
    auto started = sim::Simulation::start(options);
    REQUIRE_MESSAGE(started.ok(), started.status().to_string());
    simulation = std::move(*started);
    REQUIRE(wait_until([&] { return taps[kVictim]->swallowed_sends(MessageType::update) >= 1; }, 20s));
    CHECK(simulation->stop_device(kVictim).code() == StatusCode::cancelled);
    taps[kVictim]->set_send_filter(nullptr);
    const std::vector<std::string> pending = outbox_of(simulation->device_state_dir(kVictim));
    REQUIRE(pending == std::vector<std::string>{kFirstUpdate});
  }

  std::vector<server::RoundMetrics> finish() {
    Status end = simulation->wait_server(30s);
    REQUIRE_MESSAGE(end.ok(), end.to_string());
    std::vector<server::RoundMetrics> history;
    simulation->inspect([&](const server::Coordinator& c) { history = c.history(); });
    REQUIRE(history.size() == 3);
    return history;
  }

  std::optional<uint64_t> accepted(uint64_t round) {
    std::optional<uint64_t> id;
    simulation->inspect([&](const server::Coordinator& c) {
      auto it = c.accepted().find({"device-" + std::to_string(kVictim), round});
      if (it != c.accepted().end()) id = it->second;
    });
    return id;
  }
};

}  // namespace

TEST_CASE("e2e: a device killed mid-round: the round closes at its deadline, the late update is refused") {
  CrashedRound run(1.5);
  REQUIRE(wait_until([&] { return rounds_closed(*run.simulation) >= 1; }, 10s));
  REQUIRE(run.simulation->start_device(kVictim).ok());  // the reboot, after the round closed
  // The resent update is refused as late, and the device drops it from its outbox.
  REQUIRE(wait_until([&] { return run.taps[kVictim]->received(MessageType::reject) >= 1; }, 10s));
  std::vector<server::RoundMetrics> history = run.finish();
  CHECK(history[0].answered == 2);
  CHECK(history[0].wall_s >= 1.4);  // closed by the deadline, not by the answers
  uint32_t late = 0;
  for (const server::RoundMetrics& round : history) late += round.late;
  CHECK(late == 1);
  CHECK(history[1].answered == 3);
  CHECK(history[2].answered == 3);
  CHECK_FALSE(run.accepted(1).has_value());
  CHECK(run.accepted(2) == std::optional<uint64_t>(2));
  CHECK(wait_until([&] { return outbox_of(run.simulation->device_state_dir(kVictim)).empty(); }, 5s));
}

TEST_CASE("e2e: a device killed mid-round and rebooted in time: its outbox update is applied exactly once") {
  std::vector<float> clean;
  {
    TempDir dir;
    auto simulation = sim::Simulation::start(blobs_cluster(dir.path(), 3, 3));
    REQUIRE(simulation.ok());
    REQUIRE((*simulation)->wait_server(30s).ok());
    clean = global_of(**simulation);
  }
  CrashedRound run(30);
  REQUIRE(run.simulation->start_device(kVictim).ok());  // the reboot, while round 1 waits for it
  std::vector<server::RoundMetrics> history = run.finish();
  CHECK(history[0].answered == 3);
  CHECK(run.accepted(1) == std::optional<uint64_t>(1));
  CHECK(wait_until([&] { return outbox_of(run.simulation->device_state_dir(kVictim)).empty(); }, 5s));
  // Applied once, not twice and not lost: the run ends exactly where an undisturbed one does.
  CHECK(same_bytes(global_of(*run.simulation), clean));
}
