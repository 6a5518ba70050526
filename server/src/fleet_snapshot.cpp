#include "fleet_snapshot.hpp"

#include <algorithm>

namespace edgefl::server {

void FleetTotals::add(const RoundMetrics& m) {
  ++rounds;
  accepted += m.answered;
  for (const auto& [reason, count] : m.rejected_by_reason) rejected_by_reason[reason] += count;
  late += m.late;
  duplicates += m.duplicates;
  tasks_sent += m.tasks_sent;
  tasks_resent += m.tasks_resent;
  bytes_in += m.bytes_in;
  bytes_out += m.bytes_out;
  samples += m.samples;
  for (std::size_t i = 0; i < round_seconds_buckets.size(); ++i) {
    if (i == kRoundSecondsBuckets.size() || m.wall_s <= kRoundSecondsBuckets[i])
      ++round_seconds_buckets[i];
  }
  round_seconds_sum += m.wall_s;
}

std::size_t FleetSnapshot::devices_connected() const {
  return static_cast<std::size_t>(std::count_if(devices.begin(), devices.end(),
                                                [](const DeviceRow& d) { return d.connected; }));
}

std::size_t FleetSnapshot::devices_training() const {
  return static_cast<std::size_t>(
      std::count_if(devices.begin(), devices.end(),
                    [](const DeviceRow& d) { return d.connected && d.training; }));
}

std::size_t FleetSnapshot::devices_eligible() const {
  return static_cast<std::size_t>(std::count_if(devices.begin(), devices.end(),
                                                [](const DeviceRow& d) { return d.connected && d.ineligible == 0; }));
}

std::array<std::size_t, std::size(kIneligibleReasonNames)> FleetSnapshot::devices_ineligible_by_reason() const {
  std::array<std::size_t, std::size(kIneligibleReasonNames)> counts{};
  for (const DeviceRow& d : devices) {
    if (!d.connected) continue;
    for (std::size_t bit = 0; bit < counts.size(); ++bit) counts[bit] += (d.ineligible >> bit) & 1u;
  }
  return counts;
}

void SnapshotBoard::publish(std::shared_ptr<const FleetSnapshot> snapshot) {
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot_.swap(snapshot);  // the old one is released when `snapshot` goes, after the unlock
}

std::shared_ptr<const FleetSnapshot> SnapshotBoard::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

}  // namespace edgefl::server
