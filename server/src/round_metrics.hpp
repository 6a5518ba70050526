// RoundMetrics: what the server reports for each closed round (or asynchronous model version):
// one JSON object per line in the metrics file, and one readable progress line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace edgefl::server {

struct RoundMetrics {
  uint64_t round = 0;
  uint64_t version = 0;          // model version after this round
  uint32_t asked = 0;            // devices sent a task
  uint32_t answered = 0;         // updates accepted into the aggregate
  uint32_t late = 0;             // updates that arrived after the round closed
  uint32_t rejected = 0;         // updates refused (shape, NaN, norm, unknown device, ...)
  uint32_t duplicates = 0;       // resent updates acknowledged again without re-applying
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

std::string metrics_json(const RoundMetrics& metrics);
std::string metrics_progress_line(const RoundMetrics& metrics, uint64_t total_rounds);

}  // namespace edgefl::server
