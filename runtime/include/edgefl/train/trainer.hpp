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
//
// PALSGD local steps (docs/algorithms.md §3), with z = the global model the device last received:
//   cfg.local_steps = H; cfg.start_step = global index of this task's first step;
//   cfg.palsgd = {.p = 0.2f, .rho = 1.0f, .warmup_steps = T_w};
//   auto m = trainer->train(params, data, cfg, z.span());   // m->pull_steps, m->gradient_steps
// Steps before global step T_w are plain gradient steps (the server runs the warm-up as
// synchronous gradient rounds, so a PALSGD task normally starts at T_w or later). Step T_w is
// always a gradient step; every later step is, with probability p, a pull step
// x <- x - (lr_t rho / p)(x - z) (no forward/backward; its batch is skipped) and otherwise a
// gradient step with lr_t / (1 - p), where lr_t is the scheduled lr of that global step. The coin
// flips come from their own stream (palsgd_flag_rng), so batch sampling is the same as without
// PALSGD, and p = 0 is bit-identical to plain training (= a DiLoCo worker).
// Schedules (edgefl/optim/lr_schedule.hpp): cfg.lr_schedule with cfg.start_step; the optimizer's
// lr is the scheduled lr of each step. cfg.clip_norm > 0 scales each step's batch gradient to
// at most that global L2 norm (as torch.nn.utils.clip_grad_norm_).
// gradient(): the mean gradient of the batch train() would take first, without a step (a
// synchronous data-parallel step: the server averages and applies these).
// Adaptive batches (edgefl/train/adaptive_batch.hpp): cfg.adaptive; each step's batch size is
// recorded in m->batch_sizes and m->next_batch_size is the batch for the next round. A device
// carrying a grown batch b sets cfg.batch_size = b and cfg.lr_base_batch = b0, so the step uses
// scaled_learning_rate(cfg.adaptive, lr, b, b0) (with PALSGD, further divided by 1 - p), and
// cfg.device_steps = its local steps so far, so interval > 0 counts steps across calls
// (IntervalClock::device). Tests run only on full batches: one that falls on the short last
// batch of an epoch runs on the next full one, and interval 0 tests the last full batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "edgefl/train/adaptive_batch.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/data/dataset.hpp"
#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/nn/network.hpp"
#include "edgefl/optim/lr_schedule.hpp"
#include "edgefl/optim/optimizer.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct PalsgdConfig {
  float p = 0.0f;                 // pull-step probability, in [0, 1); 0 disables PALSGD
  float rho = 0.0f;               // mixing strength; needs lr * rho / p <= 1
  uint64_t warmup_steps = 0;      // global step from which pull steps may happen (T_w)
};

struct TrainConfig {
  OptimizerConfig optimizer;
  // Logical batch (the starting batch when adaptive); 0: the whole data set every step, in its
  // stored order (full-batch gradient descent: exact, streamed in micro-batches and accumulated).
  std::size_t batch_size = 32;
  std::size_t lr_base_batch = 0; // b0 of adaptive.lr_scaling, the batch optimizer.lr is for (0: batch_size)
  uint64_t device_steps = 0;     // local steps run before this call (the test interval's device clock)
  std::size_t local_steps = 0;   // > 0: exactly this many local steps (gradient + pull)
  std::size_t epochs = 1;        // used when local_steps == 0 (last batch of an epoch may be short)
  uint64_t seed = 1;             // shuffling (and, forked, the PALSGD coin flips)
  uint64_t start_step = 0;       // global index of the first step (schedule, PALSGD warm-up)
  LrSchedule lr_schedule;        // of optimizer.lr over global steps
  float clip_norm = 0.0f;        // > 0: clip each batch gradient to this global L2 norm
  PalsgdConfig palsgd;
  AdaptiveBatchConfig adaptive;
  // Asked before every step after the first: false ends the call early with the steps done so
  // far (a Task's deadline; a slowed board paces its steps here). Empty: every step runs.
  std::function<bool()> keep_going;
};

struct TrainMetrics {
  double mean_loss = 0.0;          // mean per-sample training loss over the samples trained on
  std::size_t samples = 0;         // samples of gradient steps
  std::size_t steps = 0;           // local steps: gradient_steps + pull_steps
  std::size_t gradient_steps = 0;
  std::size_t pull_steps = 0;
  std::size_t next_batch_size = 0;        // batch after the last adaptive test (else the batch used)
  std::size_t batch_tests = 0;            // adaptive tests run
  std::vector<uint32_t> batch_sizes;      // batch of every local step (only with an adaptive test)
  bool stopped_early = false;             // keep_going said stop before the last step
};

// invalid_argument unless p is in [0, 1), rho >= 0 and the pull coefficient lr * rho / p <= 1
// (lr: the base lr; schedules never exceed it)
// (train() checks this too; the server checks its settings with it before sending any Task).
Status validate(const PalsgdConfig& config, float lr);

// The PALSGD coin-flip stream of a train() call with this seed.
Rng palsgd_flag_rng(uint64_t seed);

// The batch a step uses on `samples` samples: batch_size, at most the data (0: all of it).
std::size_t logical_batch(const TrainConfig& config, std::size_t samples);

struct Evaluation {
  double loss = 0.0;      // mean per-sample loss
  double accuracy = 0.0;  // fraction correct (classification losses; 0 for squared loss)
  std::size_t samples = 0;
};

struct TrainerOptions {
  std::size_t max_micro_batch = 32;
  bool accumulation = true;  // allow batch_size > max_micro_batch
};

class PerSampleStatistics;  // private: runtime/src/train/per_sample_statistics.hpp

class LocalTrainer {
 public:
  ~LocalTrainer();
  static Result<std::unique_ptr<LocalTrainer>> create(const ModelSpec& spec, const ComputeContext& ctx,
                                                      TrainerOptions options = {});

  // global_params: the PALSGD anchor z (required when config.palsgd.p > 0, same size as params).
  Result<TrainMetrics> train(std::span<float> params, const DatasetView& data, const TrainConfig& config,
                             std::span<const float> global_params = {});
  // The mean gradient (in gradients()) of the first batch train() would draw with `config`;
  // params are not changed and the optimizer is not touched. clip_norm is not applied (the
  // server clips the averaged gradient). steps = gradient_steps = 1.
  Result<TrainMetrics> gradient(std::span<const float> params, const DatasetView& data, const TrainConfig& config);
  // One optimizer step on the view's samples at `positions` (any count; micro-batched).
  // prepare() must have been called for the optimizer config (train() does it). With `stats`
  // the step also measures the batch's gradient statistics for `test` before updating.
  // clip_norm > 0 clips the batch gradient to that global L2 norm before the update.
  Result<BatchStats> step(std::span<float> params, const DatasetView& data,
                          std::span<const uint32_t> positions, BatchTest test = BatchTest::none,
                          GradientStatistics* stats = nullptr, float clip_norm = 0.0f);
  // The statistics of the batch at `positions` without a step; gradients() then holds the
  // batch's mean gradient. norm: Σ‖g_i‖² and ‖ḡ‖²; augmented_inner_product: also ⟨g_i, ḡ⟩ sums.
  Result<GradientStatistics> gradient_statistics(std::span<const float> params, const DatasetView& data,
                                                 std::span<const uint32_t> positions, BatchTest test);
  // Creates or reconfigures the optimizer and sizes the shuffle buffer for `samples` (and the
  // statistics scratch for `test`).
  Status prepare(const OptimizerConfig& optimizer, std::size_t samples, BatchTest test = BatchTest::none);

  Network& network() { return *network_; }
  std::span<const float> gradients() const { return grads_.span(); }
  Optimizer* optimizer() { return optimizer_ ? &*optimizer_ : nullptr; }
  void reset_optimizer();
  // Trains only these layers (edgefl/base/trainable.hpp; empty: all): frozen parameters keep
  // their values, get no gradient (their entries in gradients() are 0) and no optimizer state
  // (the optimizer then holds state for trainable().count() floats). A different set than the
  // current one drops the optimizer state.
  Status set_trainable(const std::vector<uint32_t>& layers);
  const TrainableSlices& trainable() const { return trainable_; }

 private:
  LocalTrainer(std::unique_ptr<Network> network, TrainerOptions options);
  void reserve_statistics(BatchTest test);
  Status check_data(const DatasetView& data, const TrainConfig& config) const;
  // The first n positions of a fresh shuffle with `rng` (train()'s batch order).
  std::span<uint32_t> in_order(std::size_t n);
  std::span<uint32_t> shuffled(Rng& rng, std::size_t n);
  Result<BatchStats> accumulate(std::span<const float> params, const DatasetView& data,
                                std::span<const uint32_t> positions, std::span<float> grads,
                                PerSampleStatistics* observer);
  // grads_ = the batch's mean gradient, plus its statistics for `test` when stats != nullptr.
  Result<BatchStats> measured_gradient(std::span<const float> params, const DatasetView& data,
                                       std::span<const uint32_t> positions, BatchTest test,
                                       GradientStatistics* stats);

  std::unique_ptr<Network> network_;
  TrainerOptions options_;
  FloatBuffer grads_;
  FloatBuffer second_pass_grads_;  // scratch of the inner-product pass
  std::unique_ptr<PerSampleStatistics> statistics_;
  GradientStatistics test_statistics_;  // train()'s, kept so a test does not allocate
  std::optional<Optimizer> optimizer_;
  std::vector<uint32_t> trainable_layers_;
  TrainableSlices trainable_;
  std::vector<uint32_t> order_;
  std::vector<uint32_t> scratch_;
};

// Loss and accuracy over the view, in chunks of the network's micro-batch.
Result<Evaluation> evaluate(Network& network, std::span<const float> params, const DatasetView& data);
Result<Evaluation> evaluate(const ModelSpec& spec, const ComputeContext& ctx, std::span<const float> params,
                            const DatasetView& data, std::size_t chunk = 256);

}  // namespace edgefl
