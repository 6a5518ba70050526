#include <algorithm>
#include <cctype>

#include "connection_cut.hpp"
#include "edgefl/net/peer_rate_limit.hpp"
#include "edgefl/net/zap_authenticator.hpp"
#include "edgefl/net/zmq_transport.hpp"
#include "net_context_impl.hpp"
#include "socket_io.hpp"
#include "socket_monitor.hpp"
#include "socket_setup.hpp"
#include "zmq_status.hpp"

namespace edgefl {

struct ServerTransport::Impl {
  Impl(NetContext::Impl& ctx, const SocketPolicy& policy)
      : socket(ctx.zmq, zmq::socket_type::router),
        rate_limit(policy.peer_messages_per_s, policy.peer_burst) {}
  zmq::socket_t socket;
  std::unique_ptr<SocketMonitor> monitor;  // declared after the socket: destroyed before it
  std::string endpoint;
  int port = -1;  // of a tcp:// endpoint: connections accepted on it can be cut
  PeerRateLimit rate_limit;
  ServerTransportStats stats;
};

bool is_loopback_endpoint(const std::string& endpoint) {
  if (endpoint.starts_with("inproc://") || endpoint.starts_with("ipc://")) return true;
  if (!endpoint.starts_with("tcp://")) return false;
  std::string host = endpoint.substr(6);
  // Drop the port: the host is everything before the last ':' (IPv6 hosts are bracketed).
  size_t colon = host.rfind(':');
  if (colon != std::string::npos) host.resize(colon);
  if (host == "localhost" || host == "[::1]") return true;
  if (!host.starts_with("127.")) return false;
  for (char c : host) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return false;
  }
  return true;
}

namespace {
Status check_server_security(NetContext& ctx, const std::string& endpoint,
                             const ServerSecurity& security) {
  if (security.curve) {
    EDGEFL_RETURN_IF_ERROR(
        check_z85_key(security.curve->secret_z85).with_context("server secret key"));
    if (security.authenticator == nullptr) {
      return make_status(StatusCode::failed_precondition,
                         "CURVE keys configured but no ZapAuthenticator: refusing to start a "
                         "server that would accept any client key");
    }
    if (security.authenticator->context() != &ctx) {
      return make_status(StatusCode::failed_precondition,
                         "the ZapAuthenticator runs in another NetContext and would not be asked");
    }
    if (zmq_has("curve") == 0) {
      return make_status(StatusCode::failed_precondition, "libzmq was built without CURVE");
    }
    return Status();
  }
  if (!is_loopback_endpoint(endpoint) && !security.insecure) {
    return make_status(StatusCode::failed_precondition,
                       "refusing to listen on '" + endpoint +
                           "' without CURVE keys; configure keys or set insecure explicitly");
  }
  return Status();
}
}  // namespace

Result<std::unique_ptr<ServerTransport>> ServerTransport::bind(NetContext& ctx,
                                                               const std::string& endpoint,
                                                               const SocketPolicy& policy,
                                                               const ServerSecurity& security) {
  EDGEFL_RETURN_IF_ERROR(policy.validate().with_context("socket policy"));
  EDGEFL_RETURN_IF_ERROR(check_server_security(ctx, endpoint, security));
  try {
    auto impl = std::make_unique<Impl>(ctx.impl(), policy);
    apply_socket_policy(impl->socket, policy, SocketRole::server);
    if (security.curve) apply_curve_server(impl->socket, *security.curve);
    if (policy.link_events)
      impl->monitor = std::make_unique<SocketMonitor>(ctx.impl(), impl->socket);
    impl->socket.bind(endpoint);
    impl->endpoint = impl->socket.get(zmq::sockopt::last_endpoint);
    impl->port = endpoint_port(impl->endpoint);
    return std::unique_ptr<ServerTransport>(new ServerTransport(std::move(impl)));
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "binding server to '" + endpoint + "'");
  }
}

ServerTransport::ServerTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerTransport::~ServerTransport() = default;

const std::string& ServerTransport::endpoint() const {
  return impl_->endpoint;
}

const ServerTransportStats& ServerTransport::stats() const {
  return impl_->stats;
}

Status ServerTransport::send(const std::string& peer, ByteView message) {
  try {
    zmq::message_t id(peer.data(), peer.size());
    // Never wait: one poll loop serves every device, and a peer that does not read (dead, slow
    // or hostile) must not hold it. ROUTER_MANDATORY reports a full queue as EAGAIN here and
    // an unknown peer as EHOSTUNREACH; once the id frame is queued the body always fits.
    if (!impl_->socket.send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      ++impl_->stats.dropped_queue_full;
      return make_status(StatusCode::unavailable, "peer's send queue is full: message dropped");
    }
    zmq::message_t body(message.data(), message.size());
    impl_->socket.send(body, zmq::send_flags::dontwait);
    return Status();
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) {
      ++impl_->stats.dropped_unroutable;
      return make_status(StatusCode::unavailable, "peer has no live connection");
    }
    return status_from_zmq(e, "sending to peer");
  }
}

Result<std::optional<Inbound>> ServerTransport::receive(std::chrono::milliseconds timeout) {
  try {
    // [routing id, payload]; a device that sent several frames broke the protocol: skipped.
    // So is a message over its peer's rate: dropped before anyone decodes it, and the peer's
    // connection cut so the rest of its flood is not received one message at a time.
    if (impl_->monitor)
      impl_->monitor->collect();  // see SocketMonitor: libzmq stalls when its events pile up
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<std::vector<zmq::message_t>> frames;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      frames = receive_message(impl_->socket, std::max(left, std::chrono::milliseconds(0)), 2);
      const auto now = std::chrono::steady_clock::now();
      if (!frames && now < deadline) continue;  // `left` was rounded down
      if (!frames) return std::optional<Inbound>();
      const RateVerdict verdict = impl_->rate_limit.admit((*frames)[0].to_string(), now);
      if (verdict == RateVerdict::admit) break;
      ++impl_->stats.dropped_over_rate;
      if (verdict == RateVerdict::cut && cut_source_connection((*frames)[1], impl_->port)) {
        ++impl_->stats.cut_over_rate;
      }
    }
    Inbound in;
    in.peer = (*frames)[0].to_string();
    if (const char* user = zmq_msg_gets((*frames)[1].handle(), "User-Id")) in.identity = user;
    in.payload = frame_bytes((*frames)[1]);
    return std::optional<Inbound>(std::move(in));
  } catch (const zmq::error_t& e) {
    return status_from_zmq(e, "receiving at server");
  }
}

void ServerTransport::charge(const std::string& peer, double messages) {
  impl_->rate_limit.charge(peer, messages, std::chrono::steady_clock::now());
}

std::vector<LinkEvent> ServerTransport::poll_events(std::chrono::milliseconds wait) {
  try {
    if (!impl_->monitor) return {};  // link_events off
    return impl_->monitor->drain(wait);
  } catch (const zmq::error_t&) {
    return {};  // a monitor failure loses hints, never messages
  }
}

}  // namespace edgefl
