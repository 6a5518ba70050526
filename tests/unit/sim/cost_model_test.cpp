#include <doctest/doctest.h>

#include "cost_model.hpp"

namespace edgefl::sim {
namespace {

TEST_CASE("from_ratio: a gradient step at the reference batch is one unit, a sync `ratio` units") {
  const uint64_t sync_bytes = 2 * 4 * 203530;
  const CostModel cost = CostModel::from_ratio(10, 32, sync_bytes);
  CHECK(cost.compute.gradient_step(32) == doctest::Approx(1.0));
  CHECK(cost.compute.gradient_step(64) == doctest::Approx(2.0));
  CHECK(cost.link.transfer(sync_bytes) == doctest::Approx(10.0));
  CHECK(cost.link.transfer(sync_bytes / 2) == doctest::Approx(5.0));
}

TEST_CASE("a round lasts as long as its slowest device, pulls cost pull_s") {
  CostModel cost;
  cost.compute = {.step_s = 0.5, .sample_s = 0.01, .pull_s = 0.25};
  cost.link = {.latency_s = 2, .bytes_per_s = 100};
  SimulatedClock clock(cost, 2);
  clock.gradient_step(0, 100);  // 0.5 + 1.0
  clock.gradient_step(0, 100);  // 1.5
  clock.message(0, 200);        // 2 + 2 = 4   -> device 0: 7
  clock.pull_step(1);           // 0.25
  clock.message(1, 1000);       // 2 + 10      -> device 1: 12.25
  CHECK(clock.end_round() == doctest::Approx(12.25));
  clock.gradient_step(0, 0);    // 0.5; device 1 idle
  CHECK(clock.end_round() == doctest::Approx(12.75));
  CHECK(clock.seconds() == doctest::Approx(12.75));
}

}  // namespace
}  // namespace edgefl::sim
