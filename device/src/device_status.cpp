#include "device_status.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <span>

#include "edgefl/base/json_line.hpp"
#include "edgefl/base/json_value.hpp"
#include "edgefl/store/atomic_file.hpp"

namespace edgefl::device {
namespace {

constexpr std::chrono::seconds kMinInterval{1};
constexpr std::chrono::seconds kRefresh{30};
constexpr uint64_t kMaxStatusBytes = 64 * 1024;

// Everything but the stamp and the readings (which move all the time) counts as a change.
bool same_state(DeviceStatus a, DeviceStatus b) {
  a.updated_unix_ms = b.updated_unix_ms = 0;
  a.readings.clear();
  b.readings.clear();
  return a == b;
}

class Fields {
 public:
  explicit Fields(const JsonValue& doc) : doc_(doc) {}
  Status text(std::string_view key, std::string& out) const {
    const JsonValue* v = doc_.find(key);
    if (v == nullptr || v->type != JsonValue::Type::string) return missing(key, "a string");
    out = v->string;
    return Status();
  }
  Status flag(std::string_view key, bool& out) const {
    const JsonValue* v = doc_.find(key);
    if (v == nullptr || v->type != JsonValue::Type::boolean) return missing(key, "true or false");
    out = v->boolean;
    return Status();
  }
  template <typename T>
  Status count(std::string_view key, T& out) const {
    const JsonValue* v = doc_.find(key);
    if (v == nullptr || v->type != JsonValue::Type::number || !(v->number >= 0) ||
        v->number > 9e15 || std::floor(v->number) != v->number) {
      return missing(key, "a whole number >= 0");
    }
    out = static_cast<T>(v->number);
    return Status();
  }

 private:
  static Status missing(std::string_view key, std::string_view what) {
    return make_status(StatusCode::corrupt, "device status field '" + std::string(key) +
                                                "' must be " + std::string(what));
  }
  const JsonValue& doc_;
};

std::string age(uint64_t then_unix_ms, uint64_t now_unix_ms) {
  if (then_unix_ms == 0) return "never";
  const double seconds =
      now_unix_ms >= then_unix_ms ? static_cast<double>(now_unix_ms - then_unix_ms) / 1000.0 : 0.0;
  char text[48];
  std::snprintf(text, sizeof text, "%.0f s ago", seconds);
  return text;
}

}  // namespace

std::string device_status_json(const DeviceStatus& s) {
  JsonLine line;
  line.add("device_id", s.device_id)
      .add("pid", s.pid)
      .add("state", s.state)
      .add("server", s.server)
      .add("connected", s.connected)
      .add("training_task", s.training_task)
      .add("training_round", s.training_round)
      .add("outbox_updates", s.outbox_updates)
      .add("tasks_trained", s.tasks_trained)
      .add("updates_acked", s.updates_acked)
      .add("last_error", s.last_error)
      .add("last_error_unix_ms", s.last_error_unix_ms)
      .add("eligible", s.eligible)
      .add("ineligible", s.ineligible)
      .add("why", s.why)
      .add("readings", s.readings)
      .add("updated_unix_ms", s.updated_unix_ms);
  return line.str() + "\n";
}

Result<DeviceStatus> parse_device_status(std::string_view json) {
  Result<JsonValue> doc = parse_json(json);
  if (!doc) return doc.status().with_context("device status");
  if (doc->type != JsonValue::Type::object)
    return make_status(StatusCode::corrupt, "device status is not a JSON object");
  const Fields f(*doc);
  DeviceStatus s;
  EDGEFL_RETURN_IF_ERROR(f.text("device_id", s.device_id));
  EDGEFL_RETURN_IF_ERROR(f.count("pid", s.pid));
  EDGEFL_RETURN_IF_ERROR(f.text("state", s.state));
  EDGEFL_RETURN_IF_ERROR(f.text("server", s.server));
  EDGEFL_RETURN_IF_ERROR(f.flag("connected", s.connected));
  EDGEFL_RETURN_IF_ERROR(f.count("training_task", s.training_task));
  EDGEFL_RETURN_IF_ERROR(f.count("training_round", s.training_round));
  EDGEFL_RETURN_IF_ERROR(f.count("outbox_updates", s.outbox_updates));
  EDGEFL_RETURN_IF_ERROR(f.count("tasks_trained", s.tasks_trained));
  EDGEFL_RETURN_IF_ERROR(f.count("updates_acked", s.updates_acked));
  EDGEFL_RETURN_IF_ERROR(f.text("last_error", s.last_error));
  EDGEFL_RETURN_IF_ERROR(f.count("last_error_unix_ms", s.last_error_unix_ms));
  EDGEFL_RETURN_IF_ERROR(f.flag("eligible", s.eligible));
  EDGEFL_RETURN_IF_ERROR(f.text("ineligible", s.ineligible));
  EDGEFL_RETURN_IF_ERROR(f.text("why", s.why));
  EDGEFL_RETURN_IF_ERROR(f.text("readings", s.readings));
  EDGEFL_RETURN_IF_ERROR(f.count("updated_unix_ms", s.updated_unix_ms));
  return s;
}

Result<DeviceStatus> read_device_status(FileSystem& fs, const std::string& path) {
  Result<std::vector<std::byte>> bytes = read_file(fs, path, kMaxStatusBytes);
  if (!bytes) return bytes.status();
  Result<DeviceStatus> status = parse_device_status(
      std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!status) return status.status().with_context(path);
  return status;
}

std::string format_device_status(const DeviceStatus& s, uint64_t now_unix_ms) {
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out.append(key).append(": ").append(value).append("\n");
  };
  line("device", s.device_id + " (pid " + std::to_string(s.pid) + ")");
  line("state", s.state);
  line("updated", age(s.updated_unix_ms, now_unix_ms));
  line("server", s.server + (s.connected ? " (connected)" : " (not connected)"));
  line("training", s.training_task == 0 ? std::string("idle")
                                        : "round " + std::to_string(s.training_round) + " (task " +
                                              std::to_string(s.training_task) + ")");
  line("outbox", std::to_string(s.outbox_updates) + " update(s) waiting for an ack");
  line("trained", std::to_string(s.tasks_trained) + " task(s), " + std::to_string(s.updates_acked) +
                      " update(s) acked");
  line("eligibility",
       s.eligible ? std::string("eligible") : "ineligible (" + s.ineligible + "): " + s.why);
  line("readings", s.readings);
  line("last error", s.last_error.empty()
                         ? std::string("none")
                         : s.last_error + " (" + age(s.last_error_unix_ms, now_unix_ms) + ")");
  return out;
}

StatusFile::StatusFile(FileSystem& fs, std::string path) : fs_(&fs), path_(std::move(path)) {}

Status StatusFile::offer(DeviceStatus status, SteadyTime now, uint64_t now_unix_ms, bool force) {
  const bool changed = !ever_written_ || !same_state(status, written_);
  const auto since = now - written_at_;
  const bool due =
      force || (changed && since >= kMinInterval) || since >= kRefresh || !ever_written_;
  if (!due) return Status();
  status.updated_unix_ms = now_unix_ms;
  const std::string text = device_status_json(status);
  // Marked written even when it fails: the caller logs the failure, and a retry every turn
  // would fill the log.
  written_ = status;
  ever_written_ = true;
  written_at_ = now;
  return atomic_write_file(*fs_, path_, std::as_bytes(std::span(text)));
}

}  // namespace edgefl::device
