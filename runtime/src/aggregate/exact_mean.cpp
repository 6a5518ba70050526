#include "edgefl/aggregate/exact_mean.hpp"

#include <algorithm>
#include <string>

#include "exact_terms.hpp"

namespace edgefl {

namespace {

constexpr double kMaxTerm = 0x1p48;   // 2^9 maximal terms fit in the 2^57 capacity
constexpr double kHighUnit = 0x1p-6;  // high counts units of 2^-6
constexpr double kLowUnit = 0x1p-70;  // low counts units of 2^-70

struct Words {
  int64_t high;
  uint64_t low;
  bool wrapped;  // the signed 128-bit sum left its range: beyond the capacity 2^57
};

Words add_words(int64_t high, uint64_t low, int64_t add_high, uint64_t add_low) {
  const uint64_t new_low = low + add_low;
  const uint64_t carry = new_low < low ? 1u : 0u;
  const auto a = static_cast<uint64_t>(high);
  const auto b = static_cast<uint64_t>(add_high);
  const uint64_t new_high = a + b + carry;
  return Words{static_cast<int64_t>(new_high), new_low,
               (((a ^ new_high) & (b ^ new_high)) >> 63) != 0};
}

}  // namespace

ExactMean::ExactMean(std::size_t parameter_count, UpdateChecks checks, MeanWeighting weighting)
    : high_(parameter_count, 0), low_(parameter_count, 0), checks_(checks), weighting_(weighting) {}

Status ExactMean::add(std::span<const float> delta, uint64_t samples) {
  if (samples == 0 || samples >= (uint64_t{1} << 29)) {
    return Status(
        StatusCode::invalid_argument,
        "update weight must be a sample count in [1, 2^29), got " + std::to_string(samples));
  }
  const uint64_t weight = mean_weight(weighting_, samples);
  // Without a norm bound every finite update has scale 1, and the checks can ride on the sum's
  // own pass: a NaN or Inf value is flagged too_large there (its bits are above any limit), and
  // check_update then names it after the terms are taken out again.
  const bool bounded = checks_.max_l2_norm > 0.0;
  double scale = 1.0;
  if (bounded || delta.size() != high_.size()) {
    Result<double> checked = check_update(delta, high_.size(), checks_);
    if (!checked) return checked.status();
    scale = *checked;
  }
  const double factor = static_cast<double>(weight) * scale;
  // A clip scale makes the product inexact; rounding it to float keeps the term a 53-bit value
  // that depends only on this update, so the sum stays order-free.
  const double term_factor =
      scale == 1.0 ? factor : static_cast<double>(static_cast<float>(factor));
  aggregate_detail::TermFactor form;
  if (!aggregate_detail::make_term_factor(term_factor, kMaxTerm, form)) {
    return Status(StatusCode::internal, "update weight factor " + std::to_string(term_factor) +
                                            " has more than 29 significant bits");
  }
  const aggregate_detail::TermFlags flags =
      aggregate_detail::add_terms(high_, low_, delta, form, false);
  if (flags.too_large || flags.overflow) {
    // Integer sums wrap, so subtracting the same terms restores the sum bit for bit.
    aggregate_detail::add_terms(high_, low_, delta, form, true);
    if (!bounded) {
      Result<double> checked = check_update(delta, high_.size(), checks_);
      if (!checked) return checked.status();
    }
    return Status(StatusCode::out_of_range,
                  flags.too_large ? "update value too large to aggregate exactly"
                                  : "update would take a sum beyond the exact capacity 2^57");
  }
  ++count_;
  total_weight_ += weight;
  return {};
}

Status ExactMean::add_sum(std::span<const int64_t> high, std::span<const uint64_t> low,
                          uint64_t update_count, uint64_t total_weight) {
  if (high.size() != high_.size() || low.size() != low_.size()) {
    return Status(StatusCode::shape_mismatch, "partial sum has " + std::to_string(high.size()) +
                                                  " high and " + std::to_string(low.size()) +
                                                  " low words, the sum has " +
                                                  std::to_string(high_.size()) + " parameters");
  }
  if (update_count == 0 || total_weight == 0) {
    return Status(StatusCode::invalid_argument,
                  "partial sum must fold at least one update with a positive weight");
  }
  // Checked before anything changes, so a refusal leaves the sum as it was.
  for (std::size_t i = 0; i < high.size(); ++i) {
    if (add_words(high_[i], low_[i], high[i], low[i]).wrapped) {
      return Status(StatusCode::out_of_range,
                    "partial sum would take a sum beyond the exact capacity 2^57");
    }
  }
  for (std::size_t i = 0; i < high.size(); ++i) {
    const Words sum = add_words(high_[i], low_[i], high[i], low[i]);
    high_[i] = sum.high;
    low_[i] = sum.low;
  }
  count_ += update_count;
  total_weight_ += total_weight;
  return {};
}

Status ExactMean::mean_into(std::span<float> out) const {
  if (count_ == 0) return Status(StatusCode::failed_precondition, "mean of zero updates");
  if (out.size() != high_.size()) {
    return Status(StatusCode::shape_mismatch, "output has " + std::to_string(out.size()) +
                                                  " values, the mean has " +
                                                  std::to_string(high_.size()));
  }
  const double inverse_weight = 1.0 / static_cast<double>(total_weight_);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double sum =
        static_cast<double>(high_[i]) * kHighUnit + static_cast<double>(low_[i]) * kLowUnit;
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
