#include "peer_links.hpp"

#include <algorithm>

namespace edgefl {

SocketPolicy PeerLinkSettings::peer_socket_policy() {
  SocketPolicy policy;
  policy.send_timeout_base_ms = 1;
  return policy;
}

PeerLinks::PeerLinks(PeerLinkSettings settings, std::unique_ptr<NetContext> context)
    : settings_(std::move(settings)), context_(std::move(context)) {}

PeerLinks::~PeerLinks() {
  // Sockets before the ZAP handler, the handler before the context.
  dealers_.clear();
  router_.reset();
  zap_.reset();
}

Result<std::unique_ptr<PeerLinks>> PeerLinks::open(const PeerLinkSettings& settings) {
  auto context = NetContext::create();
  if (!context) return context.status();
  std::unique_ptr<PeerLinks> links(new PeerLinks(settings, std::move(*context)));
  ServerSecurity security{
      .curve = settings.keys, .authenticator = nullptr, .insecure = settings.insecure};
  if (settings.keys) {
    // Nobody is admitted until the first assignment names the neighbours.
    auto zap = ZapAuthenticator::start(*links->context_, {});
    if (!zap) return zap.status().with_context("peer socket");
    links->zap_ = std::move(*zap);
    security.authenticator = links->zap_.get();
  }
  auto router = ServerTransport::bind(*links->context_, settings.listen, settings.policy, security);
  if (!router) return router.status().with_context("peer.listen " + settings.listen);
  links->router_ = std::move(*router);
  return links;
}

const std::string& PeerLinks::endpoint() const {
  return router_->endpoint();
}

Status PeerLinks::set_neighbours(const std::vector<PeerAddress>& neighbours) {
  std::vector<std::string> keys;
  for (const PeerAddress& n : neighbours) {
    if (secure() && n.public_key.empty()) {
      return make_status(StatusCode::invalid_argument,
                         "neighbour '" + n.device_id +
                             "' has no public key, and this device's peer links use CURVE");
    }
    if (!secure() && !n.public_key.empty()) {
      return make_status(
          StatusCode::invalid_argument,
          "neighbour '" + n.device_id + "' uses CURVE, and this device has no peer keys");
    }
    if (secure()) {
      EDGEFL_RETURN_IF_ERROR(
          check_z85_key(n.public_key).with_context("neighbour '" + n.device_id + "' key"));
      keys.push_back(n.public_key);
    }
  }
  if (zap_) EDGEFL_RETURN_IF_ERROR(zap_->set_allowed_keys(keys));
  std::map<std::string, Dealer> next;
  for (const PeerAddress& n : neighbours) {
    auto kept = dealers_.find(n.device_id);
    if (kept != dealers_.end() && kept->second.address == n) {
      next.emplace(n.device_id, std::move(kept->second));
      continue;
    }
    DeviceSecurity security;
    if (secure())
      security = DeviceSecurity{.curve = settings_.keys, .server_public_z85 = n.public_key};
    auto dealer = DeviceTransport::connect(*context_, n.endpoint, settings_.policy, security);
    if (!dealer) return dealer.status().with_context("dialling neighbour '" + n.device_id + "'");
    next.emplace(n.device_id, Dealer{n, std::move(*dealer)});
  }
  dealers_ = std::move(next);  // the dropped neighbours' sockets close here
  return Status();
}

std::vector<std::string> PeerLinks::wait_connected(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> waiting;
  for (bool first = true;; first = false) {
    waiting.clear();
    for (auto& [id, dealer] : dealers_) {
      // Links not yet up wait on their monitor for the next event (a few ms), the others only
      // drain what happened.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      const auto wait = dealer.connected || first ? std::chrono::milliseconds(0)
                                                  : std::clamp(left, std::chrono::milliseconds(0),
                                                               std::chrono::milliseconds(20));
      for (const LinkEvent& event : dealer.link->poll_events(wait)) {
        if (event.kind == LinkEvent::Kind::handshake_succeeded) dealer.connected = true;
        if (event.kind == LinkEvent::Kind::disconnected || event.kind == LinkEvent::Kind::closed) {
          dealer.connected = false;
        }
      }
      if (!dealer.connected) waiting.push_back(id);
    }
    if (waiting.empty() || std::chrono::steady_clock::now() >= until) return waiting;
  }
}

std::size_t PeerLinks::send_to_all(ByteView message) {
  std::size_t taken = 0;
  for (auto& [id, dealer] : dealers_) {
    if (dealer.link->send(message).ok()) ++taken;
  }
  return taken;
}

Status PeerLinks::send_to(const std::string& device_id, ByteView message) {
  auto link = dealers_.find(device_id);
  if (link == dealers_.end()) {
    return make_status(StatusCode::unknown_device, "'" + device_id + "' is not a neighbour");
  }
  return link->second.link->send(message);
}

Result<std::optional<Inbound>> PeerLinks::receive(std::chrono::milliseconds timeout) {
  return router_->receive(timeout);
}

std::optional<std::string> PeerLinks::neighbour_with_key(const std::string& public_z85) const {
  for (const auto& [id, dealer] : dealers_) {
    if (!public_z85.empty() && dealer.address.public_key == public_z85) return id;
  }
  return std::nullopt;
}

}  // namespace edgefl
