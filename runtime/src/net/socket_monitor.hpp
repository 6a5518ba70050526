// SocketMonitor: reads libzmq's monitor events for one socket as LinkEvents.
#pragma once

#include <chrono>
#include <vector>

#include <zmq.hpp>

#include "edgefl/net/transport.hpp"
#include "net_context_impl.hpp"

namespace edgefl {

class SocketMonitor {
 public:
  // Throws zmq::error_t. `watched` must outlive this monitor.
  SocketMonitor(NetContext::Impl& ctx, zmq::socket_t& watched);
  ~SocketMonitor();
  SocketMonitor(const SocketMonitor&) = delete;
  SocketMonitor& operator=(const SocketMonitor&) = delete;

  // Every pending event; waits up to `wait` for the first when none is pending. Throws.
  std::vector<LinkEvent> drain(std::chrono::milliseconds wait);

 private:
  zmq::socket_t& watched_;
  zmq::socket_t pair_;
};

}  // namespace edgefl
