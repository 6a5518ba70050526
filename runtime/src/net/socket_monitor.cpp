#include "socket_monitor.hpp"

#include <cstdint>
#include <cstring>
#include <iterator>

#include "socket_io.hpp"

namespace edgefl {

namespace {
constexpr int kWatchedEvents =
    ZMQ_EVENT_CONNECTED | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED |
    ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;

LinkEvent::Kind kind_of(uint16_t event) {
  switch (event) {
    case ZMQ_EVENT_CONNECTED:
      return LinkEvent::Kind::connected;
    case ZMQ_EVENT_ACCEPTED:
      return LinkEvent::Kind::accepted;
    case ZMQ_EVENT_DISCONNECTED:
      return LinkEvent::Kind::disconnected;
    case ZMQ_EVENT_CLOSED:
      return LinkEvent::Kind::closed;
    case ZMQ_EVENT_CONNECT_RETRIED:
      return LinkEvent::Kind::connect_retried;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      return LinkEvent::Kind::handshake_succeeded;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      return LinkEvent::Kind::handshake_failed_auth;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      return LinkEvent::Kind::handshake_failed_protocol;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      return LinkEvent::Kind::handshake_failed;
    default:
      return LinkEvent::Kind::other;
  }
}
}  // namespace

SocketMonitor::SocketMonitor(NetContext::Impl& ctx, zmq::socket_t& watched) : watched_(watched) {
  std::string address = ctx.unique_inproc("monitor");
  if (zmq_socket_monitor(watched.handle(), address.c_str(), kWatchedEvents) != 0) {
    throw zmq::error_t();
  }
  pair_ = zmq::socket_t(ctx.zmq, zmq::socket_type::pair);
  pair_.set(zmq::sockopt::linger, 0);
  pair_.set(zmq::sockopt::rcvhwm, 0);  // unbounded: the I/O thread must never wait on us
  pair_.connect(address);
}

SocketMonitor::~SocketMonitor() {
  // Stop the monitor before closing our end, so libzmq does not write into a closed pipe.
  zmq_socket_monitor(watched_.handle(), nullptr, 0);
}

void SocketMonitor::read(std::chrono::milliseconds wait) {
  std::chrono::milliseconds timeout = wait;
  while (auto frames = receive_frames(pair_, timeout)) {
    timeout = std::chrono::milliseconds(0);
    // Version 1 event: frame 0 = uint16 event id + uint32 value; frame 1 = endpoint.
    if (frames->size() != 2 || (*frames)[0].size() < sizeof(uint16_t)) continue;
    uint16_t id = 0;
    std::memcpy(&id, (*frames)[0].data(), sizeof id);
    LinkEvent event;
    event.kind = kind_of(id);
    event.endpoint = (*frames)[1].to_string();
    event.when = std::chrono::steady_clock::now();
    if (pending_.size() == kMaxPending) {
      pending_.pop_front();
      ++dropped_;
    }
    pending_.push_back(std::move(event));
  }
}

void SocketMonitor::collect() { read(std::chrono::milliseconds(0)); }

std::vector<LinkEvent> SocketMonitor::drain(std::chrono::milliseconds wait) {
  read(pending_.empty() ? wait : std::chrono::milliseconds(0));
  std::vector<LinkEvent> events(std::make_move_iterator(pending_.begin()),
                                std::make_move_iterator(pending_.end()));
  pending_.clear();
  return events;
}

const char* link_event_name(LinkEvent::Kind kind) {
  switch (kind) {
    case LinkEvent::Kind::connected:
      return "connected";
    case LinkEvent::Kind::accepted:
      return "accepted";
    case LinkEvent::Kind::handshake_succeeded:
      return "handshake_succeeded";
    case LinkEvent::Kind::handshake_failed_auth:
      return "handshake_failed_auth";
    case LinkEvent::Kind::handshake_failed_protocol:
      return "handshake_failed_protocol";
    case LinkEvent::Kind::handshake_failed:
      return "handshake_failed";
    case LinkEvent::Kind::disconnected:
      return "disconnected";
    case LinkEvent::Kind::connect_retried:
      return "connect_retried";
    case LinkEvent::Kind::closed:
      return "closed";
    case LinkEvent::Kind::other:
      return "other";
  }
  return "other";
}

}  // namespace edgefl
