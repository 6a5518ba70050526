// SystemProbe: what the board says about itself — the hottest thermal zone, the 1-minute
// load, available memory and the power supply — read through the FileSystem seam, so tests
// fake /sys and /proc with an in-memory FaultFileSystem or a directory tree.
//
//   SystemProbe probe(posix_file_system());            // reads /sys/... and /proc/...
//   SystemProbe fake(fs, "/tmp/fake-root");           // reads /tmp/fake-root/sys/...
//   SystemReadings now = probe.read();
//   if (!now.temperature_c) ...                        // no thermal zone (most x86 boxes)
//
// Sources: /sys/class/thermal/thermal_zone*/temp (millidegrees C; the maximum over the zones
// that read), /proc/loadavg (first field), /proc/meminfo (MemAvailable, kB) and
// /sys/class/power_supply/*/{type,online,capacity,status}. A missing or unparsable source
// leaves its reading unknown; it never fails the probe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "edgefl/store/file_system.hpp"

namespace edgefl::device {

struct PowerReading {
  bool battery_present = false;
  bool on_battery = false;  // a battery discharges, or none of the other supplies is online
  std::optional<float> battery_percent;  // the lowest capacity among the batteries
};

struct SystemReadings {
  std::optional<float> temperature_c;
  std::optional<double> load_1m;
  uint32_t cores = 1;
  std::optional<uint64_t> available_memory_bytes;
  PowerReading power;
};

class SystemProbe {
 public:
  // `root` is prefixed to every path ("" or "/": the real ones).
  explicit SystemProbe(FileSystem& fs, std::string root = "", uint32_t cores = 0);
  SystemReadings read() const;

 private:
  std::optional<std::string> text(const std::string& path) const;
  std::optional<float> temperature() const;
  std::optional<double> load() const;
  std::optional<uint64_t> available_memory() const;
  PowerReading power() const;

  FileSystem* fs_;
  std::string root_;
  uint32_t cores_;
};

}  // namespace edgefl::device
