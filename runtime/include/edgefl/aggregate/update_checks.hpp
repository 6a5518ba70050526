// Checks every incoming model delta passes before it may touch an aggregate.
//
//   edgefl::UpdateChecks checks;
//   checks.max_l2_norm = 10.0;      // 0 = no bound
//   checks.clip_to_norm = true;     // scale larger updates down instead of rejecting them
//   edgefl::Result<double> scale = edgefl::check_update(delta, params.size(), checks);
//   if (!scale) return scale.status();   // shape_mismatch, non_finite, norm_exceeded
//   // multiply the update by *scale (1.0 unless it was clipped)
//
// One pass over the values (norm in double precision, summed in order; a vector pass answers
// alone when every value is finite and the norm is clearly within the bound); nothing is
// modified, so a rejected update never changes a running sum. Norm clipping bounds any single
// device's influence at O(P) cost, the cheap streaming alternative to trimmed means.
#pragma once

#include <cstddef>
#include <span>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct UpdateChecks {
  double max_l2_norm = 0.0;   // 0 disables the bound
  bool clip_to_norm = false;  // true: scale to max_l2_norm; false: reject with norm_exceeded
};

// Validates the checks themselves (a negative or non-finite bound is invalid_argument).
Status validate(const UpdateChecks& checks);

// The factor to multiply the update by (1, or < 1 when clipped), or why it is refused.
Result<double> check_update(std::span<const float> delta, std::size_t expected_size, const UpdateChecks& checks);

}  // namespace edgefl
