// SocketPolicy: every ZeroMQ socket setting and every time constant of the transport, in one place.
//
//   edgefl::SocketPolicy policy;            // production defaults (LAN)
//   policy.time_scale = 20.0;               // e.g. under QEMU: every timeout 20x longer
//   EDGEFL_RETURN_IF_ERROR(policy.validate());
//   int ivl = policy.heartbeat_ivl_ms();    // scaled value, what the socket gets
//
// The *_base_ms fields are the unscaled values; read times only through the scaled accessors,
// so a slow platform changes one number (time_scale) instead of hunting constants.
#pragma once

#include <chrono>
#include <cstdint>

#include "edgefl/status.hpp"

namespace edgefl {

struct SocketPolicy {
  // Multiplies every time below (heartbeats, reconnect, handshake, send timeout, linger,
  // re-join backoff). 1.0 on real hardware; larger under emulation, smaller in fast tests.
  double time_scale = 1.0;

  // ZMTP heartbeats, both sides. A dead peer is noticed within ivl + timeout, so timeout = 2 x ivl
  // bounds detection at 3 intervals. TTL asks the remote side to drop us after that much silence.
  int heartbeat_ivl_base_ms = 2000;
  int heartbeat_timeout_base_ms = 4000;
  int heartbeat_ttl_base_ms = 6000;

  // libzmq's own reconnect (doubling from ivl up to max) on the device DEALER.
  int reconnect_ivl_base_ms = 1000;
  int reconnect_ivl_max_base_ms = 60000;
  // Application-level re-join backoff (edgefl::Backoff), capped exponential with full jitter.
  int backoff_initial_base_ms = 1000;
  int backoff_max_base_ms = 60000;

  int handshake_ivl_base_ms = 10000;  // bounds slow or hostile CURVE handshakes
  int send_timeout_base_ms = 5000;    // a send blocked this long (no peer, queue full) fails
  int linger_base_ms = 500;           // durability comes from acks, not from linger

  // Inbound messages larger than this disconnect the sender (ZMQ_MAXMSGSIZE). Largest
  // legitimate message (a full-precision model) plus margin.
  int64_t max_message_bytes = int64_t{64} << 20;
  // Per-peer queues in messages; small because messages are model-sized.
  int send_hwm = 8;
  int receive_hwm = 8;

  // Scaled values, in milliseconds, as the sockets receive them.
  int heartbeat_ivl_ms() const { return scaled(heartbeat_ivl_base_ms); }
  int heartbeat_timeout_ms() const { return scaled(heartbeat_timeout_base_ms); }
  int heartbeat_ttl_ms() const { return scaled(heartbeat_ttl_base_ms); }
  int reconnect_ivl_ms() const { return scaled(reconnect_ivl_base_ms); }
  int reconnect_ivl_max_ms() const { return scaled(reconnect_ivl_max_base_ms); }
  int backoff_initial_ms() const { return scaled(backoff_initial_base_ms); }
  int backoff_max_ms() const { return scaled(backoff_max_base_ms); }
  int handshake_ivl_ms() const { return scaled(handshake_ivl_base_ms); }
  int send_timeout_ms() const { return scaled(send_timeout_base_ms); }
  int linger_ms() const { return scaled(linger_base_ms); }

  // base_ms x time_scale, rounded, clamped to [0, INT_MAX].
  int scaled(int base_ms) const;

  // invalid_argument / out_of_range naming the first bad field (non-positive times, timeout
  // shorter than the interval, TTL outside libzmq's 100..6553599 ms, ...).
  Status validate() const;
};

}  // namespace edgefl
