#include "metrics_sink.hpp"

#include <cstdlib>
#include <string_view>

#include "edgefl/store/atomic_file.hpp"

namespace edgefl::server {

namespace {

constexpr uint64_t kMaxMetricsBytes = uint64_t{1} << 30;

// The "round" field of a metrics line (0 when absent: such a line is kept).
uint64_t metrics_line_round(std::string_view line) {
  constexpr std::string_view kKey = "\"round\":";
  const std::size_t at = line.find(kKey);
  if (at == std::string_view::npos) return 0;
  return std::strtoull(std::string(line.substr(at + kKey.size(), 24)).c_str(), nullptr, 10);
}

Status trim(FileSystem& fs, const std::string& path, uint64_t rounds_closed) {
  Result<std::vector<std::byte>> bytes = read_file(fs, path, kMaxMetricsBytes);
  if (!bytes) return bytes.status().code() == StatusCode::not_found ? Status() : bytes.status();
  const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  std::string kept;
  for (std::size_t begin = 0; begin < text.size();) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) break;  // a line torn by the crash
    const std::string_view line = text.substr(begin, end + 1 - begin);
    if (metrics_line_round(line) <= rounds_closed) kept.append(line);
    begin = end + 1;
  }
  if (kept.size() == text.size()) return Status();
  return atomic_write_file(fs, path, std::as_bytes(std::span(kept.data(), kept.size())));
}

}  // namespace

Result<MetricsSink> MetricsSink::open(FileSystem& fs, const std::string& path, bool resume, uint64_t rounds_closed) {
  if (resume) EDGEFL_RETURN_IF_ERROR(trim(fs, path, rounds_closed).with_context("resuming the metrics file"));
  Result<std::unique_ptr<WritableFile>> file = resume ? fs.open_appendable(path) : fs.new_writable(path);
  if (resume && !file && file.status().code() == StatusCode::not_found) file = fs.new_writable(path);
  if (!file) return file.status().with_context("cannot open metrics file '" + path + "'");
  return MetricsSink(path, std::move(*file));
}

Status MetricsSink::write(const std::string& line) {
  std::string text = line + "\n";
  EDGEFL_RETURN_IF_ERROR(file_->append(std::as_bytes(std::span(text.data(), text.size()))));
  return file_->sync();
}

}  // namespace edgefl::server
