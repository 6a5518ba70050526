// One Local SGD run through the code a real run uses: the server's TaskFactory builds every
// round's Task from a ServerConfig, one LocalTaskTrainer per simulated device (the device's
// own task path: decode, memory plan, LocalTrainer with the Task's settings, the grown batch
// and the interval clock carried across tasks, update encoding) trains it on the device's shard,
// and the round's model is the mean of the decoded updates (equal i.i.d. shards: the same as
// the server's sample-weighted FedAvg). A SimulatedClock (server/sim/cost_model.hpp) turns the
// steps each device ran and the bytes of each Task and Update into simulated wall time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cost_model.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/data/dataset.hpp"
#include "server_config.hpp"

namespace edgefl::bench {

struct RunSetup {
  ModelSpec spec;
  std::vector<Dataset>* shards = nullptr;  // one per device
  const Dataset* test = nullptr;
  sim::CostModel cost;
  std::size_t sample_budget = 0;  // stop after the round that reaches it
  std::size_t evals = 20;         // evaluation points over the budget
};

struct EvalPoint {
  std::size_t round = 0;
  std::size_t samples = 0;
  double mean_batch = 0.0;
  double test_loss = 0.0;
  double accuracy = 0.0;
  double simulated_s = 0.0;
};

struct RunResult {
  std::size_t rounds = 0;
  std::size_t samples = 0;
  uint64_t bytes_down = 0;  // Task messages
  uint64_t bytes_up = 0;    // Update messages
  double simulated_s = 0.0;
  double host_s = 0.0;
  std::size_t final_batch = 0;  // largest over devices, last round
  std::vector<EvalPoint> curve;
  double accuracy() const { return curve.empty() ? 0.0 : curve.back().accuracy; }
};

// `server` carries the training settings (train.*, adaptive_batch.*, seed); `on_eval` sees each
// evaluation point as it is made.
Result<RunResult> run_through_device_path(const RunSetup& setup, const server::ServerConfig& server,
                                          const std::function<void(const EvalPoint&)>& on_eval);

}  // namespace edgefl::bench
