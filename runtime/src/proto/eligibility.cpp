#include "edgefl/proto/eligibility.hpp"

#include <cmath>

namespace edgefl {
namespace {

constexpr float kMaxTemperatureC = 200;
constexpr float kMaxLoadPerCore = 1024;
constexpr uint64_t kMaxBytes = uint64_t{1} << 50;

class RuleCheck {
 public:
  explicit RuleCheck(std::string_view prefix) : prefix_(prefix) {}

  // A limit: 0 (off) or in (0, hi].
  Status limit(float value, std::string_view field, float hi) const {
    if (!std::isfinite(value))
      return Status(StatusCode::non_finite, name(field) + " is NaN or Inf");
    if (!(value >= 0 && value <= hi)) {
      return Status(StatusCode::out_of_range,
                    name(field) + " must be 0 (off) or in (0, " + number(hi) + "]");
    }
    return Status();
  }
  // A band: in [0, hi) (hi_inclusive: [0, hi]); `rule` says what hi is.
  Status band(float value, std::string_view field, float hi, bool hi_inclusive,
              std::string_view rule) const {
    if (!std::isfinite(value))
      return Status(StatusCode::non_finite, name(field) + " is NaN or Inf");
    const bool below = hi_inclusive ? value <= hi : value < hi;
    if (!(value >= 0 && below))
      return Status(StatusCode::out_of_range, name(field) + " must be " + std::string(rule));
    return Status();
  }
  Status bytes(uint64_t value, std::string_view field) const {
    if (value > kMaxBytes)
      return Status(StatusCode::out_of_range, name(field) + " must be at most 2^50 bytes");
    return Status();
  }

 private:
  std::string name(std::string_view field) const {
    return std::string(prefix_) + "." + std::string(field);
  }
  static std::string number(float value) { return std::to_string(static_cast<int>(value)); }
  std::string_view prefix_;
};

}  // namespace

bool EligibilityRule::any() const {
  return max_temperature_c > 0 || max_load_per_core > 0 || min_battery_percent > 0 ||
         min_available_memory_bytes > 0;
}

std::string ineligible_reason_text(uint32_t reasons) {
  std::string text;
  for (std::size_t bit = 0; bit < std::size(kIneligibleReasonNames); ++bit) {
    if ((reasons & (1u << bit)) == 0) continue;
    if (!text.empty()) text += ',';
    text += kIneligibleReasonNames[bit];
  }
  if ((reasons & ~kIneligibleKnownBits) != 0) text += text.empty() ? "unknown" : ",unknown";
  return text;
}

Status check_eligibility_rule(const EligibilityRule& r, std::string_view prefix) {
  const RuleCheck check(prefix);
  EDGEFL_RETURN_IF_ERROR(check.limit(r.max_temperature_c, "max_temperature_c", kMaxTemperatureC));
  EDGEFL_RETURN_IF_ERROR(check.limit(r.max_load_per_core, "max_load_per_core", kMaxLoadPerCore));
  EDGEFL_RETURN_IF_ERROR(check.limit(r.min_battery_percent, "min_battery_percent", 100));
  EDGEFL_RETURN_IF_ERROR(check.bytes(r.min_available_memory_bytes, "min_available_memory_bytes"));
  // A band as wide as its limit could never be left (below 0 C above a 5 C limit, a load
  // below 0): the device would stay ineligible for good.
  if (r.max_temperature_c > 0) {
    EDGEFL_RETURN_IF_ERROR(check.band(r.temperature_hysteresis_c, "temperature_hysteresis_c",
                                      r.max_temperature_c, false, "in [0, max_temperature_c)"));
  }
  if (r.max_load_per_core > 0) {
    EDGEFL_RETURN_IF_ERROR(check.band(r.load_hysteresis, "load_hysteresis", r.max_load_per_core,
                                      false, "in [0, max_load_per_core)"));
  }
  if (r.min_battery_percent > 0) {
    EDGEFL_RETURN_IF_ERROR(check.band(r.battery_hysteresis_percent, "battery_hysteresis_percent",
                                      100 - r.min_battery_percent, true,
                                      "in [0, 100 - min_battery_percent]"));
  }
  // Bands of limits that are off are unused, but must still be numbers a later limit can use.
  EDGEFL_RETURN_IF_ERROR(check.band(r.temperature_hysteresis_c, "temperature_hysteresis_c",
                                    kMaxTemperatureC, true, "in [0, 200]"));
  EDGEFL_RETURN_IF_ERROR(
      check.band(r.load_hysteresis, "load_hysteresis", kMaxLoadPerCore, true, "in [0, 1024]"));
  EDGEFL_RETURN_IF_ERROR(check.band(r.battery_hysteresis_percent, "battery_hysteresis_percent", 100,
                                    true, "in [0, 100]"));
  return check.bytes(r.memory_hysteresis_bytes, "memory_hysteresis_bytes");
}

}  // namespace edgefl
