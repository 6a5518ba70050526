#include "edgefl/aggregate/strategy_state.hpp"

#include <cmath>

namespace edgefl {

const FloatBuffer* StrategyState::find_buffer(std::string_view name) const {
  for (const auto& [key, buffer] : buffers) {
    if (key == name) return &buffer;
  }
  return nullptr;
}

const double* StrategyState::find_scalar(std::string_view name) const {
  for (const auto& [key, value] : scalars) {
    if (key == name) return &value;
  }
  return nullptr;
}

Status StrategyState::check_buffer(std::string_view name, std::size_t size) const {
  const FloatBuffer* found = find_buffer(name);
  if (found == nullptr) {
    return Status(StatusCode::failed_precondition, "strategy state lacks buffer " + std::string(name));
  }
  if (found->size() != size) {
    return Status(StatusCode::shape_mismatch, "strategy buffer " + std::string(name) + " has " +
                                                  std::to_string(found->size()) + " values, model has " +
                                                  std::to_string(size));
  }
  return {};
}

Status StrategyState::restore_buffer(std::string_view name, FloatBuffer& into) const {
  EDGEFL_RETURN_IF_ERROR(check_buffer(name, into.size()));
  into.assign(find_buffer(name)->span());
  return {};
}

Result<double> StrategyState::scalar(std::string_view name) const {
  const double* found = find_scalar(name);
  if (found == nullptr) {
    return Status(StatusCode::failed_precondition, "strategy state lacks scalar " + std::string(name));
  }
  if (!std::isfinite(*found)) {
    return Status(StatusCode::non_finite, "strategy scalar " + std::string(name) + " is not finite");
  }
  return *found;
}

}  // namespace edgefl
