#include "edgefl/base/standardization.hpp"

#include <cmath>
#include <string>

namespace edgefl {

Status check_moments(const FeatureMoments& moments, const char* what) {
  if (moments.count == 0)
    return make_status(StatusCode::out_of_range, std::string(what) + ": no samples");
  if (moments.mean.empty() || moments.mean.size() != moments.m2.size()) {
    return make_status(StatusCode::shape_mismatch,
                       std::string(what) + ": " + std::to_string(moments.mean.size()) +
                           " means and " + std::to_string(moments.m2.size()) +
                           " M2 values (one of each per feature)");
  }
  for (std::size_t j = 0; j < moments.mean.size(); ++j) {
    if (!std::isfinite(moments.mean[j]) || !std::isfinite(moments.m2[j])) {
      return make_status(
          StatusCode::non_finite,
          std::string(what) + ": feature " + std::to_string(j) + " has a non-finite mean or M2");
    }
    if (moments.m2[j] < 0) {
      return make_status(StatusCode::out_of_range, std::string(what) + ": feature " +
                                                       std::to_string(j) + " has a negative M2");
    }
  }
  return Status();
}

Status merge_moments(FeatureMoments& into, const FeatureMoments& other) {
  EDGEFL_RETURN_IF_ERROR(check_moments(other, "moments to merge"));
  if (into.count == 0) {
    into = other;
    return Status();
  }
  EDGEFL_RETURN_IF_ERROR(check_moments(into, "merged moments"));
  if (into.mean.size() != other.mean.size()) {
    return make_status(StatusCode::shape_mismatch, "moments of " +
                                                       std::to_string(other.mean.size()) +
                                                       " features cannot merge into moments of " +
                                                       std::to_string(into.mean.size()));
  }
  if (other.count > UINT64_MAX - into.count) {
    return make_status(StatusCode::too_large, "merged sample count overflows");
  }
  // Chan, Golub and LeVeque (1979): the mean moves by the weighted difference, and M2 gains
  // the spread between the two means; no sum of squares is ever formed.
  const double a = static_cast<double>(into.count);
  const double b = static_cast<double>(other.count);
  const double n = a + b;
  for (std::size_t j = 0; j < into.mean.size(); ++j) {
    const double delta = other.mean[j] - into.mean[j];
    into.mean[j] += delta * (b / n);
    into.m2[j] += other.m2[j] + delta * delta * (a * b / n);
  }
  into.count += other.count;
  return Status();
}

FeatureMoments pool_features(const FeatureMoments& moments) {
  FeatureMoments pooled;
  for (std::size_t j = 0; j < moments.mean.size(); ++j) {
    const FeatureMoments column{moments.count, {moments.mean[j]}, {moments.m2[j]}};
    if (!merge_moments(pooled, column).ok()) return FeatureMoments{};
  }
  return pooled;
}

Standardization standardization_of(const FeatureMoments& moments, double min_deviation) {
  Standardization s;
  s.mean = moments.mean;
  s.deviation.reserve(moments.m2.size());
  for (double m2 : moments.m2) {
    const double deviation =
        moments.count == 0 ? 0.0 : std::sqrt(m2 / static_cast<double>(moments.count));
    s.deviation.push_back(deviation < min_deviation ? 1.0 : deviation);
  }
  return s;
}

Status check_standardization(const Standardization& s, std::size_t dim) {
  if (s.mean.size() != s.deviation.size()) {
    return make_status(StatusCode::shape_mismatch,
                       "standardisation: " + std::to_string(s.mean.size()) + " means and " +
                           std::to_string(s.deviation.size()) + " deviations");
  }
  if (s.mean.empty())
    return make_status(StatusCode::shape_mismatch, "standardisation: no features");
  if (dim != 0 && s.mean.size() != 1 && s.mean.size() != dim) {
    return make_status(StatusCode::shape_mismatch,
                       "standardisation of " + std::to_string(s.mean.size()) +
                           " features for data of " + std::to_string(dim) +
                           " features (give one pair, or one per feature)");
  }
  for (std::size_t j = 0; j < s.mean.size(); ++j) {
    if (!std::isfinite(s.mean[j]) || !std::isfinite(s.deviation[j])) {
      return make_status(StatusCode::non_finite, "standardisation: feature " + std::to_string(j) +
                                                     " has a non-finite mean or deviation");
    }
    if (!(s.deviation[j] > 0)) {
      return make_status(StatusCode::out_of_range,
                         "standardisation: feature " + std::to_string(j) + " has a deviation <= 0");
    }
  }
  return Status();
}

}  // namespace edgefl
