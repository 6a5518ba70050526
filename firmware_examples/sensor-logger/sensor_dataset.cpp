#include "sensor_dataset.hpp"

#include <vector>

namespace sensor_logger {

void SensorHistory::add(float reading) {
  readings_.push_back((reading - standardisation_.offset) / standardisation_.scale);
  if (readings_.size() > capacity_) readings_.pop_front();
}

edgefl::Result<edgefl::Dataset> SensorHistory::dataset() const {
  const std::size_t samples = sample_count();
  if (samples == 0) {
    return edgefl::make_status(edgefl::StatusCode::failed_precondition,
                               "need more than " + std::to_string(window_) + " readings, have " +
                                   std::to_string(readings_.size()));
  }
  std::vector<float> features;
  std::vector<float> targets;
  features.reserve(samples * window_);
  targets.reserve(samples);
  for (std::size_t s = 0; s < samples; ++s) {
    for (std::size_t k = 0; k < window_; ++k) features.push_back(readings_[s + k]);
    targets.push_back(readings_[s + window_]);
  }
  return edgefl::Dataset::from_floats(window_, std::move(features), std::move(targets), /*classes=*/0);
}

}  // namespace sensor_logger
