// RelayCoordinator: a relay aggregator (edgefl-server --upstream). To its own devices it is a
// round server; to its upstream it is one device (RelayUplink, an UpstreamSession), which
// sends one Update per upstream round: the exact partial sum of its devices' updates
// (Update.partial_sum, protocol 1.7; docs/protocol.md §15).
//
//   upstream Task of round R -> forwarded verbatim to the relay's devices (round R here too)
//   -> their Updates: dedupe, WAL, Ack, ExactMean (the round schedule's own path)
//   -> close at all answered, min_updates + grace, or the upstream deadline minus a margin
//   -> the partial sum into the uplink's outbox (durable) -> checkpoint -> send upstream
//
// Exactly once at both tiers: a device's update is acknowledged only once it is in the
// relay's WAL; the round's sum is in the outbox before the checkpoint that closes the round,
// so a relay killed in between finds the sum there on resume and closes the round without
// taking more; the upstream dedupes the relay's resends by (relay, round). The relay's model
// is the upstream's Task: adopted (and checkpointed) when a Task names another version.
#pragma once

#include <optional>

#include "relay_uplink.hpp"
#include "round_coordinator.hpp"

namespace edgefl::server {

class RelayCoordinator final : public RoundCoordinator {
 public:
  RelayCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                   std::unique_ptr<ServerStrategy> strategy, TaskFactory tasks, Evaluator evaluator,
                   RelayUplink& uplink);

  bool finished() const override { return uplink_->ended(); }

 private:
  Status when_idle(ServerChannel& channel) override;
  Status close_round() override;
  bool gradient_round() const override { return gradient_only_; }
  Status run_timers(ServerChannel& channel) override;
  uint64_t bound_run_id() const override { return upstream_run_id_; }
  void save_extras(Checkpoint& checkpoint) const override;
  Status restore_extras(const Checkpoint& checkpoint) override;
  // A sum stored before a crash closes its round now: nothing more may join it.
  Status after_recovery() override;

  // Makes `task`'s model, version and run this relay's, and its round the next to open.
  Status adopt(const UpstreamTask& task);
  // When the round for `task` must close: the upstream deadline less the margin.
  Clock::time_point close_by(const UpstreamTask& task) const;

  RelayUplink* uplink_;
  std::optional<UpstreamTask> pending_;  // the newest upstream Task not yet served
  uint64_t upstream_run_id_ = 0;
  bool gradient_only_ = false;  // the open round's Task asks for gradients
};

}  // namespace edgefl::server
