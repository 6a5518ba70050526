#include "edgefl/train/adaptive_batch.hpp"

#include <algorithm>
#include <cmath>
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
  for (BatchTest t : {BatchTest::none, BatchTest::norm, BatchTest::augmented_inner_product}) {
    if (batch_test_name(t) == name) return t;
  }
  return make_status(StatusCode::invalid_argument,
                     "unknown batch test '" + std::string(name) + "' (none, norm, augmented_inner_product)");
}

Status validate(const AdaptiveBatchConfig& c) {
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

Result<BatchProposal> propose_batch_size(const GradientStatistics& s, const AdaptiveBatchConfig& c) {
  EDGEFL_RETURN_IF_ERROR(validate(c));
  BatchProposal out;
  out.batch = s.batch;
  const double g2 = s.mean_sq_norm;
  // No variance estimate from one sample; a zero mean gradient (a stationary point) gives no scale.
  if (c.test == BatchTest::none || s.batch < 2 || !(g2 > 0.0)) return out;
  const double b = static_cast<double>(s.batch);
  const std::size_t cap = std::max(c.cap, s.batch);
  std::size_t proposal = 0;
  if (c.test == BatchTest::norm) {
    const double v = std::max(0.0, s.sum_sq_norms - b * g2) / (b - 1.0);
    const double scale = c.eta * c.eta * g2;
    out.variance = v;
    out.passed = v / b <= scale;
    proposal = needed_batch(v, scale, cap);
  } else {
    if (!s.has_inner) {
      return make_status(StatusCode::invalid_argument,
                         "adaptive batch: the augmented inner-product test needs the inner-product statistics");
    }
    const double mean_inner = s.sum_inner / b;
    const double v_ip = std::max(0.0, s.sum_inner_sq - b * mean_inner * mean_inner) / (b - 1.0);
    const double v_or = std::max(0.0, s.sum_sq_norms - s.sum_inner_sq / g2) / (b - 1.0);
    const double ip_scale = c.theta * c.theta * g2 * g2;
    const double or_scale = c.nu * c.nu * g2;
    out.variance = std::max(v_ip, v_or);
    out.passed = v_ip / b <= ip_scale && v_or / b <= or_scale;
    proposal = std::max(needed_batch(v_ip, ip_scale, cap), needed_batch(v_or, or_scale, cap));
  }
  out.batch = std::min(cap, std::max(s.batch, proposal));
  return out;
}

}  // namespace edgefl
