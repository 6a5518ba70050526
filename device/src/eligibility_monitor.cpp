#include "eligibility_monitor.hpp"

#include <cstdio>

namespace edgefl::device {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Sets or clears `bit` in `reasons`: set when `over_limit`, cleared only when `back_in_band`.
uint32_t with_hysteresis(uint32_t reasons, uint32_t bit, bool over_limit, bool back_in_band) {
  if (over_limit) return reasons | bit;
  if ((reasons & bit) != 0 && !back_in_band) return reasons;
  return reasons & ~bit;
}

std::string format(const char* pattern, double a, double b = 0) {
  char text[96];
  std::snprintf(text, sizeof text, pattern, a, b);
  return text;
}

std::string join(const std::string& a, const std::string& b) {
  return a.empty() ? b : a + "; " + b;
}

}  // namespace

void EligibilityMonitor::set_rule(const EligibilityRule& rule) {
  if (rule == rule_) return;
  rule_ = rule;
  reasons_ = 0;
}

uint32_t EligibilityMonitor::update(const SystemReadings& readings) {
  readings_ = readings;
  const EligibilityRule& r = rule_;
  uint32_t reasons = reasons_;
  if (r.max_temperature_c > 0 && readings.temperature_c) {
    const float t = *readings.temperature_c;
    reasons = with_hysteresis(reasons, kIneligibleTemperature, t >= r.max_temperature_c,
                              t < r.max_temperature_c - r.temperature_hysteresis_c);
  } else {
    reasons &= ~kIneligibleTemperature;
  }
  if (r.max_load_per_core > 0 && readings.load_1m) {
    const double per_core = *readings.load_1m / readings.cores;
    reasons = with_hysteresis(reasons, kIneligibleLoad, per_core >= r.max_load_per_core,
                              per_core < r.max_load_per_core - r.load_hysteresis);
  } else {
    reasons &= ~kIneligibleLoad;
  }
  const PowerReading& power = readings.power;
  if (r.min_battery_percent > 0 && power.on_battery && power.battery_percent) {
    const float percent = *power.battery_percent;
    reasons = with_hysteresis(reasons, kIneligibleBattery, percent < r.min_battery_percent,
                              percent >= r.min_battery_percent + r.battery_hysteresis_percent);
  } else {
    reasons &= ~kIneligibleBattery;  // on mains, or no battery level to judge by
  }
  if (r.min_available_memory_bytes > 0 && readings.available_memory_bytes) {
    const uint64_t free = *readings.available_memory_bytes;
    reasons = with_hysteresis(reasons, kIneligibleMemory, free < r.min_available_memory_bytes,
                              free >= r.min_available_memory_bytes + r.memory_hysteresis_bytes);
  } else {
    reasons &= ~kIneligibleMemory;
  }
  reasons_ = reasons;
  return reasons_;
}

std::string EligibilityMonitor::explain() const {
  const EligibilityRule& r = rule_;
  const SystemReadings& now = readings_;
  std::string why;
  // A reason held by its band shows the reading against the level it must get back to.
  if ((reasons_ & kIneligibleTemperature) != 0) {
    why = join(why,
               format("temperature %.1f C, limit %.1f C", *now.temperature_c, r.max_temperature_c) +
                   format(", eligible again below %.1f C",
                          r.max_temperature_c - r.temperature_hysteresis_c));
  }
  if ((reasons_ & kIneligibleLoad) != 0) {
    why = join(
        why,
        format("load %.2f per core, limit %.2f", *now.load_1m / now.cores, r.max_load_per_core) +
            format(", eligible again below %.2f", r.max_load_per_core - r.load_hysteresis));
  }
  if ((reasons_ & kIneligibleBattery) != 0) {
    why = join(why, format("on battery at %.0f %%, limit %.0f %%", *now.power.battery_percent,
                           r.min_battery_percent) +
                        format(", eligible again from %.0f %%",
                               r.min_battery_percent + r.battery_hysteresis_percent));
  }
  if ((reasons_ & kIneligibleMemory) != 0) {
    why = join(why, format("available memory %.0f MiB, limit %.0f MiB",
                           static_cast<double>(*now.available_memory_bytes) / kMiB,
                           static_cast<double>(r.min_available_memory_bytes) / kMiB));
  }
  return why;
}

std::string EligibilityMonitor::describe_readings() const {
  const SystemReadings& now = readings_;
  std::string text =
      now.temperature_c ? format("temperature %.1f C", *now.temperature_c) : "temperature unknown";
  text = join(text, now.load_1m ? format("load %.2f on %.0f cores", *now.load_1m, now.cores)
                                : "load unknown");
  text = join(text, now.available_memory_bytes
                        ? format("available memory %.0f MiB",
                                 static_cast<double>(*now.available_memory_bytes) / kMiB)
                        : "available memory unknown");
  if (!now.power.battery_present) return join(text, "no battery");
  const std::string level =
      now.power.battery_percent ? format(" at %.0f %%", *now.power.battery_percent) : "";
  return join(text, (now.power.on_battery ? "on battery" : "battery on external power") + level);
}

}  // namespace edgefl::device
