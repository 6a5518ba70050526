// SensorSource: where the logger's readings come from.
//
//   auto source = open_sensor_source("csv:readings.csv");                // replay a log
//   auto source = open_sensor_source("thermal:/sys/class/thermal/thermal_zone0/temp");
//   Result<std::optional<float>> reading = (*source)->next();            // nullopt: no more
//
// A CSV source yields the last column of each line (a header line is skipped) and ends at the
// end of the file. A thermal source reads the kernel's millidegree value (a Pi's SoC
// temperature) each time it is asked and never ends; the caller paces it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "edgefl/base/status.hpp"

namespace sensor_logger {

class SensorSource {
 public:
  virtual ~SensorSource() = default;
  virtual edgefl::Result<std::optional<float>> next() = 0;
  // True when readings arrive in real time (the caller waits between them).
  virtual bool live() const = 0;
};

// "csv:<path>" or "thermal:<path>"; invalid_argument naming the text otherwise.
edgefl::Result<std::unique_ptr<SensorSource>> open_sensor_source(const std::string& spec);

}  // namespace sensor_logger
