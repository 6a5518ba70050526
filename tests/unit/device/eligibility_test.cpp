// Eligibility on the device: the probe reading real-format /sys and /proc files (faked in an
// in-memory file system), missing sources, and the monitor's limits with their hysteresis.
#include <doctest/doctest.h>

#include <limits>
#include <span>
#include <string>

#include "edgefl/store/atomic_file.hpp"
#include "edgefl/store/fault_file_system.hpp"
#include "eligibility_monitor.hpp"
#include "system_probe.hpp"

namespace edgefl::device {
namespace {

void put(FaultFileSystem& fs, const std::string& path, const std::string& text) {
  REQUIRE(fs.create_dir(parent_dir(path)).ok());
  REQUIRE(atomic_write_file(fs, path, std::as_bytes(std::span(text))).ok());
}

// A Raspberry Pi's files, as the kernel writes them (values end in a newline).
void fake_board(FaultFileSystem& fs) {
  put(fs, "/sys/class/thermal/thermal_zone0/temp", "52612\n");
  put(fs, "/sys/class/thermal/thermal_zone0/type", "cpu-thermal\n");
  put(fs, "/proc/loadavg", "0.52 0.58 0.59 1/123 4567\n");
  put(fs, "/proc/meminfo",
      "MemTotal:        3884328 kB\nMemFree:         2501872 kB\nMemAvailable:    3232768 kB\n"
      "Buffers:           61036 kB\n");
}

SystemReadings temperature(float celsius) {
  SystemReadings r;
  r.temperature_c = celsius;
  return r;
}

TEST_CASE("probe: real-format thermal, load and memory files are read") {
  FaultFileSystem fs;
  fake_board(fs);
  const SystemReadings r = SystemProbe(fs, "", 4).read();
  REQUIRE(r.temperature_c);
  CHECK(*r.temperature_c == doctest::Approx(52.612));
  REQUIRE(r.load_1m);
  CHECK(*r.load_1m == doctest::Approx(0.52));
  CHECK(r.cores == 4);
  REQUIRE(r.available_memory_bytes);
  CHECK(*r.available_memory_bytes == uint64_t{3232768} * 1024);
  CHECK_FALSE(r.power.battery_present);
  CHECK_FALSE(r.power.on_battery);
}

TEST_CASE("probe: the hottest zone counts, and zones without a plausible reading are skipped") {
  FaultFileSystem fs;
  put(fs, "/sys/class/thermal/thermal_zone0/temp", "45000\n");
  put(fs, "/sys/class/thermal/thermal_zone1/temp", "80000\n");
  put(fs, "/sys/class/thermal/thermal_zone2/temp", "-273000\n");  // a sensor without a reading
  put(fs, "/sys/class/thermal/thermal_zone3/temp", "hot\n");
  REQUIRE(fs.create_dir("/sys/class/thermal/cooling_device0").ok());
  const SystemReadings r = SystemProbe(fs, "", 1).read();
  REQUIRE(r.temperature_c);
  CHECK(*r.temperature_c == doctest::Approx(80.0));
}

TEST_CASE(
    "probe: a machine without thermal zones, load, meminfo or batteries reads unknown, and is "
    "eligible") {
  FaultFileSystem fs;  // nothing at all: an x86 container
  REQUIRE(fs.create_dir("/sys/class/thermal").ok());
  const SystemReadings r = SystemProbe(fs, "", 2).read();
  CHECK_FALSE(r.temperature_c);
  CHECK_FALSE(r.load_1m);
  CHECK_FALSE(r.available_memory_bytes);
  CHECK_FALSE(r.power.battery_present);
  EligibilityMonitor monitor;
  monitor.set_rule(EligibilityRule{.max_temperature_c = 75,
                                   .temperature_hysteresis_c = 5,
                                   .max_load_per_core = 1,
                                   .load_hysteresis = 0,
                                   .min_battery_percent = 20,
                                   .battery_hysteresis_percent = 0,
                                   .min_available_memory_bytes = 1 << 20,
                                   .memory_hysteresis_bytes = 0});
  CHECK(monitor.update(r) == 0);
  CHECK(monitor.explain().empty());
  CHECK(monitor.describe_readings() ==
        "temperature unknown; load unknown; available memory unknown; no battery");
}

TEST_CASE("probe: a laptop on battery, on mains, and a mouse's battery that does not count") {
  FaultFileSystem fs;
  put(fs, "/sys/class/power_supply/AC/type", "Mains\n");
  put(fs, "/sys/class/power_supply/AC/online", "0\n");
  put(fs, "/sys/class/power_supply/BAT0/type", "Battery\n");
  put(fs, "/sys/class/power_supply/BAT0/capacity", "15\n");
  put(fs, "/sys/class/power_supply/BAT0/status", "Discharging\n");
  put(fs, "/sys/class/power_supply/hid-mouse-battery/type", "Battery\n");
  put(fs, "/sys/class/power_supply/hid-mouse-battery/scope", "Device\n");
  put(fs, "/sys/class/power_supply/hid-mouse-battery/capacity", "5\n");
  SystemReadings r = SystemProbe(fs, "", 1).read();
  CHECK(r.power.battery_present);
  CHECK(r.power.on_battery);
  REQUIRE(r.power.battery_percent);
  CHECK(*r.power.battery_percent == 15.0f);

  put(fs, "/sys/class/power_supply/AC/online", "1\n");
  put(fs, "/sys/class/power_supply/BAT0/status", "Charging\n");
  r = SystemProbe(fs, "", 1).read();
  CHECK(r.power.battery_present);
  CHECK_FALSE(r.power.on_battery);

  // No status file: on battery exactly when no other supply is online.
  REQUIRE(fs.remove("/sys/class/power_supply/BAT0/status").ok());
  CHECK_FALSE(SystemProbe(fs, "", 1).read().power.on_battery);
  put(fs, "/sys/class/power_supply/AC/online", "0\n");
  CHECK(SystemProbe(fs, "", 1).read().power.on_battery);
}

TEST_CASE("probe: a root prefix reads a fake tree") {
  FaultFileSystem fs;
  put(fs, "/fake/sys/class/thermal/thermal_zone0/temp", "81000\n");
  put(fs, "/fake/proc/loadavg", "3.00 2.00 1.00 2/200 999\n");
  const SystemReadings r = SystemProbe(fs, "/fake", 2).read();
  REQUIRE(r.temperature_c);
  CHECK(*r.temperature_c == doctest::Approx(81.0));
  REQUIRE(r.load_1m);
  CHECK(*r.load_1m == doctest::Approx(3.0));
}

TEST_CASE("monitor: a device reading 80 C is ineligible under a 75 C limit and says why") {
  FaultFileSystem fs;
  fake_board(fs);
  put(fs, "/sys/class/thermal/thermal_zone0/temp", "80000\n");
  EligibilityMonitor monitor;
  monitor.set_rule(EligibilityRule{.max_temperature_c = 75, .temperature_hysteresis_c = 5});
  CHECK(monitor.update(SystemProbe(fs, "", 4).read()) == kIneligibleTemperature);
  CHECK(monitor.explain() == "temperature 80.0 C, limit 75.0 C, eligible again below 70.0 C");
  CHECK(ineligible_reason_text(monitor.reasons()) == "temperature");
}

TEST_CASE(
    "monitor: temperature hysteresis — no flapping at 74.9/75.1, eligible again below the band") {
  EligibilityMonitor monitor;
  monitor.set_rule(EligibilityRule{.max_temperature_c = 75, .temperature_hysteresis_c = 5});
  CHECK(monitor.update(temperature(74.9f)) == 0);
  CHECK(monitor.update(temperature(75.0f)) == kIneligibleTemperature);  // at the limit
  CHECK(monitor.update(temperature(74.9f)) == kIneligibleTemperature);  // hovering: stays out
  CHECK(monitor.update(temperature(75.1f)) == kIneligibleTemperature);
  CHECK(monitor.update(temperature(70.0f)) == kIneligibleTemperature);  // must be below 70
  CHECK(monitor.update(temperature(69.9f)) == 0);
  CHECK(monitor.update(temperature(74.9f)) == 0);  // back in the band from below: still fine
  CHECK(monitor.update(temperature(75.1f)) == kIneligibleTemperature);
  // The sensor vanishing does not keep a device out on an old reading.
  CHECK(monitor.update(SystemReadings{}) == 0);
}

TEST_CASE("monitor: without a band the limit alone decides") {
  EligibilityMonitor monitor;
  monitor.set_rule(EligibilityRule{.max_temperature_c = 75});
  CHECK(monitor.update(temperature(75.1f)) == kIneligibleTemperature);
  CHECK(monitor.update(temperature(74.9f)) == 0);
}

TEST_CASE("monitor: load per core, battery and memory limits with their bands") {
  EligibilityMonitor monitor;
  monitor.set_rule(EligibilityRule{.max_load_per_core = 1,
                                   .load_hysteresis = 0.25f,
                                   .min_battery_percent = 20,
                                   .battery_hysteresis_percent = 5,
                                   .min_available_memory_bytes = 100 << 20,
                                   .memory_hysteresis_bytes = 20 << 20});
  SystemReadings r;
  r.cores = 4;
  r.load_1m = 3.9;  // 0.975 per core
  r.available_memory_bytes = 200u << 20;
  r.power = PowerReading{.battery_present = true, .on_battery = true, .battery_percent = 21};
  CHECK(monitor.update(r) == 0);

  r.load_1m = 4.0;  // load >= cores
  r.power.battery_percent = 19;
  r.available_memory_bytes = 99u << 20;
  CHECK(monitor.update(r) == (kIneligibleLoad | kIneligibleBattery | kIneligibleMemory));
  CHECK(ineligible_reason_text(monitor.reasons()) == "load,battery,memory");
  CHECK(monitor.explain().find("on battery at 19 %, limit 20 %, eligible again from 25 %") !=
        std::string::npos);

  r.load_1m = 3.1;               // 0.775 per core: inside the band
  r.power.battery_percent = 24;  // inside the band
  r.available_memory_bytes = 119u << 20;
  CHECK(monitor.update(r) == (kIneligibleLoad | kIneligibleBattery | kIneligibleMemory));

  r.load_1m = 2.9;
  r.power.battery_percent = 25;
  r.available_memory_bytes = 120u << 20;
  CHECK(monitor.update(r) == 0);

  // Plugged in: the battery level no longer matters.
  r.power = PowerReading{.battery_present = true, .on_battery = false, .battery_percent = 3};
  CHECK(monitor.update(r) == 0);
}

TEST_CASE("monitor: a new rule starts over") {
  EligibilityMonitor monitor;
  monitor.set_rule(EligibilityRule{.max_temperature_c = 75, .temperature_hysteresis_c = 5});
  CHECK(monitor.update(temperature(76)) == kIneligibleTemperature);
  monitor.set_rule(EligibilityRule{.max_temperature_c = 85, .temperature_hysteresis_c = 5});
  CHECK(monitor.reasons() == 0);
  CHECK(monitor.update(temperature(76)) == 0);
}

TEST_CASE("rule: nonsense limits and bands are refused, naming the field") {
  CHECK(check_eligibility_rule(EligibilityRule{}).ok());
  CHECK(check_eligibility_rule(
            EligibilityRule{.max_temperature_c = 75, .temperature_hysteresis_c = 5})
            .ok());
  const auto refused = [](const EligibilityRule& rule, const std::string& field) {
    const Status status = check_eligibility_rule(rule);
    CHECK_FALSE(status.ok());
    CHECK(status.message().find("eligibility." + field) != std::string::npos);
  };
  refused({.max_temperature_c = -1}, "max_temperature_c");
  refused({.max_temperature_c = 500}, "max_temperature_c");
  refused({.max_temperature_c = 5, .temperature_hysteresis_c = 5}, "temperature_hysteresis_c");
  refused({.max_load_per_core = 1, .load_hysteresis = -0.5f}, "load_hysteresis");
  refused({.min_battery_percent = 120}, "min_battery_percent");
  refused({.min_battery_percent = 90, .battery_hysteresis_percent = 20},
          "battery_hysteresis_percent");
  refused({.min_available_memory_bytes = uint64_t{1} << 60}, "min_available_memory_bytes");
  EligibilityRule nan;
  nan.max_load_per_core = std::numeric_limits<float>::quiet_NaN();
  CHECK(check_eligibility_rule(nan).code() == StatusCode::non_finite);
}

}  // namespace
}  // namespace edgefl::device
