// RoundMetrics: what the server reports for each closed round (or asynchronous model version):
// one JSON object per line in the metrics file, and one readable progress line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/proto/messages.hpp"

namespace edgefl::server {

struct RoundMetrics {
  uint64_t round = 0;
  uint64_t version = 0;          // model version after this round
  uint32_t asked = 0;            // distinct devices asked (rounds) or given a new task (async)
  uint32_t tasks_sent = 0;       // Task messages sent for the first time to a device
  uint32_t tasks_resent = 0;     // the same Task sent again (lost on the link, rejoin)
  uint32_t answered = 0;         // updates accepted into the aggregate
  uint32_t device_updates = 0;   // device updates behind them (a relay's partial sum: its count)
  uint32_t partial_updates = 0;  // of those, cut short by the Task's deadline (protocol 1.7)
  uint64_t local_steps = 0;      // local steps behind the aggregate
  uint32_t late = 0;             // updates that arrived after the round closed
  uint32_t rejected = 0;         // updates refused (shape, NaN, norm, unknown device, ...)
  std::map<std::string, uint32_t> rejected_by_reason;  // status code name -> updates (not in the line)
  uint32_t duplicates = 0;       // resent updates acknowledged again without re-applying
  uint32_t update_batches = 0;   // arrival batches (one poll's messages) that held new updates
  uint32_t wal_syncs = 0;        // write-ahead log fsyncs (group commit: at most one per batch)
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  double train_loss = 0;         // sample-weighted mean of the devices' local losses
  uint64_t samples = 0;          // local samples behind the aggregate
  double test_loss = -1;         // < 0: not evaluated
  double test_accuracy = -1;
  double wall_s = 0;             // duration of this round
  double elapsed_s = 0;          // since the server started (or resumed)
  uint32_t mean_batch = 0;       // mean local batch size reported (adaptive batches)
  uint32_t max_batch = 0;
  std::string strategy;
  // Asynchronous runs: one line per model version; staleness of the updates folded into it.
  bool asynchronous = false;
  double mean_staleness = 0;
  uint64_t max_staleness = 0;
};

// Builds one RoundMetrics from what happens during a round or model version.
class RoundTally {
 public:
  RoundTally(std::string strategy, bool asynchronous);

  void set_round(uint64_t round) { metrics_.round = round; }
  // `device` is asked for an update in this period (counted once however often).
  void ask(const std::string& device) { asked_.insert(device); }
  void task_sent(bool resend, std::size_t bytes);
  void bytes_in(std::size_t bytes) { metrics_.bytes_in += bytes; }
  void bytes_out(std::size_t bytes) { metrics_.bytes_out += bytes; }
  void accepted(const Update& update, uint64_t staleness);
  void late() { ++metrics_.late; }
  // `reason`: the refusal's status code name.
  void rejected(std::string_view reason) {
    ++metrics_.rejected;
    ++metrics_.rejected_by_reason[std::string(reason)];
  }
  void duplicate() { ++metrics_.duplicates; }
  void update_batch() { ++metrics_.update_batches; }
  void wal_synced() { ++metrics_.wal_syncs; }
  // The period's metrics so far (means computed, version set).
  RoundMetrics peek(uint64_t version) const;
  // The finished period's metrics (as peek); the tally starts afresh.
  RoundMetrics finish(uint64_t version);

 private:
  RoundMetrics fresh() const;

  std::string strategy_;
  bool asynchronous_;
  RoundMetrics metrics_;
  std::set<std::string> asked_;
  double loss_sum_ = 0;  // sample-weighted train loss
  uint64_t batch_sum_ = 0;
  uint64_t staleness_sum_ = 0;
};

std::string metrics_json(const RoundMetrics& metrics);
std::string metrics_progress_line(const RoundMetrics& metrics, uint64_t total_rounds);

}  // namespace edgefl::server
