// TcpProxy: a loopback TCP forwarder that a test can freeze, so a link goes silent with both
// sockets left open (a "blackhole") — the failure only heartbeats can detect.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "edgefl/base/unique_fd.hpp"

namespace edgefl::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1:<ephemeral> and forwards every connection to 127.0.0.1:upstream_port.
  explicit TcpProxy(uint16_t upstream_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  bool ok() const { return listen_.valid(); }
  std::string endpoint() const;  // "tcp://127.0.0.1:<port>"
  // Stops forwarding in both directions; connections stay open and unread.
  void freeze() { frozen_ = true; }

 private:
  void run();

  uint16_t upstream_port_;
  uint16_t port_ = 0;
  UniqueFd listen_;
  UniqueFd wake_read_, wake_write_;  // a pipe: the destructor writes to stop the thread
  std::atomic<bool> frozen_{false};
  std::thread thread_;
};

// A loopback port that is bound but never listens: connections to it are refused, and no other
// test can take the port while this object lives.
class ClosedPort {
 public:
  ClosedPort();
  std::string endpoint() const;

 private:
  UniqueFd socket_;
  uint16_t port_ = 0;
};

// The port of "tcp://host:port".
uint16_t endpoint_port(const std::string& endpoint);

}  // namespace edgefl::testing
