#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "edgefl/net/fault_transport.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "net_test_support.hpp"

using namespace edgefl;
using namespace edgefl::testing;

namespace {
FaultInjector::Item numbered(int i) {
  return {"", "", bytes_of("m" + std::to_string(i))};
}

// Feeds n numbered messages, then enough empty operations to release every delayed one.
std::vector<std::string> run(FaultInjector& injector, int n, uint32_t delay_ops) {
  std::vector<std::string> out;
  auto take = [&](std::vector<FaultInjector::Item> items) {
    for (auto& item : items) out.push_back(text_of(item.payload));
  };
  for (int i = 0; i < n; ++i) take(injector.feed(numbered(i)));
  for (uint32_t i = 0; i <= delay_ops; ++i) take(injector.tick());
  return out;
}
}  // namespace

TEST_CASE("fault injector: a fixed seed gives the same faults, another seed others") {
  FaultPlan plan{
      .seed = 11, .drop = 0.1, .duplicate = 0.1, .delay = 0.1, .reorder = 0.1, .truncate = 0.1};
  FaultInjector a(plan, 0), b(plan, 0);
  auto out_a = run(a, 300, plan.delay_ops);
  CHECK(out_a == run(b, 300, plan.delay_ops));
  plan.seed = 12;
  FaultInjector c(plan, 0);
  CHECK(out_a != run(c, 300, plan.delay_ops));
}

TEST_CASE("fault injector: counts match the plan's rates and every message is accounted for") {
  FaultPlan plan{.seed = 5,
                 .drop = 0.2,
                 .duplicate = 0.1,
                 .delay = 0.1,
                 .reorder = 0.05,
                 .truncate = 0.1,
                 .delay_ops = 4};
  FaultInjector injector(plan, 0);
  const int n = 4000;
  auto out = run(injector, n, plan.delay_ops);
  const FaultStats& s = injector.stats();
  // Binomial counts: within ~5 standard deviations of the expectation.
  CHECK(s.dropped == doctest::Approx(0.2 * n).epsilon(0.1));
  CHECK(s.truncated == doctest::Approx(0.1 * 0.8 * n).epsilon(0.2));
  CHECK(s.delayed == doctest::Approx(0.1 * 0.8 * n).epsilon(0.2));
  CHECK(s.duplicated > 0);
  CHECK(s.reordered > 0);
  // Conservation: what went out = fed - dropped + extra copies.
  CHECK(out.size() == s.passed);
  CHECK(s.passed == n - s.dropped + s.duplicated);
}

TEST_CASE("fault injector: reorder swaps neighbours, delay holds for N operations") {
  FaultInjector swapper(FaultPlan{.seed = 1, .reorder = 1.0}, 0);
  CHECK(run(swapper, 4, 0) == std::vector<std::string>{"m1", "m0", "m3", "m2"});

  FaultInjector holder(FaultPlan{.seed = 1, .delay = 1.0, .delay_ops = 2}, 0);
  CHECK(holder.feed(numbered(0)).empty());
  CHECK(holder.tick().empty());
  auto released = holder.tick();
  REQUIRE(released.size() == 1);
  CHECK(text_of(released[0].payload) == "m0");
}

TEST_CASE("fault injector: truncation always shortens, duplication copies exactly") {
  FaultInjector cutter(FaultPlan{.seed = 3, .truncate = 1.0}, 0);
  for (int i = 0; i < 100; ++i) {
    Bytes payload(1 + i, 0x5A);
    auto out = cutter.feed({"", "", payload});
    REQUIRE(out.size() == 1);
    CHECK(out[0].payload.size() < payload.size());
    CHECK(std::all_of(out[0].payload.begin(), out[0].payload.end(),
                      [](uint8_t b) { return b == 0x5A; }));
  }
  FaultInjector copier(FaultPlan{.seed = 3, .duplicate = 1.0}, 0);
  auto out = copier.feed({"peer", "id", bytes_of("x")});
  REQUIRE(out.size() == 2);
  CHECK(out[0].peer == "peer");
  CHECK(out[1].identity == "id");
  CHECK(out[0].payload == out[1].payload);
}

TEST_CASE("faulty channels: decorators over real sockets lose, copy and reorder as counted") {
  auto c = NetContext::create();
  REQUIRE(c.ok());
  SocketPolicy policy = fast_policy();
  auto s = ServerTransport::bind(**c, "tcp://127.0.0.1:*", policy, {});
  REQUIRE(s.ok());
  auto d = DeviceTransport::connect(**c, (*s)->endpoint(), policy, {});
  REQUIRE(d.ok());

  // Device drops on send; server duplicates/reorders/delays on receive. The code using the
  // channels only sees DeviceChannel / ServerChannel.
  FaultyDeviceChannel device(**d, FaultPlan{.seed = 21, .drop = 0.25});
  FaultyServerChannel server(**s, FaultPlan{.seed = 22,
                                            .duplicate = 0.2,
                                            .delay = 0.1,
                                            .reorder = 0.1,
                                            .delay_ops = 2,
                                            .on_send = false,
                                            .on_receive = true});
  DeviceChannel& device_side = device;
  ServerChannel& server_side = server;

  const int n = 60;
  for (int i = 0; i < n; ++i) REQUIRE(device_side.send(bytes_of("m" + std::to_string(i))).ok());

  std::map<std::string, int> seen;
  std::vector<std::string> order;
  uint64_t received = 0;
  // Stop after a few empty receives in a row: those release delayed messages too.
  for (int idle = 0; idle < 4;) {
    auto in = server_side.receive(100ms);
    REQUIRE(in.ok());
    if (!in->has_value()) {
      ++idle;
      continue;
    }
    idle = 0;
    ++received;
    order.push_back(text_of((*in)->payload));
    ++seen[order.back()];
  }
  FaultStats sent = device.stats();
  FaultStats got = server.stats();
  CHECK(sent.dropped > 0);
  CHECK(seen.size() == n - sent.dropped);  // each surviving message arrives at least once
  CHECK(received == got.passed);
  CHECK(received == seen.size() + got.duplicated);
  CHECK(got.duplicated > 0);
  std::vector<std::string> sorted_by_number = order;
  std::sort(sorted_by_number.begin(), sorted_by_number.end(),
            [](auto& a, auto& b) { return std::stoi(a.substr(1)) < std::stoi(b.substr(1)); });
  CHECK(order != sorted_by_number);  // reordering and delays changed the arrival order
}

TEST_CASE("delay line: latency plus bytes / bandwidth, one message after another, in order") {
  using Clock = DelayLine::Clock;
  using std::chrono::milliseconds;
  const Clock::time_point t0 = Clock::now();
  // 1000 bytes/s and 100 ms: 500 bytes are out at 0.5 + 0.1 s; 200 bytes entering at 0.1 s
  // wait for the link until 0.5 s, take 0.2 s more, and are out at 0.8 s.
  DelayLine line(LinkDelay{.latency_s = 0.1, .bytes_per_s = 1000}, 7, 0);
  CHECK(line.push(Bytes(500, 1), t0) == t0 + milliseconds(600));
  CHECK(line.push(Bytes(200, 2), t0 + milliseconds(100)) == t0 + milliseconds(800));
  CHECK(line.next_due() == t0 + milliseconds(600));
  CHECK_FALSE(line.pop_due(t0 + milliseconds(599)).has_value());
  CHECK(line.pop_due(t0 + milliseconds(600)) == Bytes(500, 1));
  CHECK_FALSE(line.pop_due(t0 + milliseconds(799)).has_value());
  CHECK(line.pop_due(t0 + milliseconds(800)) == Bytes(200, 2));
  CHECK_FALSE(line.next_due().has_value());

  // Jitter: seeded, within [0, jitter_s), and never lets a message overtake the one ahead.
  auto dues = [&](uint64_t seed) {
    DelayLine jittery(LinkDelay{.latency_s = 0.01, .jitter_s = 0.5}, seed, 0);
    std::vector<Clock::time_point> out;
    for (int i = 0; i < 50; ++i) out.push_back(jittery.push(Bytes(1, 0), t0 + milliseconds(i)));
    return out;
  };
  const auto a = dues(3);
  CHECK(a == dues(3));
  CHECK(a != dues(4));
  CHECK(std::is_sorted(a.begin(), a.end()));
  for (int i = 0; i < 50; ++i) {
    CHECK(a[i] >= t0 + milliseconds(i) + milliseconds(10));
    CHECK(a[i] < t0 + milliseconds(49) + milliseconds(510));
  }
}

TEST_CASE("faulty channels: a device link delays both directions and keeps the order") {
  auto c = NetContext::create();
  REQUIRE(c.ok());
  SocketPolicy policy = fast_policy();
  auto s = ServerTransport::bind(**c, "tcp://127.0.0.1:*", policy, {});
  REQUIRE(s.ok());
  auto d = DeviceTransport::connect(**c, (*s)->endpoint(), policy, {});
  REQUIRE(d.ok());
  // 300 ms latency: far above socket noise, so only the lower bound is exact.
  FaultyDeviceChannel device(**d, FaultPlan{.seed = 5, .on_send = false, .link = {.latency_s = 0.3}});
  const auto sent = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) REQUIRE(device.send(bytes_of("m" + std::to_string(i))).ok());
  // Nothing is on the wire until the device channel is used again after the latency.
  auto early = (*s)->receive(100ms);
  REQUIRE(early.ok());
  CHECK_FALSE(early->has_value());
  auto none = device.receive(400ms);  // no downlink traffic; the uploads go out meanwhile
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  std::string peer;
  for (int i = 0; i < 3; ++i) {
    auto in = (*s)->receive(2000ms);
    REQUIRE(in.ok());
    REQUIRE(in->has_value());
    CHECK(text_of((*in)->payload) == "m" + std::to_string(i));
    peer = (*in)->peer;
  }
  CHECK(std::chrono::steady_clock::now() - sent >= 300ms);

  REQUIRE((*s)->send(peer, bytes_of("down")).ok());
  const auto down_sent = std::chrono::steady_clock::now();
  std::optional<Bytes> got;
  while (!got && std::chrono::steady_clock::now() - down_sent < 3s) {
    auto in = device.receive(50ms);
    REQUIRE(in.ok());
    got = *in;
  }
  REQUIRE(got.has_value());
  CHECK(text_of(*got) == "down");
  CHECK(std::chrono::steady_clock::now() - down_sent >= 300ms);
}
