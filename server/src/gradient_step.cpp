#include "gradient_step.hpp"

#include <string>

#include "edgefl/aggregate/update_checks.hpp"

namespace edgefl::server {

namespace {

std::string state_name(std::size_t i) { return "ddp.state." + std::to_string(i); }
constexpr const char* kStepsName = "ddp.steps";

}  // namespace

Result<std::unique_ptr<GradientStep>> GradientStep::create(const ServerConfig& c, std::size_t parameter_count) {
  const OptimizerConfig inner{c.train.optimizer, c.train.learning_rate, c.train.momentum, c.train.weight_decay,
                              c.train.adam_beta1, c.train.adam_beta2, c.train.adam_epsilon};
  Result<Optimizer> optimizer = Optimizer::create(inner, parameter_count);
  if (!optimizer) return optimizer.status().with_context("the gradient-step optimizer");
  const LrSchedule schedule{c.train.lr_schedule, c.train.lr_warmup_steps, c.train.lr_total_steps, c.train.lr_min};
  EDGEFL_RETURN_IF_ERROR(validate(schedule, inner.lr));
  return std::unique_ptr<GradientStep>(
      new GradientStep(std::move(*optimizer), schedule, c.train.clip_norm, parameter_count));
}

GradientStep::GradientStep(Optimizer optimizer, LrSchedule schedule, float clip_norm, std::size_t size)
    : optimizer_(std::move(optimizer)), base_(optimizer_.config()), schedule_(schedule), clip_norm_(clip_norm),
      size_(size), scratch_(size) {}

Status GradientStep::apply_step(std::span<float> global, std::span<float> mean_gradient, uint64_t step) {
  if (global.size() != size_) {
    return make_status(StatusCode::shape_mismatch, "ddp: global model has " + std::to_string(global.size()) +
                                                       " values, expected " + std::to_string(size_));
  }
  Result<double> checked = check_update(mean_gradient, size_, UpdateChecks{});
  if (!checked) return checked.status().with_context("ddp mean gradient");
  (void)clip_global_norm(mean_gradient, clip_norm_);
  OptimizerConfig config = base_;
  config.lr = scheduled_lr(schedule_, base_.lr, step);
  EDGEFL_RETURN_IF_ERROR(optimizer_.set_config(config));
  return optimizer_.step(global, mean_gradient);
}

Status GradientStep::apply(std::span<float> global, std::span<const float> mean_gradient) {
  if (mean_gradient.size() != size_) {
    return make_status(StatusCode::shape_mismatch, "ddp: mean gradient has " + std::to_string(mean_gradient.size()) +
                                                       " values, expected " + std::to_string(size_));
  }
  scratch_.assign(mean_gradient);
  return apply_step(global, scratch_.span(), optimizer_.steps());
}

Result<bool> GradientStep::arrive(std::span<float>, const Arrival&) {
  return make_status(StatusCode::failed_precondition, "ddp is synchronous: average the round and call apply");
}

StrategyState GradientStep::save_state() const {
  StrategyState state;
  std::span<const float> all = optimizer_.state();
  for (std::size_t i = 0; i * size_ < all.size(); ++i) {
    FloatBuffer part(size_);
    part.assign(all.subspan(i * size_, size_));
    state.buffers.emplace_back(state_name(i), std::move(part));
  }
  state.scalars.emplace_back(kStepsName, static_cast<double>(optimizer_.steps()));
  return state;
}

Status GradientStep::restore_state(const StrategyState& state) {
  const std::size_t parts = optimizer_.state().size() / (size_ == 0 ? 1 : size_);
  for (std::size_t i = 0; i < parts; ++i) EDGEFL_RETURN_IF_ERROR(state.check_buffer(state_name(i), size_));
  Result<double> steps = state.scalar(kStepsName);
  if (!steps) return steps.status();
  FloatBuffer all(optimizer_.state().size());
  for (std::size_t i = 0; i < parts; ++i) {
    const FloatBuffer* part = state.find_buffer(state_name(i));
    std::copy(part->span().begin(), part->span().end(), all.span().begin() + i * size_);
  }
  return optimizer_.restore(all.span(), static_cast<uint64_t>(*steps));
}

StrategyState WithGradientWarmup::save_state() const {
  StrategyState state = outer_->save_state();
  StrategyState warmup = warmup_->save_state();
  for (auto& buffer : warmup.buffers) state.buffers.push_back(std::move(buffer));
  for (auto& scalar : warmup.scalars) state.scalars.push_back(std::move(scalar));
  return state;
}

Status WithGradientWarmup::restore_state(const StrategyState& state) {
  // The warm-up's state is checked by restoring into a copy first: all-or-nothing.
  StrategyState before = warmup_->save_state();
  EDGEFL_RETURN_IF_ERROR(warmup_->restore_state(state));
  Status outer = outer_->restore_state(state);
  if (!outer.ok()) (void)warmup_->restore_state(before);
  return outer;
}

}  // namespace edgefl::server
