#include <doctest/doctest.h>

#include "edgefl/net/socket_policy.hpp"
#include "edgefl/net/zmq_transport.hpp"

using edgefl::SocketPolicy;
using edgefl::StatusCode;

TEST_CASE("socket policy: defaults are valid, keepalive times reach the kernel as whole seconds") {
  SocketPolicy policy;
  CHECK(policy.validate().ok());
  CHECK(SocketPolicy::whole_seconds(policy.keepalive_idle_ms()) == 10);
  CHECK(SocketPolicy::whole_seconds(1) == 1);
  CHECK(SocketPolicy::whole_seconds(1000) == 1);
  CHECK(SocketPolicy::whole_seconds(1001) == 2);
  CHECK(SocketPolicy::whole_seconds(0) == 1);
}

TEST_CASE("socket policy: time_scale multiplies every time constant") {
  SocketPolicy base;
  SocketPolicy slow = base;
  slow.time_scale = 20.0;
  CHECK(slow.validate().ok());
  CHECK(slow.keepalive_idle_ms() == 20 * base.keepalive_idle_ms());
  CHECK(slow.keepalive_interval_ms() == 20 * base.keepalive_interval_ms());
  CHECK(slow.max_retransmit_ms() == 20 * base.max_retransmit_ms());
  CHECK(slow.reconnect_ivl_ms() == 20 * base.reconnect_ivl_ms());
  CHECK(slow.reconnect_ivl_max_ms() == 20 * base.reconnect_ivl_max_ms());
  CHECK(slow.backoff_initial_ms() == 20 * base.backoff_initial_ms());
  CHECK(slow.backoff_max_ms() == 20 * base.backoff_max_ms());
  CHECK(slow.handshake_ivl_ms() == 20 * base.handshake_ivl_ms());
  CHECK(slow.send_timeout_ms() == 20 * base.send_timeout_ms());
  CHECK(slow.linger_ms() == 20 * base.linger_ms());
}

TEST_CASE("socket policy: bad values are named") {
  SocketPolicy p;
  p.time_scale = 0.0;
  CHECK(p.validate().code() == StatusCode::invalid_argument);

  p = SocketPolicy{};
  p.keepalive_count = 0;
  CHECK(p.validate().code() == StatusCode::out_of_range);
  CHECK(p.validate().message().find("keepalive_count") != std::string::npos);

  p = SocketPolicy{};
  p.max_retransmit_base_ms = 0;
  CHECK(p.validate().message().find("max_retransmit") != std::string::npos);

  p = SocketPolicy{};
  p.peer_messages_per_s = 0;
  CHECK(p.validate().message().find("peer_messages_per_s") != std::string::npos);
  p = SocketPolicy{};
  p.peer_burst = 0.5;
  CHECK(p.validate().message().find("peer_burst") != std::string::npos);

  p = SocketPolicy{};
  p.max_message_bytes = 0;
  CHECK(p.validate().code() == StatusCode::out_of_range);

  p = SocketPolicy{};
  p.backoff_max_base_ms = 10;
  CHECK(p.validate().message().find("backoff_max") != std::string::npos);
}

TEST_CASE("socket policy: scaled clamps instead of overflowing") {
  SocketPolicy p;
  p.time_scale = 1e12;
  CHECK(p.scaled(1000) == INT_MAX);
  p.time_scale = 0.0001;
  CHECK(p.scaled(1000) == 0);
}

TEST_CASE("loopback endpoints are recognised") {
  using edgefl::is_loopback_endpoint;
  CHECK(is_loopback_endpoint("tcp://127.0.0.1:5555"));
  CHECK(is_loopback_endpoint("tcp://127.0.0.1:*"));
  CHECK(is_loopback_endpoint("tcp://localhost:1"));
  CHECK(is_loopback_endpoint("tcp://[::1]:1"));
  CHECK(is_loopback_endpoint("inproc://x"));
  CHECK(is_loopback_endpoint("ipc:///tmp/x"));
  CHECK_FALSE(is_loopback_endpoint("tcp://0.0.0.0:5555"));
  CHECK_FALSE(is_loopback_endpoint("tcp://*:5555"));
  CHECK_FALSE(is_loopback_endpoint("tcp://192.168.1.4:5555"));
  CHECK_FALSE(is_loopback_endpoint("tcp://127.0.0.1.evil.example:5555"));
  CHECK_FALSE(is_loopback_endpoint("tcp://eth0;127.0.0.1:5555"));
}
