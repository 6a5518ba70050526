// The Coordinator's FleetSnapshot: a copy of what the status endpoint shows.
#include <algorithm>

#include "coordinator.hpp"
#include "edgefl/nn/compute.hpp"

namespace edgefl::server {

namespace {

std::string backend_label(uint8_t backend) {
  if (backend == 0 || backend > static_cast<uint8_t>(Backend::direct) + 1) return "";
  return std::string(backend_name(static_cast<Backend>(backend - 1)));
}

double seconds(Clock::duration duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace

std::shared_ptr<const FleetSnapshot> Coordinator::snapshot() const {
  const Clock::time_point at = now();
  auto snapshot = std::make_shared<FleetSnapshot>();
  RunSettings& settings = snapshot->settings;
  settings.model = config_.model;
  settings.strategy = config_.strategy.name;
  settings.asynchronous = asynchronous();
  settings.rounds = config_.rounds;
  settings.round_deadline_s = config_.round_deadline_s;
  settings.min_devices = config_.min_devices;
  settings.fraction = config_.fraction;
  settings.batch_size = config_.train.batch_size;
  settings.codec = std::string(codec_name(config_.codec.kind));

  snapshot->rounds_closed = rounds_closed_;
  snapshot->version = version_;
  snapshot->finished = finished();
  if (std::optional<Clock::time_point> deadline = round_deadline()) {
    snapshot->deadline_in_s = std::max(0.0, seconds(*deadline - at));
  }
  snapshot->elapsed_s = seconds(at - started_at_);
  snapshot->totals = totals_;
  if (!history_.empty()) snapshot->last_round = history_.back();
  const std::size_t first =
      history_.size() - std::min(history_.size(), FleetSnapshot::kChartRounds);
  for (std::size_t i = first; i < history_.size(); ++i) {
    const RoundMetrics& m = history_[i];
    snapshot->recent_rounds.push_back(
        RoundPoint{m.round, m.train_loss, m.test_loss, m.test_accuracy, m.wall_s});
  }

  const Clock::duration liveness = scaled(3 * config_.heartbeat_s);
  snapshot->devices.reserve(devices_.size());
  for (const auto& [id, record] : devices_.records()) {
    DeviceRow row;
    row.id = id;
    row.arch = record.capabilities.arch;
    row.backend = backend_label(record.capabilities.backend);
    row.memory_budget_bytes = record.capabilities.memory_budget_bytes;
    row.max_micro_batch = record.capabilities.max_micro_batch;
    row.last_seen_s = std::max(0.0, seconds(at - record.last_seen));
    row.connected = at - record.last_seen <= liveness;
    row.training = record.busy_task != 0;
    row.ineligible = record.ineligible;
    row.activity = record.activity;
    snapshot->devices.push_back(std::move(row));
  }
  return snapshot;
}

}  // namespace edgefl::server
