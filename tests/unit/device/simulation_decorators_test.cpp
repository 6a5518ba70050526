// The simulate.* settings as decorators: seeded outages around the device's links and a
// pacer between a slowed board's local steps.
#include <doctest/doctest.h>

#include <thread>

#include "edgefl/base/rng.hpp"
#include "scripted_server.hpp"
#include "simulated_outage.hpp"
#include "step_pacer.hpp"

namespace edgefl::testing {
namespace {

using device::LinkEnd;
using device::UpstreamSession;

device::OutageOptions outage_options(float probability, uint64_t seed = 1, uint64_t stream = 5) {
  device::OutageOptions options;
  options.probability = probability;
  options.offline_s = 0;
  options.seed = seed;
  options.stream = stream;
  options.device_id = "dev";
  return options;
}

TEST_CASE("outage: a new update can take the link down, the session reconnects, a resend draws nothing") {
  SessionRig rig;
  device::SimulatedOutages outages(outage_options(1.0f), {}, [&](const std::string& line) { rig.log.push_back(line); });
  rig.factory = outages.wrap(rig.memory_links(), rig.stop);
  rig.join();
  rig.client.results.emplace_back(4, update_bytes(4));
  CHECK(rig.turn() == LinkEnd::reconnect);
  CHECK(outages.periods() == 1);
  CHECK(rig.server.take<Update>().size() == 1);  // it left before the link went down
  CHECK(rig.log.back() == "dev: going offline for 0.000000 s (simulated)");

  rig.join();  // Welcome: the outbox is resent, which is no new update
  CHECK(rig.server.take<Update>().size() == 1);
  CHECK(rig.run_for(1000ms) == std::nullopt);
  CHECK(outages.periods() == 1);
  rig.client.results.emplace_back(5, update_bytes(5));
  CHECK(rig.turn() == LinkEnd::reconnect);
  CHECK(outages.periods() == 2);
}

TEST_CASE("outage: updates already in the outbox from an earlier run are resends") {
  SessionRig rig;
  const Bytes earlier = update_bytes(4);
  REQUIRE(rig.outbox->put(UpstreamSession::outbox_id(4), std::as_bytes(std::span(earlier))).ok());
  device::SimulatedOutages outages(outage_options(1.0f), rig.pending(), [](const std::string&) {});
  rig.factory = outages.wrap(rig.memory_links(), rig.stop);
  rig.join();
  CHECK(rig.server.take<Update>().size() == 1);
  CHECK(rig.run_for(1000ms) == std::nullopt);
  CHECK(outages.periods() == 0);
}

// Which of updates 1..n take the link down, each sent on its own turn, reconnecting after each.
std::vector<uint64_t> outage_pattern(uint64_t seed, uint64_t stream, uint64_t n) {
  SessionRig rig;
  device::SimulatedOutages outages(outage_options(0.3f, seed, stream), {}, [](const std::string&) {});
  rig.factory = outages.wrap(rig.memory_links(), rig.stop);
  rig.join();
  std::vector<uint64_t> hits;
  for (uint64_t id = 1; id <= n; ++id) {
    rig.client.results.emplace_back(id, update_bytes(id));
    if (rig.turn() == LinkEnd::reconnect) {
      hits.push_back(id);
      rig.join();
    }
  }
  CHECK(outages.periods() == hits.size());
  return hits;
}

TEST_CASE("outage: seeded per device and link, so a run's outages repeat exactly") {
  const std::vector<uint64_t> hits = outage_pattern(7, 99, 40);
  // The rule, replayed: the n-th link draws from Rng(seed, stream + n), once per new update.
  std::vector<uint64_t> expected;
  uint64_t link = 1;
  Rng rng(7, 99 + link);
  for (uint64_t id = 1; id <= 40; ++id) {
    if (rng.uniform() < 0.3f) {
      expected.push_back(id);
      rng = Rng(7, 99 + ++link);
    }
  }
  CHECK(hits == expected);
  CHECK(hits.size() > 3);
  CHECK(hits.size() < 30);
  CHECK(outage_pattern(7, 99, 40) == hits);
  CHECK(outage_pattern(8, 99, 40) != hits);
}

TEST_CASE("outage: a stop cuts the offline wait short") {
  SessionRig rig;
  device::OutageOptions options = outage_options(1.0f);
  options.duration = std::chrono::hours(1);
  device::SimulatedOutages outages(options, {}, [](const std::string&) {});
  rig.factory = outages.wrap(rig.memory_links(), rig.stop);
  rig.connect();
  REQUIRE(rig.link->send(update_bytes(4)).ok());
  CHECK(rig.link->send(update_bytes(5)).code() == StatusCode::unavailable);
  rig.stop = true;
  Result<std::optional<Bytes>> received = rig.link->receive(50ms);
  REQUIRE_FALSE(received.ok());
  CHECK(received.status().code() == StatusCode::unavailable);
}

// A step of `compute` seconds (a sleep), then the pacer's turn; the time the turn took.
double paced_turn(device::StepPacer& pacer, double compute, bool* kept_going = nullptr) {
  std::this_thread::sleep_for(std::chrono::duration<double>(compute));
  const auto started = std::chrono::steady_clock::now();
  const bool more = pacer.keep_going();
  if (kept_going != nullptr) *kept_going = more;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

TEST_CASE("slowdown: each step waits (slowdown - 1) times its compute time") {
  device::StopSignal stop;
  device::StepPacer pacer(3.0, std::nullopt, stop);
  bool more = false;
  CHECK(paced_turn(pacer, 0.02, &more) >= 0.035);  // 2 x 20 ms, less the sleep's own slack
  CHECK(more);
  CHECK(std::chrono::duration<double>(pacer.waited()).count() >= 0.035);
}

TEST_CASE("slowdown: a stop ends the wait at once and no step follows") {
  device::StopSignal stop;
  device::StepPacer pacer(1e6, std::nullopt, stop);  // a step of 10 ms would wait hours
  stop.request();
  bool more = true;
  CHECK(paced_turn(pacer, 0.01, &more) < 5);
  CHECK_FALSE(more);
}

TEST_CASE("deadline: the wait ends at the deadline and no step starts after it") {
  device::StopSignal stop;
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  device::StepPacer pacer(1e6, stop_at, stop);
  bool more = true;
  CHECK(paced_turn(pacer, 0.01, &more) < 5);
  CHECK(std::chrono::steady_clock::now() >= stop_at);
  CHECK_FALSE(more);
}

TEST_CASE("deadline: without a slowdown steps go on until the deadline") {
  device::StopSignal stop;
  device::StepPacer pacer(1.0, std::chrono::steady_clock::now() + std::chrono::milliseconds(60),
                          stop);
  bool more = false;
  CHECK(paced_turn(pacer, 0.0, &more) < 0.05);
  CHECK(more);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  CHECK_FALSE(pacer.keep_going());
}

}  // namespace
}  // namespace edgefl::testing
