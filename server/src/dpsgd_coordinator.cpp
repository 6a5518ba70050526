#include "dpsgd_coordinator.hpp"

#include <cinttypes>
#include <cstdio>

#include "edgefl/base/json_line.hpp"

namespace edgefl::server {

namespace {

// The strategy slot of a run whose server aggregates nothing: every call to aggregate fails.
class NoAggregation final : public ServerStrategy {
 public:
  explicit NoAggregation(std::size_t parameters) : parameters_(parameters) {}
  std::string_view name() const override { return "dpsgd"; }
  bool asynchronous() const override { return false; }
  std::size_t parameter_count() const override { return parameters_; }
  Status apply(std::span<float>, std::span<const float>) override { return refused(); }
  Result<bool> arrive(std::span<float>, const Arrival&) override { return refused(); }
  StrategyState save_state() const override { return {}; }
  Status restore_state(const StrategyState&) override { return Status(); }

 private:
  static Status refused() {
    return make_status(StatusCode::failed_precondition,
                       "decentralised training: the server aggregates no models");
  }
  std::size_t parameters_;
};

TopologySettings topology_settings(const ServerConfig& config) {
  return TopologySettings{
      .kind = parse_topology(config.dpsgd.topology).value(),  // validate_server_config checked it
      .seed = config.seed,
      .min_devices = config.min_devices,
      .offline_limit = std::chrono::milliseconds(
          static_cast<int64_t>(config.dpsgd.offline_s * config.time_scale * 1000))};
}

}  // namespace

DpsgdCoordinator::DpsgdCoordinator(const ServerConfig& config, LogSink log, TimeSource& clock,
                                   ModelSpec spec, TaskFactory tasks, Evaluator evaluator)
    : Coordinator(config, std::move(log), clock, spec,
                  std::make_unique<NoAggregation>(spec.parameter_count()), std::move(tasks),
                  std::move(evaluator)),
      service_(topology_settings(config)) {}

AcceptedKey DpsgdCoordinator::dedupe_key(const std::string& device_id, const Update& update) const {
  return {device_id, update.update_id};
}

Coordinator::Admission DpsgdCoordinator::admit(const Update&) const {
  return Admission{.refusal =
                       make_status(StatusCode::failed_precondition,
                                   "decentralised training: the server takes no model updates")};
}

Status DpsgdCoordinator::fold(const std::string&, const Update&, std::span<const float>,
                              const Admission&) {
  return make_status(StatusCode::failed_precondition,
                     "decentralised training: the server takes no model updates");
}

Status DpsgdCoordinator::after_logged(const std::string&, const Update&, const Admission&, bool) {
  return Status();
}

Status DpsgdCoordinator::restore_extras(const Checkpoint&) {
  return Status();
}

Status DpsgdCoordinator::build_start() {
  if (start_) return Status();
  auto bytes = encode_task(/*task_id=*/1, /*round=*/1);
  if (!bytes) return bytes.status();
  start_bytes_ = std::move(*bytes);
  auto decoded = decode_message(start_bytes_, start_scratch_, limits_);
  if (!decoded) return decoded.status().with_context("the start task");
  Task task = std::get<Task>(decoded->message);
  task.config.local_steps = config_.rounds;  // the run's DPSGD steps
  task.config.local_epochs = 0;
  start_ = std::move(task);
  return Status();
}

Status DpsgdCoordinator::on_joined(ServerChannel& channel, DeviceRecord& device) {
  if (device.peer_endpoint.empty()) {
    const std::string id = device.id, peer = device.peer;
    devices_.forget(id);
    warn("refused " + id +
         ": decentralised training needs a peer endpoint (protocol 1.6, peer.listen)");
    reject(channel, peer,
           make_status(
               StatusCode::failed_precondition,
               "decentralised training needs protocol 1.6 and a peer endpoint (set peer.listen)"),
           std::nullopt);
    return Status();
  }
  // Under CURVE the device id is its public key, which its neighbours' peer sockets admit.
  const std::string key = config_.secret_key_file.empty() ? std::string() : device.id;
  service_.joined({device.id, device.peer_endpoint, key}, now());
  // A device placed in the current graph that comes back unchanged (a restart, a new link)
  // gets its place again; a changed graph is sent by the next timer.
  const auto& current = service_.current();
  if (current && current->placements.count(device.id) != 0) {
    auto plan = service_.rewire(now());
    if (!plan) return plan.status();
    if (*plan) {
      for (const auto& [id, placement] : (*plan)->placements)
        EDGEFL_RETURN_IF_ERROR(send_assignment(channel, id));
    } else {
      return send_assignment(channel, device.id);
    }
  }
  return Status();
}

Status DpsgdCoordinator::on_heartbeat(ServerChannel&, DeviceRecord& device, uint64_t) {
  service_.heard_from(device.id, now());
  return Status();
}

void DpsgdCoordinator::on_left(const std::string& device_id) {
  service_.left(device_id);
}

Status DpsgdCoordinator::send_assignment(ServerChannel& channel, const std::string& device_id) {
  EDGEFL_RETURN_IF_ERROR(build_start());
  const auto& plan = service_.current();
  const DeviceRecord* device = devices_.find(device_id);
  if (!plan || device == nullptr) return Status();
  const MemberPlacement& placement = plan->placements.at(device_id);
  PeerAssignment a;
  a.epoch = plan->epoch;
  a.topology = static_cast<uint8_t>(parse_topology(config_.dpsgd.topology).value());
  a.self_weight = placement.self_weight;
  for (const auto& [member, weight] : placement.neighbours) {
    a.neighbours.push_back({member.device_id, member.endpoint, member.public_key, weight});
  }
  a.step_deadline_ms =
      static_cast<uint32_t>(config_.dpsgd.step_deadline_s * config_.time_scale * 1000);
  a.staleness_bound = config_.dpsgd.staleness_bound;
  a.report_interval = config_.dpsgd.report_interval;
  a.snapshot_interval = config_.dpsgd.snapshot_interval;
  a.start = *start_;
  // Non-zero: the run is in progress, and a device that starts now catches up (§14.7).
  a.start.config.start_step = newest_step_;
  return send(channel, device->peer, a);
}

Status DpsgdCoordinator::run_timers(ServerChannel& channel) {
  if (!service_.current()) {
    Result<bool> ready = enough_devices(now());
    if (!ready) return ready.status();
    if (!*ready) return Status();
  }
  const std::vector<std::string> gone = service_.offline(now());
  auto plan = service_.rewire(now());
  if (!plan) return plan.status();
  if (*plan) {
    std::string line = "topology epoch " + std::to_string((*plan)->epoch) + ": " +
                       config_.dpsgd.topology + " of " +
                       std::to_string((*plan)->placements.size()) + " devices";
    if (!gone.empty())
      line += ", re-wired around " + std::to_string(gone.size()) + " silent device(s)";
    log_(line);
    for (const auto& [id, placement] : (*plan)->placements)
      EDGEFL_RETURN_IF_ERROR(send_assignment(channel, id));
  }
  return publish_ready();
}

Result<bool> DpsgdCoordinator::handle_other(ServerChannel&, DeviceRecord& device,
                                            const DecodedMessage& decoded) {
  const PeerReport* r = std::get_if<PeerReport>(&decoded.message);
  if (r == nullptr) return false;
  service_.heard_from(device.id, now());
  newest_step_ = std::max(newest_step_, r->step);
  if (r->step <= rounds_closed_) return true;  // its line is written already
  Report report;
  report.train_loss = r->train_loss;
  report.squared_distances = r->squared_distances;
  report.missed = r->missed;
  report.one_sided_misses = r->one_sided_misses;
  report.refused = r->refused;
  report.bytes_sent = r->bytes_sent;
  if (r->snapshot.parameter_count > 0) {
    FloatBuffer values(spec_.parameter_count());
    Status decoded_values = decoded.payload_into(values.span());
    if (!decoded_values.ok()) {
      warn("device " + device.id +
           " sent a snapshot that does not decode: " + decoded_values.to_string());
    } else {
      report.snapshot = std::move(values);
    }
  }
  reports_[r->step][device.id] = std::move(report);
  first_report_at_.try_emplace(r->step, now());
  EDGEFL_RETURN_IF_ERROR(publish_ready());
  return true;
}

Status DpsgdCoordinator::publish_ready() {
  const auto& plan = service_.current();
  if (!plan) return Status();
  while (!reports_.empty()) {
    auto& [step, reports] = *reports_.begin();
    bool complete = true;
    for (const auto& [id, placement] : plan->placements)
      complete = complete && reports.count(id) != 0;
    const bool waited_out = now() - first_report_at_[step] > scaled(config_.dpsgd.offline_s);
    if (!complete && !waited_out) break;
    EDGEFL_RETURN_IF_ERROR(publish(step, reports));
    first_report_at_.erase(step);
    reports_.erase(reports_.begin());
  }
  return Status();
}

Status DpsgdCoordinator::publish(uint64_t step, const std::map<std::string, Report>& reports) {
  const std::size_t n = reports.size();
  double loss = 0.0, distance_sum = 0.0;
  uint64_t distances = 0, missed = 0, one_sided = 0, refused = 0, bytes = 0;
  std::vector<const FloatBuffer*> snapshots;
  for (const auto& [id, r] : reports) {
    loss += r.train_loss / static_cast<double>(n);
    for (double d : r.squared_distances) {
      distance_sum += d;
      ++distances;
    }
    missed += r.missed;
    one_sided += r.one_sided_misses;
    refused += r.refused;
    bytes += r.bytes_sent;
    if (r.snapshot) snapshots.push_back(&*r.snapshot);
  }
  // (1/n) sum_j ||x_j - x̄||² = (n - 1)/(2n) times the mean squared distance over all pairs;
  // over the neighbour pairs only it is an estimate.
  const double estimate = distances > 0 && n > 1
                              ? (static_cast<double>(n) - 1) / (2.0 * static_cast<double>(n)) *
                                    distance_sum / static_cast<double>(distances)
                              : 0.0;
  const double interval = static_cast<double>(config_.dpsgd.report_interval);
  JsonLine line;
  line.add("strategy", "dpsgd").add("step", step).add("epoch", service_.current()->epoch);
  line.add("devices", static_cast<uint64_t>(n))
      .add("train_loss", loss)
      .add("consensus_estimate", estimate);
  line.add("missed", missed).add("one_sided_misses", one_sided).add("refused", refused);
  line.add("bytes_per_step", static_cast<double>(bytes) / interval);
  RoundMetrics scored;
  if (!snapshots.empty() && snapshots.size() == n) {
    FloatBuffer mean(spec_.parameter_count());
    for (const FloatBuffer* x : snapshots) {
      for (std::size_t e = 0; e < mean.size(); ++e) mean[e] += (*x)[e] / static_cast<float>(n);
    }
    double consensus = 0.0;
    for (const FloatBuffer* x : snapshots) {
      for (std::size_t e = 0; e < mean.size(); ++e) {
        const double d = static_cast<double>((*x)[e]) - mean[e];
        consensus += d * d / static_cast<double>(n);
      }
    }
    line.add("consensus_distance", consensus);
    EDGEFL_RETURN_IF_ERROR(evaluator().score(mean.span(), scored));
    if (scored.test_accuracy >= 0)
      line.add("test_accuracy", scored.test_accuracy).add("test_loss", scored.test_loss);
  }
  line.add("elapsed_s", std::chrono::duration<double>(now() - started_at_).count());
  EDGEFL_RETURN_IF_ERROR(write_metrics_line(line.str())
                             .with_context("the metrics line of step " + std::to_string(step)));
  rounds_closed_ = std::max(rounds_closed_, step);
  if (!config_.quiet) {
    char text[256];
    std::snprintf(
        text, sizeof text,
        "dpsgd step %" PRIu64 "/%u: %zu devices, loss %.4f, consensus ~%.3g, %.2f MB/step, %" PRIu64
        " missed%s",
        step, config_.rounds, n, loss, estimate, static_cast<double>(bytes) / interval / 1e6,
        missed,
        scored.test_accuracy >= 0 ? (", x̄ accuracy " + std::to_string(scored.test_accuracy)).c_str()
                                  : "");
    log_(text);
  }
  return Status();
}

}  // namespace edgefl::server
