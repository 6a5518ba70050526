// SocketPolicy: every ZeroMQ socket setting and every time constant of the transport, in one place.
//
//   edgefl::SocketPolicy policy;            // production defaults (LAN)
//   policy.time_scale = 20.0;               // e.g. under QEMU: every timeout 20x longer
//   EDGEFL_RETURN_IF_ERROR(policy.validate());
//   int idle = policy.keepalive_idle_ms();  // scaled value, what the socket gets
//
// The *_base_ms fields are the unscaled values; read times only through the scaled accessors,
// so a slow platform changes one number (time_scale) instead of hunting constants.
#pragma once

#include <chrono>
#include <cstdint>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct SocketPolicy {
  // Multiplies every time below (keepalive, reconnect, handshake, send timeout, linger,
  // re-join backoff). 1.0 on real hardware; larger under emulation, smaller in fast tests.
  double time_scale = 1.0;

  // No ZMTP heartbeats: in libzmq 4.3.4 a heartbeat timeout on a connection whose input is
  // stopped by a full receive queue aborts the process (`!_io_error`, stream_engine_base.cpp),
  // and any peer that floods can stop its input. Liveness is the application's heartbeat
  // (Welcome.peer_timeout_ms); the kernel clears connections of vanished hosts:
  // TCP keepalive probes an idle connection after `keepalive_idle`, every `keepalive_interval`,
  // and drops it after `keepalive_count` unanswered probes (kernel resolution: whole seconds,
  // rounded up). A connection with unacknowledged data is dropped after `max_retransmit`
  // (ZMQ_TCP_MAXRT, TCP_USER_TIMEOUT on Linux).
  int keepalive_idle_base_ms = 10000;
  int keepalive_interval_base_ms = 2000;
  int keepalive_count = 3;
  int max_retransmit_base_ms = 20000;

  // libzmq's own reconnect (doubling from ivl up to max) on the device DEALER.
  int reconnect_ivl_base_ms = 1000;
  int reconnect_ivl_max_base_ms = 60000;
  // Application-level re-join backoff (edgefl::Backoff), capped exponential with full jitter.
  int backoff_initial_base_ms = 1000;
  int backoff_max_base_ms = 60000;

  int handshake_ivl_base_ms = 10000;  // bounds slow or hostile CURVE handshakes
  int send_timeout_base_ms = 5000;    // device: a send blocked this long (no link) fails
  int linger_base_ms = 500;           // durability comes from acks, not from linger

  // Inbound messages larger than this disconnect the sender (ZMQ_MAXMSGSIZE). Largest
  // legitimate message (a full-precision model) plus margin.
  int64_t max_message_bytes = int64_t{64} << 20;
  // Per-peer queues in messages; small because messages are model-sized. A full receive queue
  // stops reading that peer's TCP connection (backpressure on the sender alone); a full send
  // queue makes the server drop the message for that peer instead of waiting.
  int send_hwm = 8;
  int receive_hwm = 8;

  // Server: messages a peer (one connection) may deliver per second, and the burst above that
  // rate; the excess is dropped before decoding and counted. Honest devices send a few per
  // second (heartbeats, an update, resends after a reconnect).
  // A socket monitor reporting LinkEvents (poll_events). It costs two more sockets and an
  // inproc pipe per transport; without it poll_events reports nothing. A device needs it to
  // name a refused key; a host that reads no events (the coordinator, a simulation whose
  // ends are both its own) turns it off.
  bool link_events = true;

  double peer_messages_per_s = 200.0;
  double peer_burst = 400.0;

  // Scaled values, in milliseconds, as the sockets receive them.
  int keepalive_idle_ms() const { return scaled(keepalive_idle_base_ms); }
  int keepalive_interval_ms() const { return scaled(keepalive_interval_base_ms); }
  int max_retransmit_ms() const { return scaled(max_retransmit_base_ms); }
  int reconnect_ivl_ms() const { return scaled(reconnect_ivl_base_ms); }
  int reconnect_ivl_max_ms() const { return scaled(reconnect_ivl_max_base_ms); }
  int backoff_initial_ms() const { return scaled(backoff_initial_base_ms); }
  int backoff_max_ms() const { return scaled(backoff_max_base_ms); }
  int handshake_ivl_ms() const { return scaled(handshake_ivl_base_ms); }
  int send_timeout_ms() const { return scaled(send_timeout_base_ms); }
  int linger_ms() const { return scaled(linger_base_ms); }

  // base_ms x time_scale, rounded, clamped to [0, INT_MAX].
  int scaled(int base_ms) const;

  // What the kernel gets for TCP_KEEPIDLE / TCP_KEEPINTVL: ms rounded up to whole seconds, >= 1.
  static int whole_seconds(int ms);

  // invalid_argument / out_of_range naming the first bad field (non-positive times, a maximum
  // below its initial value, a zero keepalive count or rate, ...).
  Status validate() const;
};

}  // namespace edgefl
