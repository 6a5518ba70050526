// MemoryNetwork: server and device channels joined by in-process queues, for protocol-state
// tests that need neither sockets, threads nor sleeps.
//
//   edgefl::ManualTimeSource clock;
//   edgefl::MemoryNetwork net(&clock);
//   std::unique_ptr<edgefl::DeviceChannel> a = net.connect("dev-a");   // routing id "dev-a"
//   coordinator->poll(net.server(), 50ms);    // nothing queued: the clock moves on by 50 ms
//
// A receive() that finds its queue empty returns nullopt at once and, when a clock is given,
// advances it by the timeout it was asked to wait: time passes exactly as the code under test
// lets it. A connection can be cut (cut(): messages to it vanish, sends from it fail) and a
// device can reconnect under a new routing id (connect again), as a DEALER does after a drop.
// One thread drives it in tests; a mutex makes crossing threads safe, not meaningful.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "edgefl/base/time_source.hpp"
#include "edgefl/net/transport.hpp"

namespace edgefl {

class MemoryNetwork {
 public:
  explicit MemoryNetwork(ManualTimeSource* clock = nullptr);
  ~MemoryNetwork();
  MemoryNetwork(const MemoryNetwork&) = delete;
  MemoryNetwork& operator=(const MemoryNetwork&) = delete;

  ServerChannel& server();
  // A device link with routing id `peer`; `identity` is what an authenticated transport would
  // report (empty: plaintext). The returned channel must not outlive this network.
  std::unique_ptr<DeviceChannel> connect(const std::string& peer, const std::string& identity = "");
  // The connection `peer` dies: queued and later messages to it are dropped, its sends fail.
  void cut(const std::string& peer);
  // Messages the server sent to `peer` that it has not received yet.
  std::size_t pending_for(const std::string& peer) const;
  // The device end of `peer` reports `kind` at its next poll_events (e.g. a refused key).
  void report(const std::string& peer, LinkEvent::Kind kind);
  // What the server charged `peer` against its rate limit so far (ServerChannel::charge).
  double charged(const std::string& peer) const;

 private:
  class ServerEnd;
  class DeviceEnd;
  struct Link {
    std::string identity;
    bool alive = true;
    std::deque<Bytes> to_device;
    std::vector<LinkEvent> events;  // for the device end
  };

  void wait_out(std::chrono::milliseconds timeout);

  ManualTimeSource* clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Link> links_;
  std::deque<Inbound> to_server_;
  std::map<std::string, double> charged_;
  std::unique_ptr<ServerEnd> server_;
};

}  // namespace edgefl
