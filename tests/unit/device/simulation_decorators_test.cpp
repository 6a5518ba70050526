// The simulate.* settings as decorators: seeded outages around the device's links and a
// slowed trainer around its training.
#include <doctest/doctest.h>

#include <thread>

#include "edgefl/base/rng.hpp"
#include "scripted_server.hpp"
#include "simulated_outage.hpp"
#include "slowed_trainer.hpp"
#include "training_worker.hpp"

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

// A trainer that takes no time but reports `seconds` of compute.
class ReportedTime final : public device::TaskTrainer {
 public:
  ReportedTime(double seconds, Status status) : seconds_(seconds), status_(std::move(status)) {}
  device::TrainingResult train(uint64_t task_id, std::vector<uint8_t>, device::StopSignal&) override {
    called = true;
    device::TrainingResult result;
    result.task_id = task_id;
    result.status = status_;
    result.seconds = seconds_;
    return result;
  }
  std::atomic<bool> called{false};

 private:
  double seconds_;
  Status status_;
};

double timed_train(double seconds, double slowdown, Status status, bool stopped) {
  device::SlowedTaskTrainer slowed(std::make_unique<ReportedTime>(seconds, status), slowdown);
  device::StopSignal stop;
  if (stopped) stop.request();
  const auto started = std::chrono::steady_clock::now();
  device::TrainingResult result = slowed.train(1, {}, stop);
  CHECK(result.seconds == seconds);  // the compute time, as the inner trainer measured it
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

TEST_CASE("slowdown: slowdown times the compute time, no wait after a failure or a stop") {
  CHECK(timed_train(0.01, 3.0, Status(), false) >= 0.02);
  CHECK(timed_train(3600, 2.0, Status(), true) < 60);
  CHECK(timed_train(3600, 2.0, make_status(StatusCode::shape_mismatch, "no"), false) < 60);
}

TEST_CASE("slowdown: destroying the worker ends a slowed task at once") {
  auto inner = std::make_unique<ReportedTime>(3600, Status());
  ReportedTime* seen = inner.get();
  Result<std::unique_ptr<device::TrainingWorker>> worker =
      device::TrainingWorker::create(std::make_unique<device::SlowedTaskTrainer>(std::move(inner), 2.0));
  REQUIRE(worker.ok());
  REQUIRE((*worker)->submit(1, {}).ok());
  CHECK((*worker)->working_on() == 1);
  while (!seen->called.load()) std::this_thread::yield();
  worker->reset();  // would wait an hour if the stop did not reach the slowdown
}

}  // namespace
}  // namespace edgefl::testing
