#include "cost_model.hpp"

#include <algorithm>

namespace edgefl::sim {

CostModel CostModel::from_ratio(double comm_over_grad, std::size_t reference_batch, uint64_t sync_bytes) {
  CostModel model;
  model.compute.sample_s = 1.0 / static_cast<double>(std::max<std::size_t>(reference_batch, 1));
  if (comm_over_grad > 0 && sync_bytes > 0) {
    model.link.bytes_per_s = static_cast<double>(sync_bytes) / comm_over_grad;
  }
  return model;
}

SimulatedClock::SimulatedClock(CostModel model, std::size_t devices) : model_(model), round_s_(devices, 0.0) {}

void SimulatedClock::gradient_step(std::size_t device, std::size_t batch) {
  round_s_.at(device) += model_.compute.gradient_step(batch);
}

void SimulatedClock::pull_step(std::size_t device) { round_s_.at(device) += model_.compute.pull_s; }

void SimulatedClock::message(std::size_t device, uint64_t bytes) { round_s_.at(device) += model_.link.transfer(bytes); }

double SimulatedClock::end_round() {
  double slowest = 0;
  for (double& t : round_s_) {
    slowest = std::max(slowest, t);
    t = 0;
  }
  total_s_ += slowest;
  return total_s_;
}

}  // namespace edgefl::sim
