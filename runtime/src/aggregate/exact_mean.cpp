#include "edgefl/aggregate/exact_mean.hpp"

#include <cmath>
#include <string>

namespace edgefl {

namespace {

constexpr int kHighShift = 6;    // high counts units of 2^-6
constexpr int kLowShift = 70;    // low counts units of 2^-70
constexpr double kMaxTerm = 0x1p48;  // 2^9 maximal terms still fit in the 2^57 capacity

// Splits an exact double into the fixed-point pair (floor part, fraction part).
inline void split(double term, int64_t* high, uint64_t* low) {
  double high_part = std::floor(std::ldexp(term, kHighShift));
  double rest = term - std::ldexp(high_part, -kHighShift);  // exact, in [0, 2^-6)
  *high = static_cast<int64_t>(high_part);
  *low = static_cast<uint64_t>(std::nearbyint(std::ldexp(rest, kLowShift)));
  // nearbyint may round a value just below 2^64 up to 2^64; carry it.
  if (std::ldexp(rest, kLowShift) >= 0x1p64) {
    *high += 1;
    *low = 0;
  }
}

}  // namespace

ExactMean::ExactMean(std::size_t parameter_count, UpdateChecks checks, MeanWeighting weighting)
    : high_(parameter_count, 0), low_(parameter_count, 0), checks_(checks), weighting_(weighting) {}

Status ExactMean::add(std::span<const float> delta, uint64_t samples) {
  if (samples == 0 || samples >= (uint64_t{1} << 29)) {
    return Status(StatusCode::invalid_argument,
                  "update weight must be a sample count in [1, 2^29), got " + std::to_string(samples));
  }
  const uint64_t weight = mean_weight(weighting_, samples);
  Result<double> scale = check_update(delta, high_.size(), checks_);
  if (!scale) return scale.status();
  const double factor = static_cast<double>(weight) * *scale;
  // A clip scale makes the product inexact; rounding it to float keeps the term a 53-bit value
  // that depends only on this update, so the sum stays order-free.
  const double term_factor = *scale == 1.0 ? factor : static_cast<double>(static_cast<float>(factor));
  for (float value : delta) {
    if (std::fabs(term_factor * value) >= kMaxTerm) {
      return Status(StatusCode::out_of_range, "update value too large to aggregate exactly");
    }
  }
  for (std::size_t i = 0; i < delta.size(); ++i) {
    int64_t high = 0;
    uint64_t low = 0;
    split(term_factor * delta[i], &high, &low);
    uint64_t sum_low = low_[i] + low;
    high_[i] += high + (sum_low < low ? 1 : 0);
    low_[i] = sum_low;
  }
  ++count_;
  total_weight_ += weight;
  return {};
}

Status ExactMean::mean_into(std::span<float> out) const {
  if (count_ == 0) return Status(StatusCode::failed_precondition, "mean of zero updates");
  if (out.size() != high_.size()) {
    return Status(StatusCode::shape_mismatch, "output has " + std::to_string(out.size()) +
                                                  " values, the mean has " + std::to_string(high_.size()));
  }
  const double inverse_weight = 1.0 / static_cast<double>(total_weight_);
  for (std::size_t i = 0; i < out.size(); ++i) {
    double sum = std::ldexp(static_cast<double>(high_[i]), -kHighShift) +
                 std::ldexp(static_cast<double>(low_[i]), -kLowShift);
    out[i] = static_cast<float>(sum * inverse_weight);
  }
  return {};
}

void ExactMean::reset() {
  std::fill(high_.begin(), high_.end(), 0);
  std::fill(low_.begin(), low_.end(), 0);
  count_ = 0;
  total_weight_ = 0;
}

}  // namespace edgefl
