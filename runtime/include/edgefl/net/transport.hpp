// Transport interfaces: what device and server code talk to, real or fault-injecting.
//
//   DeviceChannel& ch = ...;                       // edgefl::DeviceTransport or a decorator
//   EDGEFL_RETURN_IF_ERROR(ch.send(bytes));
//   auto got = ch.receive(std::chrono::milliseconds(500));
//   if (!got) return got.status();                 // transport failure
//   if (!*got) { /* nothing within the timeout */ }
//
//   ServerChannel& srv = ...;                      // edgefl::ServerTransport or a decorator
//   auto in = srv.receive(timeout);                // Inbound{peer, identity, payload}
//   srv.send(in->peer, reply_bytes);
//
// Messages are single frames of opaque bytes; what they mean is the message layer's business.
// Delivery is at most once per connection: acks and retries live above this layer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// A message that arrived at the server.
struct Inbound {
  std::string peer;      // routing id bytes: where to send the reply; changes on reconnect
  std::string identity;  // authenticated device id: the ZAP User-Id (the device's Z85 public
                         // key) under CURVE; empty on an unauthenticated (plaintext) link
  Bytes payload;
};

// A connection-level happening reported by a socket monitor. Use it for liveness hints and
// metrics; application-level acks stay the source of truth.
struct LinkEvent {
  enum class Kind {
    connected,                  // device: TCP connection to the server established
    accepted,                   // server: a device's TCP connection accepted
    handshake_succeeded,        // ZMTP (and CURVE/ZAP) handshake finished: messages can flow
    handshake_failed_auth,      // ZAP refused the peer (unknown key)
    handshake_failed_protocol,  // mechanism mismatch or malformed handshake (e.g. plaintext)
    handshake_failed,           // other handshake failure
    disconnected,     // an established connection died (reset, keepalive or retransmit timeout, oversize)
    connect_retried,  // device: a reconnect attempt was scheduled
    closed,
    other,
  };
  Kind kind = Kind::other;
  std::string endpoint;                        // libzmq's endpoint string for the event
  std::chrono::steady_clock::time_point when;  // when the transport read the event
};

const char* link_event_name(LinkEvent::Kind kind);

// Device side of a link: one server.
class DeviceChannel {
 public:
  virtual ~DeviceChannel() = default;
  // Queues one message to the server. unavailable when no connection takes it in time.
  virtual Status send(ByteView message) = 0;
  // Waits up to `timeout` for one message; nullopt when none arrived.
  virtual Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) = 0;
  // Link events seen so far; waits up to `wait` for the first one if there is none yet.
  virtual std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) = 0;
};

// Server side of a link: many devices, addressed by routing id.
class ServerChannel {
 public:
  virtual ~ServerChannel() = default;
  // unavailable when `peer` has no live connection or its queue is full (the message is lost).
  virtual Status send(const std::string& peer, ByteView message) = 0;
  virtual Result<std::optional<Inbound>> receive(std::chrono::milliseconds timeout) = 0;
  virtual std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) = 0;
  // `peer` sent what no honest device sends (bytes that do not decode): count it as `messages`
  // messages against the peer's rate limit, so a junk flood reaches the limit, and the
  // connection cut, sooner. Channels without a rate limit have nothing to charge.
  virtual void charge(const std::string& peer, double messages) = 0;
};

}  // namespace edgefl
