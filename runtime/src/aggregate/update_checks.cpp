#include "edgefl/aggregate/update_checks.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>

namespace edgefl {

namespace {

// The fast answer for the common update: every value finite and the norm, if bounded, clearly
// within the bound. It sums the squares in eight independent lanes (a vector loop) instead of
// one serial chain, so the sum differs from the serial one by rounding; it answers only when
// the serial sum must be within the bound too, else the serial pass decides (and clips).
constexpr std::size_t kChunk = 1024;
constexpr std::size_t kLanes = 8;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGEFL_VECTOR_CLONES [[gnu::target_clones("arch=x86-64-v4", "avx2", "default")]]
#else
#define EDGEFL_VECTOR_CLONES
#endif

// Bit 31 of the result is set iff a value is NaN or Inf (an all-ones exponent plus one
// exponent step carries into bit 31); `lanes` gain the squares of groups * kLanes values.
[[gnu::always_inline]] inline uint32_t square_lanes(const float* __restrict values, std::size_t groups,
                                                    double* __restrict lanes) {
  uint32_t flag = 0;
  double sums[kLanes];
  std::copy(lanes, lanes + kLanes, sums);
  for (std::size_t group = 0; group < groups; ++group) {
    for (std::size_t lane = 0; lane < kLanes; ++lane) {
      const float value = values[group * kLanes + lane];
      flag |= (std::bit_cast<uint32_t>(value) & 0x7f800000u) + 0x00800000u;
      sums[lane] += static_cast<double>(value) * value;
    }
  }
  std::copy(sums, sums + kLanes, lanes);
  return flag & 0x80000000u;
}

EDGEFL_VECTOR_CLONES
uint32_t square_chunk(const float* __restrict values, double* __restrict lanes) {
  return square_lanes(values, kChunk / kLanes, lanes);
}

bool finite_and_clearly_within(std::span<const float> delta, double max_l2_norm) {
  double lanes[kLanes] = {};
  std::size_t start = 0;
  for (; start + kChunk <= delta.size(); start += kChunk) {
    if (square_chunk(delta.data() + start, lanes) != 0) return false;
  }
  const std::size_t groups = (delta.size() - start) / kLanes;
  if (square_lanes(delta.data() + start, groups, lanes) != 0) return false;
  for (std::size_t i = start + groups * kLanes; i < delta.size(); ++i) {
    if (!std::isfinite(delta[i])) return false;
    lanes[0] += static_cast<double>(delta[i]) * delta[i];
  }
  if (max_l2_norm <= 0.0) return true;
  double squared = 0.0;
  for (double lane : lanes) squared += lane;
  // Squares of floats are exact and non-negative, so any order of summing n of them is within
  // a relative (n - 1) * 2^-53 / (1 - (n - 1) * 2^-53) of the true sum: the serial sum is at
  // most this one times (1 + 4 n 2^-53) (n < 2^40), which with a margin for the rounding of
  // these products must stay below the bound squared for sqrt(serial) <= bound.
  const double n = static_cast<double>(delta.size()) + 4.0;
  return squared * (1.0 + 4.0 * n * 0x1p-53) * (1.0 + 0x1p-50) <= max_l2_norm * max_l2_norm * (1.0 - 0x1p-50);
}

}  // namespace

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
  if (finite_and_clearly_within(delta, checks.max_l2_norm)) return 1.0;
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
