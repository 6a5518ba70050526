// SocketMonitor: reads libzmq's monitor events for one socket as LinkEvents.
//
// libzmq's I/O thread writes monitor events with a blocking send: once the monitor's pipe is
// full, that thread stops -- no accepts, no reads, no writes for any peer -- until someone
// reads, and closing the socket then deadlocks. A server that never asked for events stalled
// after a few hundred connections came and went. So the pipe has no high-water mark, and the
// transports call collect() on every receive: pending events move into a bounded queue here
// (the oldest dropped beyond kMaxPending), whether or not anyone ever asks for them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
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

  static constexpr std::size_t kMaxPending = 1024;

  // Moves what libzmq has written into the queue without waiting. Throws.
  void collect();
  // Every pending event; waits up to `wait` for the first when none is pending. Throws.
  std::vector<LinkEvent> drain(std::chrono::milliseconds wait);
  // Events dropped because nobody drained kMaxPending of them.
  uint64_t dropped() const { return dropped_; }

 private:
  // Reads events from the pipe, waiting up to `wait` for the first.
  void read(std::chrono::milliseconds wait);

  zmq::socket_t& watched_;
  zmq::socket_t pair_;
  std::deque<LinkEvent> pending_;
  uint64_t dropped_ = 0;
};

}  // namespace edgefl
