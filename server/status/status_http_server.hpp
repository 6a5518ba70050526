// StatusHttpServer: serves the status endpoint (cpp-httplib) from a SnapshotBoard, on its own
// threads: an accept thread and a task queue of two, so a slow scraper never slows training.
//
//   SnapshotBoard board;
//   Result<std::unique_ptr<StatusHttpServer>> http = StatusHttpServer::start(config.status, board);
//   ... serve(coordinator, transport, options with options.snapshots = &board) ...
//   // destroying it stops the server and joins its threads
//
//   GET /metrics   Prometheus text format 0.0.4
//   GET /status    JSON (?page=N&per_page=M pages the device table)
//   GET /          the status page (holds no data: it polls /status)
//
// With a token file, /metrics and /status answer 401 unless the request carries
// "Authorization: Bearer <token>". Whether the settings are safe to serve is decided before
// (check_status_security).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "edgefl/base/status.hpp"
#include "fleet_snapshot.hpp"
#include "server_config.hpp"

namespace httplib {
class Server;
}

namespace edgefl::server {

class StatusHttpServer {
 public:
  static Result<std::unique_ptr<StatusHttpServer>> start(const StatusConfig& config,
                                                         const SnapshotBoard& board);
  ~StatusHttpServer();
  StatusHttpServer(const StatusHttpServer&) = delete;
  StatusHttpServer& operator=(const StatusHttpServer&) = delete;

  // HOST:PORT actually bound (the port is chosen when the configuration says 0).
  const std::string& address() const { return address_; }
  bool tls() const { return tls_; }

 private:
  StatusHttpServer(std::unique_ptr<httplib::Server> http, std::string address, bool tls);

  std::unique_ptr<httplib::Server> http_;
  std::string address_;
  bool tls_;
  std::atomic<bool> listener_done_{false};
  std::thread listener_;
};

}  // namespace edgefl::server
