#include "edgefl/trainer.hpp"

#include <algorithm>
#include <numeric>

#include "edgefl/rng.hpp"

namespace edgefl {

LocalTrainer::LocalTrainer(std::unique_ptr<Network> network, TrainerOptions options)
    : network_(std::move(network)),
      options_(options),
      grads_(network_->spec().parameter_count()),
      scratch_(options.max_micro_batch) {}

Result<std::unique_ptr<LocalTrainer>> LocalTrainer::create(const ModelSpec& spec, const ComputeContext& ctx,
                                                           TrainerOptions options) {
  auto network = Network::create(spec, ctx, {options.max_micro_batch, options.accumulation});
  if (!network) return network.status();
  return std::unique_ptr<LocalTrainer>(new LocalTrainer(std::move(*network), options));
}

void LocalTrainer::reset_optimizer() {
  if (optimizer_) optimizer_->reset();
}

Status LocalTrainer::prepare(const OptimizerConfig& config, std::size_t samples) {
  if (optimizer_ && optimizer_->config().kind == config.kind) {
    EDGEFL_RETURN_IF_ERROR(optimizer_->set_config(config));
  } else {
    auto created = Optimizer::create(config, grads_.size());
    if (!created) return created.status();
    optimizer_.emplace(std::move(*created));
  }
  if (order_.size() < samples) order_.resize(samples);
  return Status();
}

Result<BatchStats> LocalTrainer::step(std::span<float> params, const DatasetView& data,
                                      std::span<const uint32_t> positions) {
  if (!optimizer_) return make_status(StatusCode::failed_precondition, "trainer: prepare() not called");
  if (positions.empty()) return make_status(StatusCode::invalid_argument, "trainer: empty batch");
  const std::size_t micro = network_->max_micro_batch();
  if (positions.size() > micro && !options_.accumulation) {
    return make_status(StatusCode::failed_precondition,
                       "trainer: batch " + std::to_string(positions.size()) + " exceeds micro-batch " +
                           std::to_string(micro) + " and accumulation is off");
  }
  const float scale = 1.0f / static_cast<float>(positions.size());
  BatchStats total;
  for (std::size_t begin = 0; begin < positions.size(); begin += micro) {
    std::span<const uint32_t> chunk = positions.subspan(begin, std::min(micro, positions.size() - begin));
    data.gather_transposed(chunk, scratch_, network_->input(), network_->targets());
    auto stats = network_->forward_backward(params, grads_.span(), chunk.size(), scale, begin > 0);
    if (!stats) return stats.status();
    total.loss_sum += stats->loss_sum;
    total.correct += stats->correct;
  }
  EDGEFL_RETURN_IF_ERROR(optimizer_->step(params, grads_.span()));
  return total;
}

Result<TrainMetrics> LocalTrainer::train(std::span<float> params, const DatasetView& data,
                                         const TrainConfig& config) {
  const std::size_t n = data.size();
  if (n == 0) return make_status(StatusCode::invalid_argument, "trainer: empty dataset view");
  if (config.batch_size == 0) return make_status(StatusCode::invalid_argument, "trainer: batch size 0");
  if (data.dataset().dim() != network_->spec().input_size()) {
    return make_status(StatusCode::shape_mismatch,
                       "trainer: data has " + std::to_string(data.dataset().dim()) + " features, model expects " +
                           std::to_string(network_->spec().input_size()));
  }
  EDGEFL_RETURN_IF_ERROR(data.validate());
  EDGEFL_RETURN_IF_ERROR(prepare(config.optimizer, n));

  Rng rng(config.seed);
  std::span<uint32_t> order(order_.data(), n);
  auto reshuffle = [&] {
    std::iota(order.begin(), order.end(), 0u);
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(static_cast<uint32_t>(i))]);
  };
  TrainMetrics metrics;
  double loss_sum = 0.0;
  auto run = [&](std::span<const uint32_t> positions) -> Status {
    auto stats = step(params, data, positions);
    if (!stats) return stats.status();
    loss_sum += stats->loss_sum;
    metrics.samples += positions.size();
    ++metrics.steps;
    return Status();
  };
  const std::size_t batch = std::min(config.batch_size, n);
  if (config.local_steps > 0) {
    std::size_t cursor = n;  // forces a shuffle first
    for (std::size_t s = 0; s < config.local_steps; ++s) {
      if (cursor + batch > n) {
        reshuffle();
        cursor = 0;
      }
      EDGEFL_RETURN_IF_ERROR(run(order.subspan(cursor, batch)));
      cursor += batch;
    }
  } else {
    for (std::size_t e = 0; e < config.epochs; ++e) {
      reshuffle();
      for (std::size_t begin = 0; begin < n; begin += batch) {
        EDGEFL_RETURN_IF_ERROR(run(order.subspan(begin, std::min(batch, n - begin))));
      }
    }
  }
  metrics.mean_loss = metrics.samples > 0 ? loss_sum / double(metrics.samples) : 0.0;
  return metrics;
}

Result<Evaluation> evaluate(Network& network, std::span<const float> params, const DatasetView& data) {
  if (data.dataset().dim() != network.spec().input_size()) {
    return make_status(StatusCode::shape_mismatch, "evaluate: data and model input sizes differ");
  }
  EDGEFL_RETURN_IF_ERROR(data.validate());
  const std::size_t chunk = network.max_micro_batch();
  std::vector<uint32_t> positions(chunk), scratch(chunk);
  Evaluation result;
  double loss_sum = 0.0;
  std::size_t correct = 0;
  for (std::size_t begin = 0; begin < data.size(); begin += chunk) {
    const std::size_t count = std::min(chunk, data.size() - begin);
    std::iota(positions.begin(), positions.begin() + count, static_cast<uint32_t>(begin));
    data.gather_transposed(std::span(positions).first(count), scratch, network.input(), network.targets());
    auto stats = network.forward(params, count);
    if (!stats) return stats.status();
    loss_sum += stats->loss_sum;
    correct += stats->correct;
  }
  result.samples = data.size();
  if (result.samples > 0) {
    result.loss = loss_sum / double(result.samples);
    result.accuracy = network.spec().loss == LossKind::squared ? 0.0 : double(correct) / double(result.samples);
  }
  return result;
}

Result<Evaluation> evaluate(const ModelSpec& spec, const ComputeContext& ctx, std::span<const float> params,
                            const DatasetView& data, std::size_t chunk) {
  auto network = Network::create(spec, ctx, {chunk, false});
  if (!network) return network.status();
  return evaluate(**network, params, data);
}

}  // namespace edgefl
