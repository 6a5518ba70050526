#include "strategy_base.hpp"

#include <cmath>

namespace edgefl::aggregate_detail {

FloatBuffer& StrategyBase::add_state_buffer(const std::string& suffix) {
  state_.emplace_back(name_ + "." + suffix, std::make_unique<FloatBuffer>(size_));
  return *state_.back().second;
}

StrategyState StrategyBase::save_state() const {
  StrategyState state;
  for (const auto& [name, buffer] : state_) state.buffers.emplace_back(name, buffer->clone());
  return state;
}

Status StrategyBase::restore_state(const StrategyState& state) {
  for (const auto& [name, buffer] : state_) EDGEFL_RETURN_IF_ERROR(state.check_buffer(name, size_));
  for (const auto& [name, buffer] : state_) (void)state.restore_buffer(name, *buffer);  // checked above
  return {};
}

Status StrategyBase::check_global(std::span<const float> global) const {
  if (global.size() != size_) {
    return Status(StatusCode::shape_mismatch, name_ + ": global model has " + std::to_string(global.size()) +
                                                  " values, strategy was built for " + std::to_string(size_));
  }
  return {};
}

Status SynchronousStrategy::apply(std::span<float> global, std::span<const float> mean_delta) {
  EDGEFL_RETURN_IF_ERROR(check_global(global));
  Result<double> checked = check_update(mean_delta, parameter_count(), UpdateChecks{});
  if (!checked) return checked.status().with_context(std::string(name()) + " mean delta");
  step(global, mean_delta);
  return {};
}

Result<bool> SynchronousStrategy::arrive(std::span<float>, const Arrival&) {
  return Status(StatusCode::failed_precondition,
                std::string(name()) + " is synchronous: average the round with ExactMean and call apply");
}

Status AsynchronousStrategy::apply(std::span<float>, std::span<const float>) {
  return Status(StatusCode::failed_precondition,
                std::string(name()) + " is asynchronous: hand each update to arrive()");
}

Result<bool> AsynchronousStrategy::arrive(std::span<float> global, const Arrival& arrival) {
  EDGEFL_RETURN_IF_ERROR(check_global(global));
  if (arrival.staleness > settings_.max_staleness) {
    return Status(StatusCode::stale, std::string(name()) + ": update staleness " + std::to_string(arrival.staleness) +
                                         " exceeds max_staleness " + std::to_string(settings_.max_staleness));
  }
  // A whole model's norm means nothing: for model-form updates the strategy bounds x_new − x.
  const UpdateChecks checks = arrival.form == UpdateForm::delta ? settings_.checks : UpdateChecks{};
  Result<double> scale = check_update(arrival.values, parameter_count(), checks);
  if (!scale) return scale.status();
  return accept(global, arrival, *scale);
}

Status validate_unit_interval(const char* name, double value, bool include_zero, bool include_one) {
  const bool ok = std::isfinite(value) && (include_zero ? value >= 0.0 : value > 0.0) &&
                  (include_one ? value <= 1.0 : value < 1.0);
  if (ok) return {};
  return Status(StatusCode::out_of_range, std::string(name) + " must be in " + (include_zero ? "[0" : "(0") + ", 1" +
                                              (include_one ? "]" : ")") + ", got " + std::to_string(value));
}

Status validate_positive(const char* name, double value) {
  if (std::isfinite(value) && value > 0.0) return {};
  return Status(StatusCode::out_of_range, std::string(name) + " must be finite and > 0, got " + std::to_string(value));
}

}  // namespace edgefl::aggregate_detail
