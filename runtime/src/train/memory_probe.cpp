// available_memory_bytes: MemAvailable and cgroup (v1 and v2) headroom, minus a safety margin.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "edgefl/train/memory_plan.hpp"

namespace edgefl {

namespace {

// cgroup v1 reports "unlimited" as a huge page-rounded number near 2^63.
constexpr uint64_t kUnlimited = uint64_t{1} << 60;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// A "Name:   1234 kB" line of a /proc file, in bytes.
Result<uint64_t> kilobyte_field(const std::string& path, std::string_view field) {
  auto text = read_text(path);
  if (!text) return make_status(StatusCode::not_found, "memory probe: cannot read " + path);
  std::istringstream lines(*text);
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(lines, line)) {
    std::string_view l = line;
    if (l.rfind(prefix, 0) != 0) continue;
    l = trim(l.substr(prefix.size()));
    if (l.size() > 3 && l.substr(l.size() - 3) == " kB") l = trim(l.substr(0, l.size() - 3));
    auto kb = parse_u64(l);
    if (!kb || *kb > std::numeric_limits<uint64_t>::max() / 1024) {
      return make_status(StatusCode::corrupt, "memory probe: bad " + std::string(field) + " line in " + path + ": " + line);
    }
    return *kb * 1024;
  }
  return make_status(StatusCode::corrupt, "memory probe: no " + std::string(field) + " line in " + path);
}

Result<uint64_t> mem_available(const std::string& path) { return kilobyte_field(path, "MemAvailable"); }

// Headroom (limit − usage) of one cgroup directory; nullopt when it has no (finite) limit.
Result<std::optional<uint64_t>> headroom(const std::string& dir, const char* limit_file, const char* usage_file) {
  auto limit_text = read_text(dir + "/" + limit_file);
  if (!limit_text) return std::optional<uint64_t>();
  std::string_view limit_view = trim(*limit_text);
  if (limit_view == "max") return std::optional<uint64_t>();
  auto limit = parse_u64(limit_view);
  if (!limit) return make_status(StatusCode::corrupt, "memory probe: bad limit in " + dir + "/" + limit_file);
  if (*limit >= kUnlimited) return std::optional<uint64_t>();
  uint64_t usage = 0;
  if (auto usage_text = read_text(dir + "/" + usage_file)) {
    auto parsed = parse_u64(trim(*usage_text));
    if (!parsed) return make_status(StatusCode::corrupt, "memory probe: bad usage in " + dir + "/" + usage_file);
    usage = *parsed;
  }
  return std::optional<uint64_t>(*limit > usage ? *limit - usage : 0);
}

// The tightest headroom over `base + path` and its ancestors up to `base`.
Result<std::optional<uint64_t>> tightest(const std::string& base, std::string path, const char* limit_file,
                                         const char* usage_file) {
  std::optional<uint64_t> best;
  while (true) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    auto room = headroom(base + (path == "/" ? "" : path), limit_file, usage_file);
    if (!room) return room.status();
    if (*room && (!best || **room < *best)) best = **room;
    if (path.empty() || path == "/") return best;
    const std::size_t slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
}

// Headroom of every memory cgroup of the process (/proc/self/cgroup lines "id:controllers:path").
Result<std::optional<uint64_t>> cgroup_headroom(const MemoryProbe& probe) {
  auto text = read_text(probe.self_cgroup);
  std::optional<uint64_t> best;
  if (!text) return best;  // no cgroup information: no limit known
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    Result<std::optional<uint64_t>> room = std::optional<uint64_t>();
    if (line.compare(0, first, "0") == 0 && controllers.empty()) {
      room = tightest(probe.cgroup_root, path, "memory.max", "memory.current");
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      room = tightest(probe.cgroup_root + "/memory", path, "memory.limit_in_bytes", "memory.usage_in_bytes");
    }
    if (!room) return room.status();
    if (*room && (!best || **room < *best)) best = **room;
  }
  return best;
}

}  // namespace

Result<uint64_t> available_memory_bytes(const MemoryProbe& probe) {
  if (!(probe.safety_fraction >= 0.0 && probe.safety_fraction < 1.0)) {
    return make_status(StatusCode::invalid_argument, "memory probe: safety fraction must be in [0, 1)");
  }
  auto available = mem_available(probe.meminfo);
  if (!available) return available.status();
  auto cgroup = cgroup_headroom(probe);
  if (!cgroup) return cgroup.status();
  const uint64_t usable = *cgroup ? std::min(*available, **cgroup) : *available;
  const uint64_t margin =
      std::max(probe.safety_min_bytes, static_cast<uint64_t>(double(usable) * probe.safety_fraction));
  return usable > margin ? usable - margin : 0;
}

Result<uint64_t> resident_memory_bytes(const std::string& status_path) {
  return kilobyte_field(status_path, "VmRSS");
}

Result<uint64_t> peak_resident_memory_bytes(const std::string& status_path) {
  return kilobyte_field(status_path, "VmHWM");
}

}  // namespace edgefl
