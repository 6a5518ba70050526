#include "system_probe.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <span>
#include <thread>
#include <vector>

namespace edgefl::device {
namespace {

// Pseudo-files report size 0 (procfs) or 4096 (sysfs): read until the end, up to a cap.
constexpr std::size_t kMaxPseudoFileBytes = 16384;

std::string trimmed(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::optional<int64_t> parse_integer(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !(value >= 0 && value < 1e9)) return std::nullopt;
  return value;
}

std::vector<std::string> sorted_entries(FileSystem& fs, const std::string& dir,
                                        std::string_view prefix) {
  Result<std::vector<std::string>> names = fs.list_dir(dir);
  if (!names) return {};
  std::vector<std::string> out;
  for (std::string& name : *names) {
    if (name.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

SystemProbe::SystemProbe(FileSystem& fs, std::string root, uint32_t cores)
    : fs_(&fs),
      root_(root == "/" ? "" : std::move(root)),
      cores_(cores != 0 ? cores : std::max(1u, std::thread::hardware_concurrency())) {}

SystemReadings SystemProbe::read() const {
  SystemReadings readings;
  readings.temperature_c = temperature();
  readings.load_1m = load();
  readings.cores = cores_;
  readings.available_memory_bytes = available_memory();
  readings.power = power();
  return readings;
}

std::optional<std::string> SystemProbe::text(const std::string& path) const {
  Result<std::unique_ptr<SequentialFile>> file = fs_->open_sequential(root_ + path);
  if (!file) return std::nullopt;
  std::string out;
  std::byte chunk[512];
  while (out.size() < kMaxPseudoFileBytes) {
    Result<std::size_t> got = (*file)->read(chunk);
    if (!got) return std::nullopt;  // sysfs answers some reads with an error (a sensor is down)
    if (*got == 0) break;
    out.append(reinterpret_cast<const char*>(chunk), *got);
  }
  return out;
}

std::optional<float> SystemProbe::temperature() const {
  std::optional<float> hottest;
  const std::string dir = root_ + "/sys/class/thermal";
  for (const std::string& zone : sorted_entries(*fs_, dir, "thermal_zone")) {
    std::optional<std::string> raw = text("/sys/class/thermal/" + zone + "/temp");
    if (!raw) continue;
    std::optional<int64_t> millis = parse_integer(trimmed(*raw));
    // Drivers without a reading report nonsense such as -273000 or 0xffff...; keep plausible
    // values.
    if (!millis || *millis <= -60000 || *millis >= 200000) continue;
    const float celsius = static_cast<float>(*millis) / 1000.0f;
    if (!hottest || celsius > *hottest) hottest = celsius;
  }
  return hottest;
}

std::optional<double> SystemProbe::load() const {
  std::optional<std::string> raw = text("/proc/loadavg");
  if (!raw) return std::nullopt;
  const std::string line = trimmed(*raw);
  return parse_number(line.substr(0, line.find(' ')));
}

std::optional<uint64_t> SystemProbe::available_memory() const {
  std::optional<std::string> raw = text("/proc/meminfo");
  if (!raw) return std::nullopt;
  constexpr std::string_view kKey = "MemAvailable:";
  std::size_t at = raw->find(kKey);
  if (at == std::string::npos || (at != 0 && (*raw)[at - 1] != '\n')) return std::nullopt;
  std::string rest = raw->substr(at + kKey.size());
  rest = trimmed(rest.substr(0, rest.find('\n')));
  if (rest.size() < 3 || rest.compare(rest.size() - 3, 3, " kB") != 0) return std::nullopt;
  std::optional<int64_t> kib = parse_integer(trimmed(rest.substr(0, rest.size() - 3)));
  if (!kib || *kib < 0 || *kib > (int64_t{1} << 40)) return std::nullopt;
  return static_cast<uint64_t>(*kib) * 1024;
}

PowerReading SystemProbe::power() const {
  PowerReading power;
  bool external_online = false;
  bool discharging = false;
  bool status_known = false;
  const std::string base = "/sys/class/power_supply";
  for (const std::string& supply : sorted_entries(*fs_, root_ + base, "")) {
    const std::string dir = base + "/" + supply + "/";
    const std::string type = trimmed(text(dir + "type").value_or(""));
    if (type == "Battery") {
      // A peripheral's battery (a mouse: scope "Device") says nothing about the board's power.
      if (trimmed(text(dir + "scope").value_or("")) == "Device") continue;
      power.battery_present = true;
      if (std::optional<int64_t> capacity =
              parse_integer(trimmed(text(dir + "capacity").value_or("")));
          capacity && *capacity >= 0 && *capacity <= 100) {
        const float percent = static_cast<float>(*capacity);
        if (!power.battery_percent || percent < *power.battery_percent)
          power.battery_percent = percent;
      }
      const std::string status = trimmed(text(dir + "status").value_or(""));
      if (!status.empty() && status != "Unknown") status_known = true;
      if (status == "Discharging") discharging = true;
    } else if (!type.empty() && trimmed(text(dir + "online").value_or("")) == "1") {
      external_online = true;  // Mains, USB, UPS, Wireless
    }
  }
  power.on_battery = power.battery_present && (discharging || (!status_known && !external_online));
  return power;
}

}  // namespace edgefl::device
