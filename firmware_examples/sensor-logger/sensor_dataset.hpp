// SensorHistory: the bounded on-device record of readings, and the training set made from it.
//
//   SensorHistory history(/*capacity=*/512, /*window=*/8, {.offset = 45, .scale = 10});
//   history.add(reading);                            // the oldest reading drops out when full
//   Result<edgefl::Dataset> data = history.dataset();   // "the next reading from the last 8"
//
// Each sample is `window` consecutive readings and its target is the reading after them, all
// standardised as (value - offset) / scale so a bias-free linear model (linear:<window>-1,
// squared loss) trains with the same learning rate on every board. Memory stays bounded by
// `capacity` readings whatever the sensor produces.
#pragma once

#include <cstddef>
#include <deque>

#include "edgefl/data/dataset.hpp"
#include "edgefl/base/status.hpp"

namespace sensor_logger {

struct Standardisation {
  float offset = 45.0f;  // typical SoC temperature, degrees C
  float scale = 10.0f;
};

class SensorHistory {
 public:
  SensorHistory(std::size_t capacity, std::size_t window, Standardisation standardisation)
      : capacity_(capacity), window_(window), standardisation_(standardisation) {}

  void add(float reading);
  std::size_t size() const { return readings_.size(); }
  std::size_t sample_count() const { return size() > window_ ? size() - window_ : 0; }
  // failed_precondition while there are not more readings than the window.
  edgefl::Result<edgefl::Dataset> dataset() const;

 private:
  std::size_t capacity_;
  std::size_t window_;
  Standardisation standardisation_;
  std::deque<float> readings_;
};

}  // namespace sensor_logger
