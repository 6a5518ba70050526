// Optimizer: one update rule applied to the flat parameter buffer, with its state in a flat
// buffer too (so it can be saved with a checkpoint and restored).
//
//   edgefl::OptimizerConfig cfg{.kind = edgefl::OptimizerKind::momentum, .lr = 0.05f, .momentum = 0.9f};
//   auto opt = edgefl::Optimizer::create(cfg, params.size());
//   opt->step(params.span(), grads.span());
//   std::span<const float> saved = opt->state();   // and opt->restore(saved, opt->steps())
//
// Rules follow PyTorch: SGD (L2 weight decay added to the gradient), momentum (v = mu v + g),
// Nesterov (w -= lr (g + mu v)), AdamW (decoupled decay w *= 1 - lr wd, bias-corrected moments).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/trainable.hpp"
#include "edgefl/optim/optimizer_kind.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {


std::string_view optimizer_name(OptimizerKind kind);
Result<OptimizerKind> parse_optimizer(std::string_view name);

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  float lr = 0.01f;
  float momentum = 0.9f;      // momentum, nesterov
  float weight_decay = 0.0f;
  float beta1 = 0.9f;         // adamw
  float beta2 = 0.999f;
  float eps = 1e-8f;
};

// Scales `grads` so its global L2 norm is at most max_norm (torch.nn.utils.clip_grad_norm_:
// factor max_norm / (norm + 1e-6) when norm > max_norm); max_norm <= 0 leaves it. Returns the
// norm before clipping.
double clip_global_norm(std::span<float> grads, float max_norm);

// Floats of state a kind keeps per model: 0 (sgd), P (momentum, nesterov), 2P (adamw).
std::size_t optimizer_state_floats(OptimizerKind kind, std::size_t parameters);

class Optimizer {
 public:
  // Validates the config (finite lr >= 0, momentum/betas in [0, 1), eps > 0).
  static Result<Optimizer> create(const OptimizerConfig& config, std::size_t parameters);
  // Over the trainable slices of a model only (frozen layers, edgefl/base/trainable.hpp): the
  // others are never changed, and the state holds the trainable parameters only, in order.
  static Result<Optimizer> create(const OptimizerConfig& config, const TrainableSlices& trainable);

  const OptimizerConfig& config() const { return config_; }
  // Hyper-parameters may change between steps (schedules); the kind may not.
  Status set_config(const OptimizerConfig& config);
  Status step(std::span<float> params, std::span<const float> grads);
  // step() in parts, so the update can follow the backward pass while each gradient is still in
  // cache (Network::train_step): begin_step() once (checks sizes, counts the step), then update()
  // over disjoint ranges [begin, end) of the flat buffers that together cover every parameter.
  Status begin_step(std::span<float> params, std::span<const float> grads);
  void update(std::span<float> params, std::span<const float> grads, std::size_t begin, std::size_t end);

  std::span<const float> state() const { return state_.span(); }
  uint64_t steps() const { return steps_; }
  Status restore(std::span<const float> state, uint64_t steps);
  void reset();

 private:
  Optimizer(const OptimizerConfig& config, std::size_t parameters, std::vector<TrainableSlices::Slice> slices,
            std::size_t trained);
  void update_slice(float* w, const float* g, std::size_t n, std::size_t state_offset);
  OptimizerConfig config_;
  std::size_t parameters_;
  std::vector<TrainableSlices::Slice> slices_;  // what update() changes
  std::size_t trained_;                         // floats in slices_
  FloatBuffer state_;
  uint64_t steps_ = 0;
  float correction1_ = 1.0f, correction2_ = 1.0f;  // AdamW bias corrections of the current step
};

}  // namespace edgefl
