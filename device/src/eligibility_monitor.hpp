// EligibilityMonitor: whether this device may train now, from the server's EligibilityRule
// (Welcome, protocol 1.6) and the board's readings (system_probe.hpp), with each limit's
// hysteresis band.
//
//   EligibilityMonitor monitor;
//   monitor.set_rule(welcome.eligibility);
//   uint32_t reasons = monitor.update(probe.read());   // kIneligible* bits; 0: may train
//   monitor.explain()                                  // "temperature 80.0 C >= 75.0 C"
//
// A reading that is unknown (no thermal zone, no battery) never makes the device ineligible.
// A reason, once set, clears only when its reading is back past the limit by the band.
#pragma once

#include <cstdint>
#include <string>

#include "edgefl/proto/eligibility.hpp"
#include "system_probe.hpp"

namespace edgefl::device {

class EligibilityMonitor {
 public:
  // A new rule starts from eligible: the next update applies its limits afresh.
  void set_rule(const EligibilityRule& rule);
  uint32_t update(const SystemReadings& readings);

  const EligibilityRule& rule() const { return rule_; }
  uint32_t reasons() const { return reasons_; }
  const SystemReadings& readings() const { return readings_; }
  // Why the device may not train, one clause per reason ("" when eligible).
  std::string explain() const;
  // Every reading with its limit, for the status file ("temperature unknown; load 0.40 ...").
  std::string describe_readings() const;

 private:
  EligibilityRule rule_;
  SystemReadings readings_;
  uint32_t reasons_ = 0;
};

}  // namespace edgefl::device
