// Per-feature moments of data (count, mean, M2 in double), their merge, and the
// standardisation built from them: how devices that never share their samples agree on one
// scaling of their features (docs/standardization.md).
//
//   edgefl::FeatureMoments total;
//   EDGEFL_RETURN_IF_ERROR(edgefl::merge_moments(total, device_a));   // Chan's formula
//   EDGEFL_RETURN_IF_ERROR(edgefl::merge_moments(total, device_b));
//   edgefl::FeatureMoments images = edgefl::pool_features(total);     // one pair for all pixels
//   edgefl::Standardization s = edgefl::standardization_of(total, /*min_deviation=*/1e-6);
//
// M2 is the sum of squared deviations from the mean. Chan et al.'s pairwise update merges two
// sets exactly (up to rounding) without revisiting them and never forms sums of squares, so
// data far from zero (a large common offset) keeps its precision. The deviation is the
// population one, sqrt(M2 / count), as numpy.std and scikit-learn's StandardScaler compute it.
// The moments of a Dataset: feature_moments (edgefl/data/dataset.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct FeatureMoments {
  uint64_t count = 0;        // samples
  std::vector<double> mean;  // one per feature
  std::vector<double> m2;    // one per feature: sum of squared deviations from the mean
  bool operator==(const FeatureMoments&) const = default;
};

// The affine map applied to every feature: (x - mean) / deviation. One entry applies to every
// feature; otherwise there is one per feature. Empty: none.
struct Standardization {
  std::vector<double> mean;
  std::vector<double> deviation;
  bool empty() const { return mean.empty() && deviation.empty(); }
  bool operator==(const Standardization&) const = default;
};

// What any real data's moments satisfy: count > 0, as many M2s as means (at least one),
// finite means, finite M2s >= 0. Errors (non_finite, out_of_range, shape_mismatch) name `what`.
Status check_moments(const FeatureMoments& moments, const char* what);

// Adds `other` to `into` (Chan's parallel formula); an empty `into` becomes `other`. Both are
// checked first (check_moments); shape_mismatch when their feature counts differ, too_large
// when the count would overflow.
Status merge_moments(FeatureMoments& into, const FeatureMoments& other);

// One pair over every feature: each feature's column is a set of `count` values, all merged.
FeatureMoments pool_features(const FeatureMoments& moments);

// Mean and population deviation per feature. A deviation below `min_deviation` (a feature
// constant across the data, or nearly) is replaced by 1: such a feature is centred, not scaled,
// so rounding noise is never magnified into a large input.
Standardization standardization_of(const FeatureMoments& moments, double min_deviation);

// Checks a standardisation for data of `dim` features (0: any): equal lengths, 1 or `dim`
// entries, finite means, finite positive deviations. Errors name the problem.
Status check_standardization(const Standardization& s, std::size_t dim);

}  // namespace edgefl
