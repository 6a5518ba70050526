// The asynchronous server end to end: DeviceAgents on threads over tcp://127.0.0.1, devices
// that drop offline and reconnect, a server restart from checkpoint + WAL, stale refusals.
#include <doctest/doctest.h>

#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "cluster_fixture.hpp"
#include "json_lines.hpp"
#include "serve_loop.hpp"
#include "recording_channel.hpp"
#include "temp_dir.hpp"

namespace edgefl::server {
namespace {

using std::chrono::seconds;
using Steady = std::chrono::steady_clock;

int max_count(const std::map<uint64_t, int>& counts) {
  int most = 0;
  for (const auto& [id, n] : counts) most = std::max(most, n);
  return most;
}

TEST_CASE("fedbuff with reconnecting devices and a server restart applies every acked update exactly once") {
  const testing::TempDir tmp;
  const std::string& dir = tmp.path();
  const uint32_t devices = 4;
  ServerConfig config = test::small_server(dir, devices);
  config.strategy.name = "fedbuff";
  config.strategy.buffer_size = 3;
  config.strategy.max_staleness = 1000;  // nothing refused: every update must land
  config.rounds = 12;
  auto cluster = test::start_devices(dir, devices, [](uint32_t, device::DeviceConfig& d) {
    d.offline_probability = 0.3f;  // seeded: some devices drop right after sending an update
    d.offline_s = 0.3;
  });
  test::RecordingChannel channel(cluster->channel());
  auto first = Coordinator::create(config, posix_file_system(), test::quiet_log);
  REQUIRE(first.ok());
  REQUIRE((*first)->asynchronous());
  const Steady::time_point deadline = Steady::now() + seconds(40);

  // Stop the first server with a partly filled buffer, so the restart must replay the WAL.
  auto mid_buffer = [&] {
    return (*first)->version() >= 4 && channel.accepted.size() % config.strategy.buffer_size != 0;
  };
  REQUIRE(serve(**first, channel, {.deadline = deadline, .stop = mid_buffer}).ok());
  const uint64_t version_at_stop = (*first)->version();
  const std::size_t accepted_at_stop = channel.accepted.size();
  REQUIRE_FALSE((*first)->finished());
  first->reset();
  // As if the server had died after a version's metrics line but before its checkpoint, in the
  // middle of writing the next: resume must drop both, and the run then logs every version once.
  const std::string metrics = config.state_dir + "/metrics.jsonl";
  {
    std::ofstream out(metrics, std::ios::app);
    out << "{\"round\":" << version_at_stop + 1 << ",\"test_accuracy\":0}\n{\"round\":" << version_at_stop + 2;
  }

  config.resume = true;
  auto second = Coordinator::create(config, posix_file_system(), test::quiet_log);
  REQUIRE(second.ok());
  CHECK((*second)->version() == version_at_stop);
  CHECK((*second)->recovery().records == accepted_at_stop % config.strategy.buffer_size);
  REQUIRE(serve(**second, channel, {.deadline = deadline}).ok());
  std::vector<sim::DeviceOutcome> outcomes = cluster->finish(deadline, second->get());

  CHECK((*second)->version() == config.rounds);
  // Each version consumed exactly K updates, and every accepted Ack stands for one of them.
  CHECK(channel.accepted.size() == config.rounds * config.strategy.buffer_size);
  CHECK(max_count(channel.accepted) == 1);
  uint64_t offline = 0;
  for (const sim::DeviceOutcome& outcome : outcomes) {
    CHECK_MESSAGE(outcome.status.ok(), outcome.device_id << ": " << outcome.status.to_string());
    offline += outcome.stats.offline_periods;
  }
  CHECK(offline > 0);  // the run really had devices drop and reconnect
  for (const Reject& reject : channel.rejects) {
    CHECK_MESSAGE(reject.reason != StatusCode::stale, reject.message);
  }
  std::multiset<uint64_t> logged;
  for (const testing::JsonFields& line : testing::read_json_lines(metrics)) {
    const std::optional<int64_t> round = testing::json_int(line, "round");
    REQUIRE(round.has_value());
    logged.insert(static_cast<uint64_t>(*round));
  }
  CHECK(logged.size() == config.rounds);
  for (uint64_t v = 1; v <= config.rounds; ++v) CHECK_MESSAGE(logged.count(v) == 1, "version " << v);
}

TEST_CASE("fedasync refuses updates beyond max_staleness with the reason and still finishes") {
  const testing::TempDir tmp;
  const std::string& dir = tmp.path();
  const uint32_t devices = 3;
  ServerConfig config = test::small_server(dir, devices);
  config.strategy.name = "fedasync";
  config.strategy.staleness = StalenessFunction::hinge;
  config.strategy.max_staleness = 1;
  config.rounds = 40;
  auto cluster = test::start_devices(dir, devices, [](uint32_t index, device::DeviceConfig& d) {
    if (index == 0) d.slowdown = 100;  // the others produce several versions while it trains
  });
  test::RecordingChannel channel(cluster->channel());
  auto coordinator = Coordinator::create(config, posix_file_system(), test::quiet_log);
  REQUIRE(coordinator.ok());
  const Steady::time_point deadline = Steady::now() + seconds(30);
  REQUIRE(serve(**coordinator, channel, {.deadline = deadline}).ok());
  (void)cluster->finish(deadline, coordinator->get());

  CHECK((*coordinator)->version() == config.rounds);
  // FedAsync: one version per applied update.
  CHECK(channel.accepted.size() == config.rounds);
  CHECK(max_count(channel.accepted) == 1);
  bool stale_refusal = false;
  for (const Reject& reject : channel.rejects) {
    if (reject.reason == StatusCode::stale) {
      stale_refusal = true;
      CHECK(reject.message.find("> max 1") != std::string::npos);
      CHECK(reject.update_id.has_value());
    }
  }
  CHECK(stale_refusal);
  for (const RoundMetrics& m : (*coordinator)->history()) {
    CHECK(m.asynchronous);
    CHECK(m.max_staleness <= 1);
  }
}

}  // namespace
}  // namespace edgefl::server
