#include "edgefl/train/adaptive_batch.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>

namespace edgefl {

namespace {

// ceil(variance / denominator) as a batch size, saturating at `cap` (also for inf/NaN ratios).
std::size_t needed_batch(double variance, double denominator, std::size_t cap) {
  const double ratio = std::ceil(variance / denominator);
  if (!(ratio < static_cast<double>(cap))) return cap;
  return ratio < 1.0 ? 1 : static_cast<std::size_t>(ratio);
}

bool positive_finite(double v) { return v > 0.0 && std::isfinite(v); }

// The enum value whose name is `name`; the error lists the accepted names.
template <typename Enum>
Result<Enum> parse_named(std::string_view name, std::initializer_list<Enum> values,
                         std::string_view (*name_of)(Enum), std::string_view what) {
  std::string accepted;
  for (Enum v : values) {
    if (name_of(v) == name) return v;
    accepted += (accepted.empty() ? "" : ", ") + std::string(name_of(v));
  }
  return make_status(StatusCode::invalid_argument,
                     "unknown " + std::string(what) + " '" + std::string(name) + "' (" + accepted + ")");
}

// Σ_p Var_i⟨g_i^p, ḡ^p⟩ and Σ_p Σ_coordinates Var_i(g_i^p minus its projection on ḡ^p), Bessel.
struct InnerVariances {
  double inner = 0.0;
  double orthogonal = 0.0;
};

InnerVariances inner_variances(const GradientStatistics& s) {
  const double b = static_cast<double>(s.batch);
  InnerVariances v;
  for (const TensorStatistics& t : s.tensors) {
    v.inner += std::max(0.0, t.sum_inner_sq - t.sum_inner * t.sum_inner / b) / (b - 1.0);
    // The residuals g_i^p − c_i ḡ^p have mean zero, so their variance is their mean square.
    const double projected = t.mean_sq_norm > 0.0 ? t.sum_inner_sq / t.mean_sq_norm : 0.0;
    v.orthogonal += std::max(0.0, t.sum_sq_norms - projected) / (b - 1.0);
  }
  return v;
}

}  // namespace

std::string_view batch_test_name(BatchTest test) {
  switch (test) {
    case BatchTest::none: return "none";
    case BatchTest::norm: return "norm";
    case BatchTest::augmented_inner_product: return "augmented_inner_product";
  }
  return "unknown";
}

Result<BatchTest> parse_batch_test(std::string_view name) {
  return parse_named(name, {BatchTest::none, BatchTest::norm, BatchTest::augmented_inner_product},
                     batch_test_name, "batch test");
}

std::string_view lr_scaling_name(LrScaling scaling) {
  switch (scaling) {
    case LrScaling::none: return "none";
    case LrScaling::sqrt: return "sqrt";
    case LrScaling::linear: return "linear";
  }
  return "unknown";
}

Result<LrScaling> parse_lr_scaling(std::string_view name) {
  return parse_named(name, {LrScaling::none, LrScaling::sqrt, LrScaling::linear}, lr_scaling_name,
                     "learning-rate scaling");
}

std::string_view interval_clock_name(IntervalClock clock) {
  switch (clock) {
    case IntervalClock::device: return "device";
    case IntervalClock::task: return "task";
  }
  return "unknown";
}

Result<IntervalClock> parse_interval_clock(std::string_view name) {
  return parse_named(name, {IntervalClock::device, IntervalClock::task}, interval_clock_name,
                     "test-interval clock");
}

Status validate(const AdaptiveBatchConfig& c) {
  if (c.lr_scaling != LrScaling::none && c.lr_scaling != LrScaling::sqrt && c.lr_scaling != LrScaling::linear) {
    return make_status(StatusCode::unknown_enum, "adaptive batch: unknown learning-rate scaling");
  }
  if (!(c.max_lr >= 0.0) || !std::isfinite(c.max_lr)) {
    return make_status(StatusCode::invalid_argument, "adaptive batch: max_lr must be finite and >= 0 (0: no cap)");
  }
  if (c.interval_clock != IntervalClock::device && c.interval_clock != IntervalClock::task) {
    return make_status(StatusCode::unknown_enum, "adaptive batch: unknown test-interval clock");
  }
  if (c.test == BatchTest::none) return Status();
  if (c.test != BatchTest::norm && c.test != BatchTest::augmented_inner_product) {
    return make_status(StatusCode::unknown_enum, "adaptive batch: unknown test");
  }
  if (!positive_finite(c.eta) || !positive_finite(c.theta) || !positive_finite(c.nu)) {
    return make_status(StatusCode::invalid_argument, "adaptive batch: eta, theta and nu must be finite and > 0");
  }
  if (c.cap == 0) return make_status(StatusCode::invalid_argument, "adaptive batch: cap must be >= 1");
  return Status();
}

double scaled_learning_rate(const AdaptiveBatchConfig& c, double lr, std::size_t batch, std::size_t base_batch) {
  const double ratio = base_batch > 0 ? double(batch) / double(base_batch) : 1.0;
  double scaled = lr;
  if (c.lr_scaling == LrScaling::sqrt) scaled = lr * std::sqrt(ratio);
  if (c.lr_scaling == LrScaling::linear) scaled = lr * ratio;
  return c.max_lr > 0.0 ? std::min(scaled, c.max_lr) : scaled;
}

double GradientStatistics::sum_sq_norms() const {
  double sum = 0.0;
  for (const TensorStatistics& t : tensors) sum += t.sum_sq_norms;
  return sum;
}

double GradientStatistics::mean_sq_norm() const {
  double sum = 0.0;
  for (const TensorStatistics& t : tensors) sum += t.mean_sq_norm;
  return sum;
}

Result<BatchProposal> propose_batch_size(const GradientStatistics& s, const AdaptiveBatchConfig& c) {
  EDGEFL_RETURN_IF_ERROR(validate(c));
  BatchProposal out;
  out.batch = s.batch;
  const double g2 = s.mean_sq_norm();
  // No variance estimate from one sample; a zero mean gradient (a stationary point) gives no scale.
  if (c.test == BatchTest::none || s.batch < 2 || !(g2 > 0.0)) return out;
  const double b = static_cast<double>(s.batch);
  const std::size_t cap = std::max(c.cap, s.batch);
  std::size_t proposal = 0;
  if (c.test == BatchTest::norm) {
    const double v = std::max(0.0, s.sum_sq_norms() - b * g2) / (b - 1.0);
    const double scale = c.eta * c.eta * g2;
    out.variance = v;
    out.passed = v / b <= scale;
    proposal = needed_batch(v, scale, cap);
  } else {
    if (!s.has_inner) {
      return make_status(StatusCode::invalid_argument,
                         "adaptive batch: the augmented inner-product test needs the inner-product statistics");
    }
    const InnerVariances v = inner_variances(s);
    const double ip_scale = c.theta * c.theta * g2 * g2;
    const double or_scale = c.nu * c.nu * g2;
    out.variance = std::max(v.inner, v.orthogonal);
    out.passed = v.inner / b <= ip_scale && v.orthogonal / b <= or_scale;
    proposal = std::max(needed_batch(v.inner, ip_scale, cap), needed_batch(v.orthogonal, or_scale, cap));
  }
  out.batch = std::min(cap, std::max(s.batch, proposal));
  return out;
}

}  // namespace edgefl
