// CostModel: simulated wall time of a federated run from what it counted (gradient steps and
// their batch sizes, pull steps, messages and their bytes), so an experiment can sweep a link
// where one synchronisation costs 100 gradient steps without waiting 100x as long.
//
//   CostModel cost = CostModel::from_ratio(/*comm_over_grad=*/10, /*reference_batch=*/32,
//                                          /*sync_bytes=*/2 * model_bytes);
//   SimulatedClock clock(cost, devices);
//   clock.gradient_step(m, batch);            // per device, as it trains
//   clock.message(m, update_bytes);           // each transfer, either direction
//   double t = clock.end_round();             // + the slowest device's round; returns the total
//
// A round lasts as long as its slowest device (the synchronous server waits for all); a
// device's round time is the sum of its step and transfer times. t_grad(b) = step + b * sample
// seconds; a transfer costs latency + bytes / bandwidth. Pull steps (PALSGD) cost `pull_s`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace edgefl::sim {

struct ComputeCost {
  double step_s = 0;    // per gradient step, whatever its batch
  double sample_s = 0;  // per sample of a gradient step
  double pull_s = 0;    // per pull step (no forward/backward pass)
  double gradient_step(std::size_t batch) const { return step_s + sample_s * static_cast<double>(batch); }
};

struct LinkCost {
  double latency_s = 0;  // per message
  double bytes_per_s = std::numeric_limits<double>::infinity();
  double transfer(uint64_t bytes) const { return latency_s + static_cast<double>(bytes) / bytes_per_s; }
};

struct CostModel {
  ComputeCost compute;
  LinkCost link;

  // Time unit = one gradient step at `reference_batch` (its time all per-sample); a link whose
  // `sync_bytes` (e.g. one model up and one down) take `comm_over_grad` units, no latency.
  static CostModel from_ratio(double comm_over_grad, std::size_t reference_batch, uint64_t sync_bytes);
};

class SimulatedClock {
 public:
  SimulatedClock(CostModel model, std::size_t devices);

  void gradient_step(std::size_t device, std::size_t batch);
  void pull_step(std::size_t device);
  void message(std::size_t device, uint64_t bytes);
  // Closes the round: adds the slowest device's time to the total and returns the total.
  double end_round();
  double seconds() const { return total_s_; }
  const CostModel& model() const { return model_; }

 private:
  CostModel model_;
  std::vector<double> round_s_;  // per device, the open round
  double total_s_ = 0;
};

}  // namespace edgefl::sim
