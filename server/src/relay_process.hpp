// RelayProcess: what edgefl-server --upstream runs beside its coordinator — the uplink's
// outbox (<state_dir>/upstream-outbox), its UpstreamSession and the thread that runs it.
//
//   auto relay = RelayProcess::start(config, context, log);      // the uplink thread runs
//   auto coordinator = Coordinator::create(config, fs, log, clock, &(*relay)->uplink());
//   (*relay)->run(); serve(...);                                  // links upstream now
//   Status upstream = (*relay)->stop();                           // why the uplink ended
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "coordinator.hpp"
#include "edgefl/net/net_context.hpp"
#include "relay_uplink.hpp"
#include "server_config.hpp"
#include "upstream_session.hpp"

namespace edgefl::server {

class RelayProcess {
 public:
  // Opens the outbox and loads the keys (errors name the file); links nothing yet.
  static Result<std::unique_ptr<RelayProcess>> create(const ServerConfig& config,
                                                      NetContext& context, LogSink log);
  ~RelayProcess();  // stops the uplink and waits for its thread

  RelayUplink& uplink() { return *uplink_; }
  // Starts linking upstream on the uplink's thread (after the coordinator recovered its state).
  void run();
  // Stops the uplink (if it still runs) and says why it ended: ok when the upstream finished
  // the run, cancelled when stopped here, else the uplink's error.
  Status stop();

 private:
  RelayProcess() = default;

  std::optional<Outbox> outbox_;
  std::unique_ptr<RelayUplink> uplink_;
  std::unique_ptr<device::UpstreamSession> session_;
  device::ChannelFactory connect_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The Join a relay sends upstream: Join.relay, no data of its own (sample_count 0: its weight
// is checked per update, by the sum's own samples), every codec.
Join relay_join(const std::string& relay_id);

}  // namespace edgefl::server
