// JsonLine: builds one flat JSON object on one line — the format of metrics and benchmarks.
//
//   JsonLine line;
//   line.add("bench", "wire").add("codec", "f16").add("gbps", 3.2);
//   std::puts(line.str().c_str());   // {"bench":"wire","codec":"f16","gbps":3.2}
//
// Keys keep insertion order. Non-finite numbers become null (JSON has no NaN).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace edgefl {

class JsonLine {
 public:
  JsonLine& add(std::string_view key, std::string_view value);
  JsonLine& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonLine& add(std::string_view key, double value);
  JsonLine& add(std::string_view key, int64_t value);
  JsonLine& add(std::string_view key, uint64_t value);
  JsonLine& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  JsonLine& add(std::string_view key, unsigned value) { return add(key, static_cast<uint64_t>(value)); }
  JsonLine& add(std::string_view key, bool value);
  JsonLine& add(std::string_view key, std::span<const uint32_t> values);
  // `json` must already be a JSON value (an object or array built elsewhere).
  JsonLine& add_json(std::string_view key, std::string_view json);

  // The object, without a trailing newline.
  std::string str() const { return body_ + "}"; }

 private:
  void key(std::string_view name);
  std::string body_ = "{";
};

// Appends `text` to `out` as a quoted JSON string.
void json_append_string(std::string& out, std::string_view text);

}  // namespace edgefl
