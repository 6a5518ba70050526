#include <doctest/doctest.h>

#include <cstdio>

#include "edgefl/zmq_transport.hpp"
#include "net_test_support.hpp"
#include "tcp_proxy.hpp"

using namespace edgefl;
using namespace edgefl::testing;

namespace {
struct Link {
  explicit Link(const SocketPolicy& p) : policy(p) {
    auto c = NetContext::create();
    REQUIRE(c.ok());
    ctx = std::move(*c);
    auto s = ServerTransport::bind(*ctx, "tcp://127.0.0.1:*", policy, {});
    REQUIRE(s.ok());
    server = std::move(*s);
  }

  // Device -> server -> device round trip, proving the link is up.
  void round_trip(DeviceTransport& device) {
    REQUIRE(device.send(bytes_of("ping")).ok());
    auto in = server->receive(3s);
    REQUIRE(in.ok());
    REQUIRE(in->has_value());
    REQUIRE(server->send((*in)->peer, bytes_of("pong")).ok());
    auto reply = device.receive(3s);
    REQUIRE(reply.ok());
    REQUIRE(reply->has_value());
  }

  SocketPolicy policy;
  std::unique_ptr<NetContext> ctx;
  std::unique_ptr<ServerTransport> server;
};
}  // namespace

TEST_CASE("liveness: a silent peer is detected by heartbeat within 3 intervals on both sides") {
  Link link(fast_policy());
  TcpProxy proxy(endpoint_port(link.server->endpoint()));
  REQUIRE(proxy.ok());
  auto d = DeviceTransport::connect(*link.ctx, proxy.endpoint(), link.policy, {});
  REQUIRE(d.ok());
  auto& device = **d;
  link.round_trip(device);
  (void)link.server->poll_events(0ms);  // forget connection-setup events
  (void)device.poll_events(0ms);

  // Blackhole: both TCP connections stay open, nothing moves. Only heartbeats can tell.
  proxy.freeze();
  auto frozen_at = Clock::now();
  const auto ivl = std::chrono::milliseconds(link.policy.heartbeat_ivl_ms());
  const auto bound = 3 * ivl;
  const auto slack = 100ms;  // event delivery through the monitor and the 5 ms poll steps

  // Watch both sides at once (short alternating waits) so each time is its own.
  std::optional<Clock::time_point> server_saw, device_saw;
  while ((!server_saw || !device_saw) && Clock::now() < frozen_at + 10 * ivl) {
    const auto kind = LinkEvent::Kind::disconnected;
    if (!server_saw) server_saw = wait_for_event(*link.server, kind, Clock::now() + 5ms);
    if (!device_saw) device_saw = wait_for_event(device, kind, Clock::now() + 5ms);
  }
  REQUIRE(server_saw.has_value());
  REQUIRE(device_saw.has_value());
  auto server_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*server_saw - frozen_at);
  auto device_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*device_saw - frozen_at);
  MESSAGE("heartbeat ivl " << ivl.count() << " ms: server noticed after " << server_ms.count()
                           << " ms, device after " << device_ms.count() << " ms");
  CHECK(server_ms <= bound + slack);
  CHECK(device_ms <= bound + slack);
}

TEST_CASE("liveness: without heartbeats the same blackhole goes unnoticed") {
  // The control for the test above: proves the detection comes from the heartbeat settings.
  SocketPolicy slow = fast_policy();
  slow.heartbeat_ivl_base_ms = 60000;
  slow.heartbeat_timeout_base_ms = 60000;
  slow.heartbeat_ttl_base_ms = 60000;
  Link link(slow);
  TcpProxy proxy(endpoint_port(link.server->endpoint()));
  REQUIRE(proxy.ok());
  auto d = DeviceTransport::connect(*link.ctx, proxy.endpoint(), link.policy, {});
  REQUIRE(d.ok());
  link.round_trip(**d);
  (void)link.server->poll_events(0ms);
  proxy.freeze();
  const auto fast_ivl = std::chrono::milliseconds(fast_policy().heartbeat_ivl_ms());
  CHECK_FALSE(
      wait_for_event(*link.server, LinkEvent::Kind::disconnected, Clock::now() + 4 * fast_ivl)
          .has_value());
}

TEST_CASE("liveness: a device reconnects after the server restarts on the same endpoint") {
  Link link(fast_policy());
  const std::string endpoint = link.server->endpoint();
  auto d = DeviceTransport::connect(*link.ctx, endpoint, link.policy, {});
  REQUIRE(d.ok());
  auto& device = **d;
  link.round_trip(device);

  link.server.reset();  // server process "dies"
  CHECK(wait_for_event(device, LinkEvent::Kind::disconnected, Clock::now() + 3s).has_value());

  auto restarted = ServerTransport::bind(*link.ctx, endpoint, link.policy, {});
  REQUIRE_MESSAGE(restarted.ok(), restarted.status().to_string());
  link.server = std::move(*restarted);
  CHECK(link.server->endpoint() == endpoint);

  // The DEALER reconnects by itself; sends fail as unavailable until it has.
  bool delivered = false;
  auto deadline = Clock::now() + 5s;
  while (!delivered && Clock::now() < deadline) {
    if (!device.send(bytes_of("after-restart")).ok()) continue;
    auto in = link.server->receive(500ms);
    REQUIRE(in.ok());
    delivered = in->has_value() && text_of((*in)->payload) == "after-restart";
  }
  CHECK(delivered);
  link.round_trip(device);
}
