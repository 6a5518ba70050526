#include "edgefl/aggregate/update_checks.hpp"

#include <cmath>
#include <string>

namespace edgefl {

Status validate(const UpdateChecks& checks) {
  if (!std::isfinite(checks.max_l2_norm) || checks.max_l2_norm < 0.0) {
    return Status(StatusCode::invalid_argument,
                  "max_l2_norm must be finite and >= 0 (0 = off), got " + std::to_string(checks.max_l2_norm));
  }
  if (checks.clip_to_norm && checks.max_l2_norm == 0.0) {
    return Status(StatusCode::invalid_argument, "clip_to_norm needs max_l2_norm > 0");
  }
  return {};
}

Result<double> check_update(std::span<const float> delta, std::size_t expected_size, const UpdateChecks& checks) {
  if (delta.size() != expected_size) {
    return Status(StatusCode::shape_mismatch, "update has " + std::to_string(delta.size()) + " values, model has " +
                                                  std::to_string(expected_size));
  }
  double squared = 0.0;
  for (std::size_t i = 0; i < delta.size(); ++i) {
    const float value = delta[i];
    if (!std::isfinite(value)) {
      return Status(StatusCode::non_finite, "update value " + std::to_string(i) + " is " + std::to_string(value));
    }
    squared += static_cast<double>(value) * value;
  }
  if (checks.max_l2_norm <= 0.0) return 1.0;
  const double norm = std::sqrt(squared);
  if (norm <= checks.max_l2_norm) return 1.0;
  if (checks.clip_to_norm) return checks.max_l2_norm / norm;
  return Status(StatusCode::norm_exceeded,
                "update L2 norm " + std::to_string(norm) + " exceeds bound " + std::to_string(checks.max_l2_norm));
}

}  // namespace edgefl
