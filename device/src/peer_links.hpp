// PeerLinks: a device's sockets for decentralised training (docs/protocol.md §14.5): one
// ROUTER its neighbours dial, and one DEALER to each neighbour.
//
//   auto links = edgefl::PeerLinks::open({.listen = "tcp://127.0.0.1:*", .keys = my_keys});
//   EDGEFL_RETURN_IF_ERROR((*links)->set_neighbours(addresses_from_assignment));
//   (*links)->send_to_all(encoded_peer_model);
//   auto in = (*links)->receive(10ms);   // Inbound{identity = sender's key under CURVE}
//
// With keys the ROUTER is a CURVE server whose ZAP handler admits exactly the current
// neighbours' public keys (a key outside the set never completes a handshake), and each DEALER
// authenticates its neighbour by the key the server gave for it. Without keys the ROUTER binds
// loopback only unless `insecure`. The sockets live in their own NetContext, so the peer ZAP
// handler and the device's link to the server never meet.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgefl/net/curve.hpp"
#include "edgefl/net/net_context.hpp"
#include "edgefl/net/socket_policy.hpp"
#include "edgefl/net/transport.hpp"
#include "edgefl/net/zap_authenticator.hpp"
#include "edgefl/net/zmq_transport.hpp"

namespace edgefl {

struct PeerLinkSettings {
  std::string listen = "tcp://127.0.0.1:*";  // peer.listen
  std::optional<CurveKeyPair> keys;          // this device's pair: CURVE on every peer link
  bool insecure = false;                     // plaintext beyond loopback
  SocketPolicy policy = peer_socket_policy();

  // Sends to a neighbour that is not connected fail at once instead of waiting: a step must
  // not stall on an offline neighbour (its weight is folded instead).
  static SocketPolicy peer_socket_policy();
};

struct PeerAddress {
  std::string device_id;
  std::string endpoint;
  std::string public_key;  // Z85; empty without CURVE
  bool operator==(const PeerAddress&) const = default;
};

class PeerLinks {
 public:
  static Result<std::unique_ptr<PeerLinks>> open(const PeerLinkSettings& settings);
  ~PeerLinks();
  PeerLinks(const PeerLinks&) = delete;
  PeerLinks& operator=(const PeerLinks&) = delete;

  // The endpoint bound (wildcard port resolved): what Join.peer_endpoint says by default.
  const std::string& endpoint() const;
  bool secure() const { return settings_.keys.has_value(); }

  // Dials new neighbours, hangs up on those no longer listed, and admits only the listed keys.
  // invalid_argument when a neighbour's key does not fit this device's security (a key
  // missing under CURVE, or given without it).
  Status set_neighbours(const std::vector<PeerAddress>& neighbours);
  // Waits up to `timeout` until every neighbour link has completed its handshake; returns the
  // ids still not connected (a neighbour that is offline, or refuses this device's key).
  std::vector<std::string> wait_connected(std::chrono::milliseconds timeout);
  // One message to every neighbour; returns how many took it (an unconnected one does not).
  std::size_t send_to_all(ByteView message);
  Status send_to(const std::string& device_id, ByteView message);
  Result<std::optional<Inbound>> receive(std::chrono::milliseconds timeout);
  // Under CURVE: the neighbour whose key authenticated a connection; nullopt for any other.
  std::optional<std::string> neighbour_with_key(const std::string& public_z85) const;

 private:
  PeerLinks(PeerLinkSettings settings, std::unique_ptr<NetContext> context);

  PeerLinkSettings settings_;
  std::unique_ptr<NetContext> context_;
  std::unique_ptr<ZapAuthenticator> zap_;  // before the sockets: they are destroyed first
  std::unique_ptr<ServerTransport> router_;
  struct Dealer {
    PeerAddress address;
    std::unique_ptr<DeviceTransport> link;
    bool connected = false;  // from the link's events: a handshake succeeded, no drop since
  };
  std::map<std::string, Dealer> dealers_;
};

}  // namespace edgefl
