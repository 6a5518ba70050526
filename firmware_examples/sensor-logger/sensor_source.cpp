#include "sensor_source.hpp"

#include <charconv>
#include <fstream>

namespace sensor_logger {

namespace {

using edgefl::make_status;
using edgefl::Result;
using edgefl::StatusCode;

std::optional<float> parse_float(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  float value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

class CsvSource final : public SensorSource {
 public:
  CsvSource(std::ifstream file, std::string path) : file_(std::move(file)), path_(std::move(path)) {}

  Result<std::optional<float>> next() override {
    std::string line;
    while (std::getline(file_, line)) {
      ++line_number_;
      if (line.empty() || line[0] == '#') continue;
      const std::size_t comma = line.rfind(',');
      std::optional<float> value =
          parse_float(comma == std::string::npos ? line : std::string_view(line).substr(comma + 1));
      if (value) return std::optional<float>(*value);
      if (line_number_ == 1) continue;  // a header
      return make_status(StatusCode::corrupt, path_ + ":" + std::to_string(line_number_) +
                                                  ": the last column is not a number: '" + line + "'");
    }
    if (file_.bad()) return make_status(StatusCode::io_error, "cannot read " + path_);
    return std::optional<float>();
  }
  bool live() const override { return false; }

 private:
  std::ifstream file_;
  std::string path_;
  std::size_t line_number_ = 0;
};

class ThermalSource final : public SensorSource {
 public:
  explicit ThermalSource(std::string path) : path_(std::move(path)) {}

  Result<std::optional<float>> next() override {
    std::ifstream file(path_);
    std::string text;
    if (!file || !std::getline(file, text)) {
      return make_status(StatusCode::io_error, "cannot read the thermal zone " + path_);
    }
    std::optional<float> millidegrees = parse_float(text);
    if (!millidegrees) {
      return make_status(StatusCode::corrupt, path_ + " does not hold millidegrees: '" + text + "'");
    }
    return std::optional<float>(*millidegrees / 1000.0f);
  }
  bool live() const override { return true; }

 private:
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<SensorSource>> open_sensor_source(const std::string& spec) {
  const std::size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string path = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (path.empty() || (kind != "csv" && kind != "thermal")) {
    return make_status(StatusCode::invalid_argument,
                       "sensor source '" + spec + "' is not csv:<file> or thermal:<file>");
  }
  if (kind == "csv") {
    std::ifstream file(path);
    if (!file) return make_status(StatusCode::not_found, "cannot open the readings file " + path);
    return std::unique_ptr<SensorSource>(new CsvSource(std::move(file), path));
  }
  return std::unique_ptr<SensorSource>(new ThermalSource(path));
}

}  // namespace sensor_logger
