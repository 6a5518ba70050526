// MetricsSink: the metrics file, one JSON object per closed round (or model version), written
// through the FileSystem seam so crash and ENOSPC tests cover it.
//
//   Result<MetricsSink> sink = MetricsSink::open(fs, path, resume, rounds_closed);
//   EDGEFL_RETURN_IF_ERROR(sink->write(metrics_json(m)));   // appended and fsynced
//
// Lines are durable before their round's checkpoint is written, so no crash loses one. On
// resume, lines of rounds past the checkpoint (they close, and log, again) and a line torn by
// the crash are dropped first, so no crash doubles one either.
#pragma once

#include <memory>
#include <string>

#include "edgefl/store/file_system.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::server {

class MetricsSink {
 public:
  // Fresh runs truncate `path`; resumed runs keep lines of rounds <= `rounds_closed`.
  static Result<MetricsSink> open(FileSystem& fs, const std::string& path, bool resume, uint64_t rounds_closed);

  // Appends `line` and a newline, then syncs.
  Status write(const std::string& line);
  const std::string& path() const { return path_; }

 private:
  MetricsSink(std::string path, std::unique_ptr<WritableFile> file) : path_(std::move(path)), file_(std::move(file)) {}

  std::string path_;
  std::unique_ptr<WritableFile> file_;
};

}  // namespace edgefl::server
