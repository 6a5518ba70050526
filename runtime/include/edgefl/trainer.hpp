// LocalTrainer: what a device calls to run its local steps, and evaluate().
//
//   auto trainer = edgefl::LocalTrainer::create(spec, *ctx, {.max_micro_batch = 32});
//   edgefl::TrainConfig cfg;
//   cfg.optimizer = {.kind = edgefl::OptimizerKind::momentum, .lr = 0.05f, .momentum = 0.9f};
//   cfg.batch_size = 32; cfg.epochs = 1; cfg.seed = round_seed;
//   auto m = (*trainer)->train(params.span(), edgefl::DatasetView(data, my_indices), cfg);
//   m->mean_loss; m->samples; m->steps;
//   auto e = edgefl::evaluate(spec, *ctx, params.span(), edgefl::DatasetView(test));  // {loss, accuracy}
//
// All memory is planned in create() (network arena, gradients) and on the first train() call
// (optimizer state, the shuffle buffer); steps never allocate. A batch larger than the
// micro-batch is reached by gradient accumulation (same gradient as one big batch, up to float
// summation order). Results are bit-identical for the same seed, inputs and thread count.
// Optimizer state persists across train() calls (DiLoCo keeps its inner AdamW state) until
// reset_optimizer(). params must come from a FloatBuffer (XNNPACK reads past the end).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "edgefl/compute.hpp"
#include "edgefl/dataset.hpp"
#include "edgefl/float_buffer.hpp"
#include "edgefl/model_spec.hpp"
#include "edgefl/network.hpp"
#include "edgefl/optimizer.hpp"
#include "edgefl/status.hpp"

namespace edgefl {

struct TrainConfig {
  OptimizerConfig optimizer;
  std::size_t batch_size = 32;   // logical batch
  std::size_t local_steps = 0;   // > 0: exactly this many optimizer steps
  std::size_t epochs = 1;        // used when local_steps == 0 (last batch of an epoch may be short)
  uint64_t seed = 1;             // shuffling
};

struct TrainMetrics {
  double mean_loss = 0.0;   // mean per-sample training loss over the samples seen
  std::size_t samples = 0;
  std::size_t steps = 0;
};

struct Evaluation {
  double loss = 0.0;      // mean per-sample loss
  double accuracy = 0.0;  // fraction correct (classification losses; 0 for squared loss)
  std::size_t samples = 0;
};

struct TrainerOptions {
  std::size_t max_micro_batch = 32;
  bool accumulation = true;  // allow batch_size > max_micro_batch
};

class LocalTrainer {
 public:
  static Result<std::unique_ptr<LocalTrainer>> create(const ModelSpec& spec, const ComputeContext& ctx,
                                                      TrainerOptions options = {});

  Result<TrainMetrics> train(std::span<float> params, const DatasetView& data, const TrainConfig& config);
  // One optimizer step on the view's samples at `positions` (any count; micro-batched).
  // prepare() must have been called for the optimizer config (train() does it).
  Result<BatchStats> step(std::span<float> params, const DatasetView& data,
                          std::span<const uint32_t> positions);
  // Creates or reconfigures the optimizer and sizes the shuffle buffer for `samples`.
  Status prepare(const OptimizerConfig& optimizer, std::size_t samples);

  Network& network() { return *network_; }
  std::span<const float> gradients() const { return grads_.span(); }
  Optimizer* optimizer() { return optimizer_ ? &*optimizer_ : nullptr; }
  void reset_optimizer();

 private:
  LocalTrainer(std::unique_ptr<Network> network, TrainerOptions options);
  std::unique_ptr<Network> network_;
  TrainerOptions options_;
  FloatBuffer grads_;
  std::optional<Optimizer> optimizer_;
  std::vector<uint32_t> order_;
  std::vector<uint32_t> scratch_;
};

// Loss and accuracy over the view, in chunks of the network's micro-batch.
Result<Evaluation> evaluate(Network& network, std::span<const float> params, const DatasetView& data);
Result<Evaluation> evaluate(const ModelSpec& spec, const ComputeContext& ctx, std::span<const float> params,
                            const DatasetView& data, std::size_t chunk = 256);

}  // namespace edgefl
