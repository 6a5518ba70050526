#include <doctest/doctest.h>

#include <cmath>

#include "e2e_configs.hpp"
#include "e2e_support.hpp"
#include "temp_dir.hpp"

using namespace edgefl;
using namespace edgefl::testing;
using namespace std::chrono_literals;

namespace {

struct LossyRun {
  double accuracy = -1;
  std::vector<float> global;
  uint32_t answered = 0;
};

// 3 devices x 3 rounds of mlp:784-32-10 on Fashion-MNIST (2000 samples each), optionally
// over device links that drop 20% and duplicate 5% of the messages in both directions.
LossyRun fashion_run(bool lossy) {
  TempDir dir;
  sim::SimulationOptions options = blobs_cluster(dir.path(), 3, 3);
  options.server.model = "mlp:784-32-10:relu";
  options.server.data = "fashion-mnist";
  options.server.eval_samples = 2000;
  options.server.round_deadline_s = 40;
  options.device.data = "fashion-mnist";
  options.device.max_samples = 2000;
  options.device.memory_budget = "256M";
  if (lossy) {
    FaultPlan plan;
    plan.seed = 2024;
    plan.drop = 0.2;
    plan.duplicate = 0.05;
    plan.on_send = true;
    plan.on_receive = true;
    options.device_faults = plan;
  }
  auto simulation = sim::Simulation::start(options);
  REQUIRE_MESSAGE(simulation.ok(), simulation.status().to_string());
  Status end = (*simulation)->wait_server(60s);
  REQUIRE_MESSAGE(end.ok(), end.to_string());
  LossyRun result;
  result.global = global_of(**simulation);
  (*simulation)->inspect([&](const server::Coordinator& c) {
    result.accuracy = c.history().back().test_accuracy;
    for (const server::RoundMetrics& round : c.history()) result.answered += round.answered;
  });
  return result;
}

}  // namespace

TEST_CASE("e2e fault: 20% dropped and 5% duplicated messages: training completes within 1 point of clean") {
  LossyRun clean = fashion_run(false);
  LossyRun lossy = fashion_run(true);
  MESSAGE("clean accuracy ", clean.accuracy, ", lossy accuracy ", lossy.accuracy);
  CHECK(clean.accuracy > 0.6);
  CHECK(std::fabs(lossy.accuracy - clean.accuracy) <= 0.01);
  // Every device's update made it into every round despite the losses (resends, task resends
  // after heartbeats), each exactly once: the model is the clean run's, bit for bit.
  CHECK(lossy.answered == 9);
  CHECK(same_bytes(lossy.global, clean.global));
}
