// Evaluator: the server's held-out data and the compute to score a global model on it.
//
//   Result<Evaluator> eval = Evaluator::create(config, spec);   // loads the test split once
//   EDGEFL_RETURN_IF_ERROR(eval->score(global, metrics));        // fills test loss/accuracy
//
// With `data = none` or `eval_samples = 0` it holds nothing and score() leaves the metrics
// unevaluated (test_accuracy < 0).
#pragma once

#include <memory>
#include <optional>
#include <span>

#include "edgefl/nn/compute.hpp"
#include "edgefl/data/dataset.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "round_metrics.hpp"
#include "server_config.hpp"

namespace edgefl::server {

class Evaluator {
 public:
  static Result<Evaluator> create(const ServerConfig& config, const ModelSpec& spec);

  Status score(std::span<const float> global, RoundMetrics& metrics) const;
  bool enabled() const { return test_data_.has_value(); }
  // The run's standardisation, applied to the held-out data as the devices apply it to theirs.
  Status set_standardization(const Standardization& standardization);

 private:
  Evaluator(ModelSpec spec) : spec_(std::move(spec)) {}

  ModelSpec spec_;
  std::unique_ptr<ComputeContext> compute_;
  std::optional<Dataset> test_data_;
};

}  // namespace edgefl::server
