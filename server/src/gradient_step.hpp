// GradientStep: the server side of a synchronous data-parallel step (strategy ddp, and the
// PALSGD warm-up): the round's mean gradient goes through the inner optimizer, with the lr
// schedule and gradient clip the devices use, into the global model.
//
//   auto step = GradientStep::create(config, P);
//   EDGEFL_RETURN_IF_ERROR(step->apply_step(global, mean_gradient, /*global step=*/round - 1));
//
// Every device would apply the same optimizer to the same mean and hold the same model and
// state; the server applies it once and sends the model in the next Task instead (the same
// bytes as broadcasting the mean), so a device that missed a step or rebooted rejoins on the
// exact model. Its optimizer state ("ddp.state.<i>", P floats each, and "ddp.steps") travels in
// checkpoints like any strategy's.
#pragma once

#include <memory>

#include "edgefl/aggregate/server_strategy.hpp"
#include "edgefl/base/float_buffer.hpp"
#include "edgefl/optim/lr_schedule.hpp"
#include "edgefl/optim/optimizer.hpp"
#include "server_config.hpp"

namespace edgefl::server {

class GradientStep final : public ServerStrategy {
 public:
  static Result<std::unique_ptr<GradientStep>> create(const ServerConfig& config, std::size_t parameter_count);

  // x <- InnerOpt(x, clip(mean_gradient)) at the scheduled lr of `step`. mean_gradient is
  // clipped in place.
  Status apply_step(std::span<float> global, std::span<float> mean_gradient, uint64_t step);
  uint64_t steps() const { return optimizer_.steps(); }
  // The inner optimizer's state (optimizer_state_floats values): what every device would hold
  // after the steps so far, handed to the devices in the first task after a warm-up.
  std::span<const float> optimizer_state() const { return optimizer_.state(); }

  std::string_view name() const override { return "ddp"; }
  bool asynchronous() const override { return false; }
  std::size_t parameter_count() const override { return size_; }
  // The next step in sequence (apply_step with steps()); the mean is copied to clip it.
  Status apply(std::span<float> global, std::span<const float> mean_gradient) override;
  Result<bool> arrive(std::span<float> global, const Arrival& arrival) override;
  StrategyState save_state() const override;
  Status restore_state(const StrategyState& state) override;

 private:
  GradientStep(Optimizer optimizer, LrSchedule schedule, float clip_norm, std::size_t size);
  Optimizer optimizer_;
  OptimizerConfig base_;
  LrSchedule schedule_;
  float clip_norm_;
  std::size_t size_;
  FloatBuffer scratch_;
};

// The strategy of a run with a gradient warm-up: `outer` (e.g. nesterov) applies the mean
// deltas of the rounds after it; the checkpoint carries both states (their names differ).
class WithGradientWarmup final : public ServerStrategy {
 public:
  WithGradientWarmup(std::unique_ptr<GradientStep> warmup, std::unique_ptr<ServerStrategy> outer)
      : warmup_(std::move(warmup)), outer_(std::move(outer)) {}
  GradientStep& warmup() { return *warmup_; }

  std::string_view name() const override { return outer_->name(); }
  bool asynchronous() const override { return outer_->asynchronous(); }
  std::size_t parameter_count() const override { return outer_->parameter_count(); }
  Status apply(std::span<float> global, std::span<const float> mean_delta) override {
    return outer_->apply(global, mean_delta);
  }
  Result<bool> arrive(std::span<float> global, const Arrival& arrival) override {
    return outer_->arrive(global, arrival);
  }
  StrategyState save_state() const override;
  Status restore_state(const StrategyState& state) override;

 private:
  std::unique_ptr<GradientStep> warmup_;
  std::unique_ptr<ServerStrategy> outer_;
};

}  // namespace edgefl::server
