// DpsgdCoordinator: decentralised training (strategy.name = dpsgd; docs/protocol.md §14). The
// server is a rendezvous and topology service: it places the devices that joined with a peer
// endpoint in a seeded topology (TopologyService), sends each its PeerAssignment, re-wires
// around a device silent longer than dpsgd.offline_s, and turns the devices' PeerReports into
// one metrics line and progress line per report interval. It never aggregates: Updates are
// refused and the global model stays the initial one (the start of every device).
//
// A device that joins without a peer endpoint (a 1.5 device, or no peer.listen) is refused
// with failed_precondition. `rounds` counts DPSGD steps: the run is finished when the devices
// have reported the last one. With dpsgd.snapshot_interval the reports carry the devices'
// parameters, from which the line adds the exact consensus distance (1/n) sum ||x_j - x̄||² and
// the test score of x̄; otherwise it has the estimate from the neighbours' distances.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "coordinator.hpp"
#include "edgefl/decentral/topology_service.hpp"

namespace edgefl::server {

class DpsgdCoordinator final : public Coordinator {
 public:
  DpsgdCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock, ModelSpec spec,
                   TaskFactory tasks, Evaluator evaluator);

 private:
  // What one device reported for one step.
  struct Report {
    double train_loss = 0.0;
    std::vector<double> squared_distances;
    uint64_t missed = 0, one_sided_misses = 0, refused = 0, bytes_sent = 0;
    std::optional<FloatBuffer> snapshot;
  };

  AcceptedKey dedupe_key(const std::string& device_id, const Update& update) const override;
  Admission admit(const Update& update) const override;
  Status fold(const std::string& device_id, const Update& update, std::span<const float> values,
              const Admission& admission) override;
  Status after_logged(const std::string& device_id, const Update& update,
                      const Admission& admission, bool replaying) override;
  Status on_joined(ServerChannel& channel, DeviceRecord& device) override;
  Status on_heartbeat(ServerChannel& channel, DeviceRecord& device, uint64_t working_on) override;
  Status run_timers(ServerChannel& channel) override;
  Status restore_extras(const Checkpoint& checkpoint) override;
  Result<bool> handle_other(ServerChannel& channel, DeviceRecord& device,
                            const DecodedMessage& decoded) override;
  void on_left(const std::string& device_id) override;

  // The Task every device starts from (the run's model, settings and initial parameters).
  Status build_start();
  Status send_assignment(ServerChannel& channel, const std::string& device_id);
  // Writes the line of every step whose reports are complete, or whose first report is older
  // than the offline limit (a device offline within the limit reports nothing).
  Status publish_ready();
  Status publish(uint64_t step, const std::map<std::string, Report>& reports);

  TopologyService service_;
  std::vector<uint8_t> start_bytes_;
  AlignedBytes start_scratch_;
  std::optional<Task> start_;  // views into start_bytes_ / start_scratch_
  std::map<uint64_t, std::map<std::string, Report>> reports_;  // by step, then device
  std::map<uint64_t, Clock::time_point> first_report_at_;      // by step
  uint64_t newest_step_ = 0;  // reported by any device: where a late joiner's neighbours are
};

}  // namespace edgefl::server
