#include "edgefl/aggregate/streaming_mean.hpp"

#include <cmath>

namespace edgefl {

StreamingMean::StreamingMean(std::size_t parameter_count, UpdateChecks checks, MeanWeighting weighting)
    : sum_(parameter_count), compensation_(parameter_count), checks_(checks), weighting_(weighting) {}

Status StreamingMean::add(std::span<const float> delta, double samples) {
  if (!std::isfinite(samples) || samples <= 0.0) {
    return Status(StatusCode::invalid_argument, "update weight must be finite and > 0, got " + std::to_string(samples));
  }
  const double weight = weighting_ == MeanWeighting::uniform ? 1.0 : samples;
  Result<double> scale = check_update(delta, sum_.size(), checks_);
  if (!scale) return scale.status();
  const float factor = static_cast<float>(weight * *scale);
  float* sum = sum_.data();
  float* compensation = compensation_.data();
  for (std::size_t i = 0; i < delta.size(); ++i) {
    // Kahan step: add the term minus what was lost last time, remember what is lost now.
    const float term = factor * delta[i] - compensation[i];
    const float next = sum[i] + term;
    compensation[i] = (next - sum[i]) - term;
    sum[i] = next;
  }
  ++count_;
  total_weight_ += weight;
  return {};
}

Status StreamingMean::scaled_sum_into(std::span<float> out, double scale) const {
  if (out.size() != sum_.size()) {
    return Status(StatusCode::shape_mismatch, "output has " + std::to_string(out.size()) + " values, sum has " +
                                                  std::to_string(sum_.size()));
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<float>((static_cast<double>(sum_[i]) - compensation_[i]) * scale);
  }
  return {};
}

Status StreamingMean::mean_into(std::span<float> out) const {
  if (count_ == 0) return Status(StatusCode::failed_precondition, "mean of zero updates");
  return scaled_sum_into(out, 1.0 / total_weight_);
}

void StreamingMean::reset() {
  sum_.fill(0.0f);
  compensation_.fill(0.0f);
  count_ = 0;
  total_weight_ = 0.0;
}

void StreamingMean::save(StrategyState& state, const std::string& prefix) const {
  state.buffers.emplace_back(prefix + ".sum", sum_.clone());
  state.buffers.emplace_back(prefix + ".compensation", compensation_.clone());
  state.scalars.emplace_back(prefix + ".count", static_cast<double>(count_));
  state.scalars.emplace_back(prefix + ".total_weight", total_weight_);
}

Status StreamingMean::check(const StrategyState& state, const std::string& prefix) const {
  Result<double> count = state.scalar(prefix + ".count");
  if (!count) return count.status();
  Result<double> total = state.scalar(prefix + ".total_weight");
  if (!total) return total.status();
  if (*count < 0 || *total < 0 || *count != std::floor(*count) || (*count == 0) != (*total == 0)) {
    return Status(StatusCode::out_of_range, "strategy state " + prefix + " has an impossible count or weight");
  }
  EDGEFL_RETURN_IF_ERROR(state.check_buffer(prefix + ".sum", sum_.size()));
  return state.check_buffer(prefix + ".compensation", compensation_.size());
}

Status StreamingMean::restore(const StrategyState& state, const std::string& prefix) {
  EDGEFL_RETURN_IF_ERROR(check(state, prefix));
  (void)state.restore_buffer(prefix + ".sum", sum_);  // checked above: cannot fail
  (void)state.restore_buffer(prefix + ".compensation", compensation_);
  count_ = static_cast<std::size_t>(*state.find_scalar(prefix + ".count"));
  total_weight_ = *state.find_scalar(prefix + ".total_weight");
  return {};
}

}  // namespace edgefl
