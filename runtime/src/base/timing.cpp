#include "edgefl/base/timing.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace edgefl {

Result<double> parse_time_scale(std::string_view text) {
  double scale = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), scale);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(scale)) {
    return make_status(StatusCode::invalid_argument,
                       std::string(kTimeScaleEnv) + "='" + std::string(text) + "' is not a number");
  }
  if (scale < 1.0 || scale > kMaxTimeScale) {
    return make_status(StatusCode::out_of_range,
                       std::string(kTimeScaleEnv) + "=" + std::string(text) + " is outside [1, " +
                           std::to_string(static_cast<int>(kMaxTimeScale)) + "]");
  }
  return scale;
}

Result<double> time_scale_from_env() {
  const char* value = std::getenv(std::string(kTimeScaleEnv).c_str());
  if (value == nullptr || *value == '\0') return 1.0;
  return parse_time_scale(value);
}

}  // namespace edgefl
