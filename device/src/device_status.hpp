// DeviceStatus: what a running edgefl-device is doing, kept in <state_dir>/status.json so
// `edgefl-device status --state-dir DIR` (and an operator's scripts) can read it from outside.
//
//   StatusFile file(fs, state_dir + "/status.json");
//   file.offer(status, clock.now(), unix_ms());   // writes on change, at most once a second
//   Result<DeviceStatus> seen = read_device_status(fs, state_dir + "/status.json");
//   std::fputs(format_device_status(*seen, unix_ms()).c_str(), stdout);
//
// The file is one JSON object, replaced atomically (atomic_write_file): a reader never sees
// half of it. It is rewritten when anything but the readings changed (at most once a second)
// and every 30 s regardless, so its `updated_unix_ms` shows the agent is alive.
#pragma once

#include <cstdint>
#include <string>

#include "edgefl/base/time_source.hpp"
#include "edgefl/store/file_system.hpp"

namespace edgefl::device {

struct DeviceStatus {
  std::string device_id;
  int64_t pid = 0;
  std::string state = "running";  // running | finished | stopped | failed
  std::string server;             // the endpoint
  bool connected = false;         // the server welcomed this link
  uint64_t training_task = 0;     // 0: idle
  uint64_t training_round = 0;
  uint64_t outbox_updates = 0;  // encoded updates waiting for their Ack
  uint64_t tasks_trained = 0;
  uint64_t updates_acked = 0;
  std::string last_error;  // the last warning the agent logged ("" none)
  uint64_t last_error_unix_ms = 0;
  bool eligible = true;
  std::string ineligible;  // reason names, "temperature,battery"
  std::string why;         // the readings against their limits
  std::string readings;    // every reading, for the operator
  uint64_t updated_unix_ms = 0;
  bool operator==(const DeviceStatus&) const = default;
};

std::string device_status_json(const DeviceStatus& status);
Result<DeviceStatus> parse_device_status(std::string_view json);
Result<DeviceStatus> read_device_status(FileSystem& fs, const std::string& path);
// Lines "key: value" for a terminal; ages are computed against `now_unix_ms`.
std::string format_device_status(const DeviceStatus& status, uint64_t now_unix_ms);

class StatusFile {
 public:
  StatusFile(FileSystem& fs, std::string path);
  // Writes `status` (stamped with `now_unix_ms`) when it is due; `force` writes at once (the end).
  Status offer(DeviceStatus status, SteadyTime now, uint64_t now_unix_ms, bool force = false);

 private:
  FileSystem* fs_;
  std::string path_;
  DeviceStatus written_;
  bool ever_written_ = false;
  SteadyTime written_at_{};
};

}  // namespace edgefl::device
