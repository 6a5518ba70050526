#include <doctest/doctest.h>

#include <cstdio>

#include "edgefl/net/zmq_transport.hpp"
#include "net_test_support.hpp"

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
