// t_grad(b) of this machine: measured seconds per local step at several batch sizes, and the
// straight line t_grad(b) = step_s + sample_s * b fitted to them (least squares on the relative
// error), which is the form sim::ComputeCost takes.
#pragma once

#include <cstddef>
#include <vector>

#include "cost_model.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/data/dataset.hpp"

namespace edgefl::bench {

struct StepTiming {
  std::size_t batch = 0;
  double seconds = 0.0;  // per step, the fastest of three repetitions (the least disturbed)
};

// Times plain SGD steps on `data` with the trainer a device builds (XNNPACK, 1 thread,
// micro-batch `micro`).
Result<std::vector<StepTiming>> measure_step_times(const ModelSpec& spec, const Dataset& data,
                                                   const std::vector<std::size_t>& batches, std::size_t micro);

sim::ComputeCost fit_compute_cost(const std::vector<StepTiming>& timings);

}  // namespace edgefl::bench
