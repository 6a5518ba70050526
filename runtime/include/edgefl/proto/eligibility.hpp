// When a device must not train (protocol 1.6): the rule the server sends in its Welcome and
// the reasons a device gives in its heartbeats.
//
//   EligibilityRule rule{.max_temperature_c = 75, .temperature_hysteresis_c = 5};
//   EDGEFL_RETURN_IF_ERROR(check_eligibility_rule(rule));   // names the bad field
//   uint32_t why = kIneligibleTemperature | kIneligibleBattery;
//   ineligible_reason_text(why)                             // "temperature,battery"
//
// A limit of 0 is off. Each limit has a hysteresis band in its own unit: a device that crossed
// the limit counts as eligible again only once the reading is back by the band (75 C with a
// 5 C band: ineligible at 75, eligible again below 70), so a reading hovering at the limit
// does not flip the device in and out of rounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct EligibilityRule {
  float max_temperature_c = 0;  // ineligible at or above (the hottest thermal zone)
  float temperature_hysteresis_c = 0;
  float max_load_per_core = 0;    // ineligible when the 1-minute load / cores reaches it
  float load_hysteresis = 0;      // per core
  float min_battery_percent = 0;  // ineligible on battery below it (mains: never)
  float battery_hysteresis_percent = 0;
  uint64_t min_available_memory_bytes = 0;  // ineligible when MemAvailable is below it
  uint64_t memory_hysteresis_bytes = 0;
  bool operator==(const EligibilityRule&) const = default;
  bool any() const;  // at least one limit is on
};

// Heartbeat.ineligible: one bit per reason; 0 is eligible.
inline constexpr uint32_t kIneligibleTemperature = 1;
inline constexpr uint32_t kIneligibleLoad = 2;
inline constexpr uint32_t kIneligibleBattery = 4;
inline constexpr uint32_t kIneligibleMemory = 8;
inline constexpr uint32_t kIneligibleKnownBits = 15;

// The reasons' names in bit order ("temperature", "load", "battery", "memory").
inline constexpr std::string_view kIneligibleReasonNames[] = {"temperature", "load", "battery",
                                                              "memory"};

// "" for 0, else the names of the set bits joined by ','.
std::string ineligible_reason_text(uint32_t reasons);

// out_of_range (or non_finite) naming the field when a limit or band is nonsense.
Status check_eligibility_rule(const EligibilityRule& rule, std::string_view prefix = "eligibility");

}  // namespace edgefl
