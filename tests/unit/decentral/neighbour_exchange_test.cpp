#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/decentral/neighbour_exchange.hpp"
#include "edgefl/optim/optimizer.hpp"

using namespace edgefl;
using namespace std::chrono_literals;

namespace {

ExchangeSettings settings() {
  return ExchangeSettings{.deadline = 200ms, .staleness_bound = 2};
}

// A device with neighbours "left" and "right" at 1/3 each, over a model of `p` parameters.
NeighbourExchange ring_node(const TimeSource& clock, std::size_t p = 2) {
  return NeighbourExchange::create(settings(), /*epoch=*/1, 1.0 / 3,
                                   {{"left", 1.0 / 3}, {"right", 1.0 / 3}}, p, clock)
      .value();
}

PeerModelIn model(std::string from, uint64_t step, std::span<const float> values,
                  uint64_t epoch = 1) {
  return PeerModelIn{std::move(from), epoch, step, false, values};
}

}  // namespace

TEST_CASE("the exchange refuses models it must not mix, and says why") {
  ManualTimeSource clock;
  NeighbourExchange ex = ring_node(clock);
  const std::vector<float> good = {1.0f, 2.0f},
                           nan = {1.0f, std::numeric_limits<float>::quiet_NaN()},
                           longer = {1.0f, 2.0f, 3.0f};
  REQUIRE(ex.begin_step(5).ok());
  CHECK(ex.offer(model("stranger", 5, good)).code() == StatusCode::unknown_device);
  CHECK(ex.offer(model("left", 5, good, /*epoch=*/0)).code() == StatusCode::stale);
  CHECK(ex.offer(model("left", 5, good, /*epoch=*/2)).code() == StatusCode::failed_precondition);
  CHECK(ex.offer(model("left", 4, good)).code() == StatusCode::stale);
  CHECK(ex.offer(model("left", 8, good)).code() == StatusCode::out_of_range);  // bound 2: 5..7
  CHECK(ex.offer(model("left", 5, nan)).code() == StatusCode::non_finite);
  CHECK(ex.offer(model("left", 5, longer)).code() == StatusCode::shape_mismatch);
  CHECK(ex.counters().refused == 7);
  CHECK(ex.counters().received == 0);
  CHECK(ex.offer(model("left", 5, good)).ok());
  CHECK(ex.offer(model("left", 5, good)).code() == StatusCode::duplicate);
  CHECK(ex.offer(model("left", 7, good)).ok());  // a faster neighbour, within the bound
  CHECK(ex.counters().received == 2);
  auto refused = ex.offer(model("stranger", 5, good));
  CHECK(refused.message().find("stranger") != std::string::npos);
}

TEST_CASE("a step waits for every neighbour until its deadline, then folds the missing ones") {
  ManualTimeSource clock;
  NeighbourExchange ex = ring_node(clock);
  const std::vector<float> v = {1.0f, 2.0f};
  REQUIRE(ex.begin_step(0).ok());
  REQUIRE(ex.offer(model("left", 0, v)).ok());
  CHECK_FALSE(ex.complete());
  CHECK(ex.finish().status().code() == StatusCode::failed_precondition);
  clock.advance(199ms);
  CHECK_FALSE(ex.deadline_passed());
  clock.advance(1ms);
  CHECK(ex.deadline_passed());
  auto out = ex.finish();
  REQUIRE(out.ok());
  CHECK(out->row.sum() == doctest::Approx(1.0));
  CHECK(out->row.self_weight == doctest::Approx(2.0 / 3));
  CHECK(out->missed == std::vector<std::string>{"right"});
  CHECK(out->models[0].size() == 2);
  CHECK(out->models[1].empty());
  CHECK(ex.counters().missed == 1);
  CHECK(ex.missed_previous("right"));
  CHECK_FALSE(ex.missed_previous("left"));

  // Step 1: both arrive (one of them early, before the step began): no waiting, no fold.
  REQUIRE(ex.offer(model("right", 1, v)).ok());
  REQUIRE(ex.begin_step(1).ok());
  REQUIRE(ex.offer(model("left", 1, v)).ok());
  CHECK(ex.complete());
  auto full = ex.finish();
  REQUIRE(full.ok());
  CHECK(full->missed.empty());
  CHECK(full->row.self_weight == doctest::Approx(1.0 / 3));
  CHECK(ex.begin_step(1).code() == StatusCode::failed_precondition);  // steps only move forward
}

TEST_CASE("a device behind its neighbours does not wait for models they will not send") {
  ManualTimeSource clock;
  NeighbourExchange ex = ring_node(clock);
  const std::vector<float> v = {1.0f, 2.0f};
  // Resumed at step 10 while "right" is at step 12 already; "left" is in step with us.
  REQUIRE(ex.offer(model("right", 12, v)).ok());
  REQUIRE(ex.begin_step(10).ok());
  CHECK_FALSE(ex.complete());  // "left" may still send step 10
  REQUIRE(ex.offer(model("left", 10, v)).ok());
  CHECK(ex.complete());  // no wait for "right": it is past step 10
  auto out = ex.finish();
  REQUIRE(out.ok());
  CHECK(out->missed == std::vector<std::string>{"right"});
  CHECK(out->row.sum() == doctest::Approx(1.0));
  REQUIRE(ex.begin_step(12).ok());  // caught up: "right"'s step-12 model is mixed
  REQUIRE(ex.offer(model("left", 12, v)).ok());
  auto mixed = ex.finish();
  REQUIRE(mixed.ok());
  CHECK(mixed->missed.empty());
}

TEST_CASE("a one-sided miss is counted by the device that mixed the other's model") {
  ManualTimeSource clock;
  NeighbourExchange ex = ring_node(clock);
  const std::vector<float> v = {1.0f, 2.0f};
  REQUIRE(ex.begin_step(0).ok());
  REQUIRE(ex.offer(model("left", 0, v)).ok());
  REQUIRE(ex.offer(model("right", 0, v)).ok());
  REQUIRE(ex.finish().ok());
  // Both neighbours' step-1 models say they missed ours at step 0: "left" is one-sided (we
  // mixed its model). At step 1 we miss "right", so its flag at step 2 is not one-sided.
  REQUIRE(ex.begin_step(1).ok());
  PeerModelIn from_left = model("left", 1, v);
  from_left.missed_previous = true;
  REQUIRE(ex.offer(from_left).ok());
  clock.advance(1s);
  REQUIRE(ex.finish().ok());
  CHECK(ex.counters().one_sided_misses == 1);
  REQUIRE(ex.begin_step(2).ok());
  PeerModelIn from_right = model("right", 2, v);
  from_right.missed_previous = true;
  REQUIRE(ex.offer(from_right).ok());
  REQUIRE(ex.offer(model("left", 2, v)).ok());
  REQUIRE(ex.finish().ok());
  CHECK(ex.counters().one_sided_misses == 1);
}

TEST_CASE("exchange settings and weights are checked") {
  ManualTimeSource clock;
  CHECK(NeighbourExchange::create(settings(), 1, 0.5, {{"a", 0.25}}, 2, clock).status().code() ==
        StatusCode::invalid_argument);
  CHECK(NeighbourExchange::create(settings(), 1, 0.5, {{"a", 0.25}, {"a", 0.25}}, 2, clock)
            .status()
            .code() == StatusCode::invalid_argument);
  CHECK(NeighbourExchange::create(settings(), 1, 1.0, {}, 0, clock).status().code() ==
        StatusCode::invalid_argument);
  ExchangeSettings no_deadline = settings();
  no_deadline.deadline = 0ms;
  CHECK(NeighbourExchange::create(no_deadline, 1, 1.0, {}, 2, clock).status().code() ==
        StatusCode::out_of_range);
}

// Four devices p0-p1-p2-p3-p0, one parameter each, g_j(x) = x - c_j, SGD with alpha = 1/4,
// Metropolis-Hastings weights 1/3. At the third step the p0-p3 link is down both ways: both
// fold. Expected values worked by hand (exact fractions):
//   x0 = (0, 3, 6, 9), c = (1, -1, 2, 0)
//   step 0: x_j <- (x_{j-1} + x_j + x_{j+1}) / 3 - (x_j - c_j) / 4 = (17/4, 2, 5, 11/4)
//   step 1: (35/16, 3, 5/2, 53/16)
//   step 2: p0 = (2/3) 35/16 + (1/3) 3 - (35/16 - 1)/4 = 415/192, p3 = 425/192,
//           p1 = 25/16, p2 = 45/16
TEST_CASE("three steps on a ring equal the hand-computed mixing, with a folded link") {
  ManualTimeSource clock;
  const std::vector<std::string> ids = {"p0", "p1", "p2", "p3"};
  const float c[4] = {1.0f, -1.0f, 2.0f, 0.0f};
  struct Node {
    FloatBuffer x{1}, sent{1};
    std::optional<NeighbourExchange> ex;
    std::optional<Optimizer> opt;
  };
  std::vector<Node> nodes(4);
  for (int j = 0; j < 4; ++j) {
    nodes[j].x[0] = 3.0f * j;
    const std::string left = ids[(j + 3) % 4], right = ids[(j + 1) % 4];
    nodes[j].ex.emplace(NeighbourExchange::create(settings(), 1, 1.0 / 3,
                                                  {{left, 1.0 / 3}, {right, 1.0 / 3}}, 1, clock)
                            .value());
    nodes[j].opt.emplace(
        Optimizer::create(OptimizerConfig{.kind = OptimizerKind::sgd, .lr = 0.25f}, 1).value());
  }
  auto link_down = [](uint64_t step, int a, int b) {
    return step == 2 && ((a == 0 && b == 3) || (a == 3 && b == 0));
  };
  for (uint64_t step = 0; step < 3; ++step) {
    for (Node& n : nodes) {
      n.sent.assign(n.x.span());
      REQUIRE(n.ex->begin_step(step).ok());
    }
    for (int j = 0; j < 4; ++j) {
      for (int k : {(j + 3) % 4, (j + 1) % 4}) {
        if (link_down(step, j, k)) continue;
        REQUIRE(nodes[k].ex->offer(PeerModelIn{ids[j], 1, step, false, nodes[j].sent.span()}).ok());
      }
    }
    for (int j = 0; j < 4; ++j) {  // the local step runs while the models are on their way
      FloatBuffer g(1);
      g[0] = nodes[j].x[0] - c[j];
      REQUIRE(nodes[j].opt->step(nodes[j].x.span(), g.span()).ok());
    }
    if (step == 2) clock.advance(settings().deadline);
    for (Node& n : nodes) {
      auto out = n.ex->finish();
      REQUIRE(out.ok());
      REQUIRE(mix_into(n.x.span(), n.sent.span(), out->row, out->models).ok());
    }
  }
  const double expected[4] = {415.0 / 192, 25.0 / 16, 45.0 / 16, 425.0 / 192};
  for (int j = 0; j < 4; ++j) CHECK(nodes[j].x[0] == doctest::Approx(expected[j]).epsilon(1e-6));
  CHECK(nodes[0].ex->counters().missed == 1);
  CHECK(nodes[3].ex->counters().missed == 1);
  CHECK(nodes[1].ex->counters().missed == 0);
}

TEST_CASE("a device further behind than the staleness bound does not wait for its neighbours") {
  ManualTimeSource clock;
  NeighbourExchange ex = ring_node(clock);  // staleness bound 2
  const std::vector<float> v = {1.0f, 2.0f};
  // Back from an outage at step 10 while both neighbours are at step 15: their models are
  // refused (beyond the bound), but they show the neighbours are past steps 10..14.
  REQUIRE(ex.begin_step(10).ok());
  CHECK(ex.offer(model("left", 15, v)).code() == StatusCode::out_of_range);
  CHECK_FALSE(ex.complete());  // "right" has said nothing yet
  CHECK(ex.offer(model("right", 15, v)).code() == StatusCode::out_of_range);
  CHECK(ex.complete());  // no deadline to wait out: the device catches up by its own steps
  auto out = ex.finish();
  REQUIRE(out.ok());
  CHECK(out->missed.size() == 2);
  CHECK(out->row.self_weight == doctest::Approx(1.0));
  REQUIRE(ex.begin_step(14).ok());
  CHECK(ex.complete());
  REQUIRE(ex.finish().ok());
  REQUIRE(ex.begin_step(15).ok());  // caught up: step 15 waits for its models again
  CHECK_FALSE(ex.complete());
  REQUIRE(ex.offer(model("left", 15, v)).ok());
  REQUIRE(ex.offer(model("right", 15, v)).ok());
  CHECK(ex.complete());
}
