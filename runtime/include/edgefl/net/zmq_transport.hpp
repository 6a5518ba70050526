// ZeroMQ transports: ServerTransport (ROUTER, binds) and DeviceTransport (DEALER, connects).
//
//   auto server = edgefl::ServerTransport::bind(ctx, "tcp://127.0.0.1:*", policy, {});
//   std::string where = (*server)->endpoint();            // e.g. "tcp://127.0.0.1:40123"
//   auto device = edgefl::DeviceTransport::connect(ctx, where, policy, {});
//   (*device)->send(bytes);
//   auto in = (*server)->receive(std::chrono::milliseconds(500));   // Inbound or nullopt
//
// Every socket option comes from the SocketPolicy. Security fails closed:
// - keys configured without a ZapAuthenticator in the same context -> bind refuses;
// - a non-loopback endpoint without CURVE -> bind refuses unless `insecure` is set.
// No exception leaves these classes; errors come back as Status (unavailable, timeout,
// invalid_argument, failed_precondition, io_error, cancelled).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "edgefl/net/curve.hpp"
#include "edgefl/net/net_context.hpp"
#include "edgefl/net/socket_policy.hpp"
#include "edgefl/net/transport.hpp"

namespace edgefl {

class ZapAuthenticator;

struct ServerSecurity {
  std::optional<CurveKeyPair> curve;                // the server's long-term key pair
  const ZapAuthenticator* authenticator = nullptr;  // required with `curve`; outlives the server
  bool insecure = false;  // allow plaintext on a non-loopback endpoint (tests on a LAN only)
};

struct DeviceSecurity {
  std::optional<CurveKeyPair> curve;  // the device's long-term key pair
  std::string server_public_z85;      // required with `curve`
};

// What the server transport dropped to protect its one poll loop (docs/transport.md).
struct ServerTransportStats {
  uint64_t dropped_queue_full = 0;  // sends to a peer whose queue was full (it does not read)
  uint64_t dropped_unroutable = 0;  // sends to a peer with no live connection
  uint64_t dropped_over_rate = 0;   // received messages beyond the peer's rate limit
  uint64_t cut_over_rate = 0;       // connections ended for going beyond the rate limit
};

// True for inproc://, ipc://, and tcp:// on 127.0.0.0/8, ::1 or localhost.
bool is_loopback_endpoint(const std::string& endpoint);

class ServerTransport final : public ServerChannel {
 public:
  static Result<std::unique_ptr<ServerTransport>> bind(NetContext& ctx, const std::string& endpoint,
                                                       const SocketPolicy& policy,
                                                       const ServerSecurity& security);
  ~ServerTransport() override;

  // The endpoint actually bound (wildcard port resolved).
  const std::string& endpoint() const;
  const ServerTransportStats& stats() const;

  // Never blocks: a peer whose send queue is full (or that is gone) loses this message and the
  // call returns unavailable; acks and resends above this layer recover what matters.
  Status send(const std::string& peer, ByteView message) override;
  // Messages beyond a peer's rate (SocketPolicy::peer_messages_per_s) are dropped unseen.
  Result<std::optional<Inbound>> receive(std::chrono::milliseconds timeout) override;
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override;
  void charge(const std::string& peer, double messages) override;

  struct Impl;

 private:
  explicit ServerTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class DeviceTransport final : public DeviceChannel {
 public:
  // Returns at once; libzmq connects (and reconnects) in the background. A message sent while
  // no connection exists waits up to the policy's send timeout, then fails as unavailable.
  static Result<std::unique_ptr<DeviceTransport>> connect(NetContext& ctx,
                                                          const std::string& endpoint,
                                                          const SocketPolicy& policy,
                                                          const DeviceSecurity& security);
  ~DeviceTransport() override;

  Status send(ByteView message) override;
  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override;
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override;

  struct Impl;

 private:
  explicit DeviceTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgefl
