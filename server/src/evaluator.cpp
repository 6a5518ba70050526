#include "evaluator.hpp"

#include "edgefl/data/data_source.hpp"
#include "edgefl/train/trainer.hpp"

namespace edgefl::server {

Result<Evaluator> Evaluator::create(const ServerConfig& config, const ModelSpec& spec) {
  Evaluator evaluator(spec);
  if (config.data == "none" || config.eval_samples == 0) return evaluator;
  Result<DataSource> source = DataSource::parse(config.data, config.data_dir);
  if (!source) return source.status();
  Result<Dataset> test = source->load_test(spec, config.eval_samples);
  if (!test) return test.status().with_context("server evaluation data");
  evaluator.test_data_ = std::move(*test);
  auto compute = ComputeContext::create(default_backend(), 1);
  if (!compute) return compute.status();
  evaluator.compute_ = std::move(*compute);
  return evaluator;
}

Status Evaluator::set_standardization(const Standardization& standardization) {
  if (!test_data_) return Status();
  return test_data_->set_standardization(standardization).with_context("server evaluation data");
}

Status Evaluator::score(std::span<const float> global, RoundMetrics& metrics) const {
  if (!test_data_) return Status();
  Result<Evaluation> evaluation = evaluate(spec_, *compute_, global, DatasetView(*test_data_));
  if (!evaluation) return evaluation.status().with_context("evaluating the global model");
  metrics.test_loss = evaluation->loss;
  metrics.test_accuracy = evaluation->accuracy;
  return Status();
}

}  // namespace edgefl::server
