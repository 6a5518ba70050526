#include <doctest/doctest.h>

#include <set>
#include <string>

#include "edgefl/decentral/topology_service.hpp"

using namespace edgefl;
using namespace std::chrono_literals;

namespace {

TopologyMember member(int i) {
  return {"dev-" + std::to_string(i), "tcp://127.0.0.1:" + std::to_string(6000 + i), ""};
}

// The plan's graph is connected and symmetric, and every row sums to 1.
void check_plan(const TopologyPlan& plan) {
  std::set<std::string> reached = {plan.placements.begin()->first};
  std::vector<std::string> frontier = {plan.placements.begin()->first};
  while (!frontier.empty()) {
    const std::string id = frontier.back();
    frontier.pop_back();
    const MemberPlacement& p = plan.placements.at(id);
    double sum = p.self_weight;
    for (const auto& [n, w] : p.neighbours) {
      sum += w;
      REQUIRE(plan.placements.count(n.device_id) == 1);
      bool back = false;
      for (const auto& [m, v] : plan.placements.at(n.device_id).neighbours)
        back = back || (m.device_id == id && v == w);
      CHECK(back);  // symmetric weights
      if (reached.insert(n.device_id).second) frontier.push_back(n.device_id);
    }
    CHECK(sum == doctest::Approx(1.0));
  }
  CHECK(reached.size() == plan.placements.size());
}

}  // namespace

TEST_CASE("no graph before enough devices join, then one epoch over all of them") {
  ManualTimeSource clock;
  TopologyService service(
      {.kind = TopologyKind::ring, .seed = 5, .min_devices = 4, .offline_limit = 10s});
  for (int i = 0; i < 3; ++i) service.joined(member(i), clock.now());
  CHECK_FALSE(service.rewire(clock.now()).value().has_value());
  service.joined(member(3), clock.now());
  auto plan = service.rewire(clock.now()).value();
  REQUIRE(plan.has_value());
  CHECK(plan->epoch == 1);
  CHECK(plan->placements.size() == 4);
  check_plan(*plan);
  for (const auto& [id, p] : plan->placements) CHECK(p.self_weight == doctest::Approx(1.0 / 3));
  CHECK_FALSE(service.rewire(clock.now()).value().has_value());  // nothing changed
}

TEST_CASE(
    "a device silent beyond the limit is wired around, the graph stays connected, and it returns") {
  ManualTimeSource clock;
  TopologyService service({.kind = TopologyKind::ring,
                           .seed = 9,
                           .min_devices = 6,
                           .offline_limit = 10s});  // gates the first graph only
  for (int i = 0; i < 6; ++i) service.joined(member(i), clock.now());
  auto first = service.rewire(clock.now()).value();
  REQUIRE(first.has_value());
  // dev-2 goes quiet; the others keep talking.
  for (int second = 0; second < 12; ++second) {
    clock.advance(1s);
    for (int i = 0; i < 6; ++i) {
      if (i != 2) service.heard_from(member(i).device_id, clock.now());
    }
    auto plan = service.rewire(clock.now()).value();
    if (second < 10) CHECK_FALSE(plan.has_value());  // within the limit: neighbours fold
  }
  REQUIRE(service.current().has_value());
  const TopologyPlan& second = *service.current();
  CHECK(second.epoch == 2);
  CHECK(second.placements.count("dev-2") == 0);
  CHECK(second.placements.size() == 5);
  check_plan(second);

  service.joined(member(2), clock.now());  // back, maybe after a reboot
  auto third = service.rewire(clock.now()).value();
  REQUIRE(third.has_value());
  CHECK(third->epoch == 3);
  CHECK(third->placements.size() == 6);
  check_plan(*third);
}

TEST_CASE("every kind of graph the service builds is connected, also after devices leave") {
  for (TopologyKind kind : {TopologyKind::ring, TopologyKind::torus, TopologyKind::exponential}) {
    ManualTimeSource clock;
    TopologyService service({.kind = kind, .seed = 3, .min_devices = 2, .offline_limit = 10s});
    for (int i = 0; i < 12; ++i) service.joined(member(i), clock.now());
    REQUIRE(service.rewire(clock.now()).value().has_value());
    for (int i = 0; i < 10; i += 3) {
      service.left(member(i).device_id);
      auto plan = service.rewire(clock.now()).value();
      REQUIRE(plan.has_value());
      CHECK(plan->placements.count(member(i).device_id) == 0);
      check_plan(*plan);
    }
  }
}

TEST_CASE("a re-join with a new endpoint re-wires so the neighbours dial the new address") {
  ManualTimeSource clock;
  TopologyService service(
      {.kind = TopologyKind::ring, .seed = 1, .min_devices = 3, .offline_limit = 10s});
  for (int i = 0; i < 3; ++i) service.joined(member(i), clock.now());
  REQUIRE(service.rewire(clock.now()).value().has_value());
  TopologyMember moved = member(1);
  moved.endpoint = "tcp://127.0.0.1:7001";
  service.joined(moved, clock.now());
  auto plan = service.rewire(clock.now()).value();
  REQUIRE(plan.has_value());
  bool seen = false;
  for (const auto& [n, w] : plan->placements.at("dev-0").neighbours) {
    if (n.device_id == "dev-1") seen = n.endpoint == "tcp://127.0.0.1:7001";
  }
  CHECK(seen);
}
