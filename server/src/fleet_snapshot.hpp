// FleetSnapshot: what the status endpoint shows, an immutable copy the serving thread publishes
// on a timer (SnapshotBoard) so HTTP requests never touch the coordinator or make it wait.
//
//   SnapshotBoard board;
//   board.publish(coordinator.snapshot());                     // serving thread, every 250 ms
//   std::shared_ptr<const FleetSnapshot> now = board.current();  // any HTTP thread
//
// Counters (FleetTotals) advance when a round (or asynchronous model version) closes, from the
// same RoundMetrics its metrics.jsonl line is written from: they always equal the sums of the
// lines written so far. Gauges (devices connected, the open round) are as of the snapshot.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "device_registry.hpp"
#include "round_metrics.hpp"

namespace edgefl::server {

// Upper bounds (seconds) of the round duration histogram's buckets; +Inf is implied.
inline constexpr std::array<double, 11> kRoundSecondsBuckets{0.1, 0.25, 0.5, 1,   2.5, 5,
                                                             10,  30,   60,  120, 300};

struct FleetTotals {
  uint64_t rounds = 0;  // closed rounds or asynchronous model versions
  uint64_t accepted = 0;
  std::map<std::string, uint64_t> rejected_by_reason;  // status code name -> updates
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t tasks_sent = 0;
  uint64_t tasks_resent = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t samples = 0;
  // Round durations: cumulative counts per bucket of kRoundSecondsBuckets (the last is +Inf).
  std::array<uint64_t, kRoundSecondsBuckets.size() + 1> round_seconds_buckets{};
  double round_seconds_sum = 0;

  void add(const RoundMetrics& metrics);
};

struct DeviceRow {
  std::string id;
  std::string arch;
  std::string backend;  // "" when the device did not say
  uint64_t memory_budget_bytes = 0;
  uint32_t max_micro_batch = 0;
  double last_seen_s = 0;  // seconds before the snapshot
  bool connected = false;  // heard from within the liveness window
  bool training = false;   // working on a task
  uint32_t ineligible = 0;  // kIneligible* bits of its last heartbeat: why it may not train
  DeviceActivity activity;
};

// One closed round (or version), for the progress chart.
struct RoundPoint {
  uint64_t round = 0;
  double train_loss = 0;
  double test_loss = -1;  // < 0: not evaluated
  double test_accuracy = -1;
  double wall_s = 0;
};

struct RunSettings {
  std::string model;
  std::string strategy;
  bool asynchronous = false;
  uint64_t rounds = 0;  // the run's target
  double round_deadline_s = 0;
  uint32_t min_devices = 0;
  float fraction = 1;
  uint32_t batch_size = 0;
  std::string codec;
};

struct FleetSnapshot {
  RunSettings settings;
  uint64_t rounds_closed = 0;
  uint64_t version = 0;
  bool finished = false;
  std::optional<double> deadline_in_s;  // the open round's deadline (synchronous runs)
  double elapsed_s = 0;                 // since the server started (or resumed)
  FleetTotals totals;
  std::optional<RoundMetrics> last_round;
  std::vector<RoundPoint> recent_rounds;  // the last kChartRounds, oldest first
  std::vector<DeviceRow> devices;         // in id order

  static constexpr std::size_t kChartRounds = 200;
  std::size_t devices_connected() const;
  std::size_t devices_training() const;
  // Connected devices that may train; and, per reason bit (kIneligibleReasonNames order), the
  // connected devices that gave it (a device with two reasons counts under both).
  std::size_t devices_eligible() const;
  std::array<std::size_t, std::size(kIneligibleReasonNames)> devices_ineligible_by_reason() const;
};

// The latest snapshot, swapped in whole under a small lock: readers keep theirs alive while
// they render it, the publisher never waits for a reader.
class SnapshotBoard {
 public:
  void publish(std::shared_ptr<const FleetSnapshot> snapshot);
  std::shared_ptr<const FleetSnapshot> current() const;  // nullptr before the first publish

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const FleetSnapshot> snapshot_;
};

}  // namespace edgefl::server
