// JsonValue: a strict JSON parser (RFC 8259) for small documents read from files, such as a
// safetensors header.
//
//   Result<JsonValue> doc = edgefl::parse_json(text);
//   if (const JsonValue* shape = doc->find("shape")) ...
//
// Strict: no comments, trailing commas, leading zeros, NaN, or control characters in strings;
// strings must be valid UTF-8 (\u escapes, surrogate pairs included, become UTF-8); a key may
// appear once per object; nesting deeper than 64 is refused. Objects keep their key order.
// Errors (corrupt) give the byte offset of the problem.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

class JsonValue {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  Kind kind() const { return kind_; }
  bool is(Kind kind) const { return kind_ == kind; }
  bool boolean() const { return boolean_; }
  double number() const { return number_; }
  // A number written as a non-negative integer (no sign, fraction or exponent) that fits 64 bits.
  bool is_whole() const { return whole_; }
  uint64_t whole() const { return integer_; }
  const std::string& string() const { return string_; }
  const std::vector<JsonValue>& array() const { return array_; }
  const std::vector<std::pair<std::string, JsonValue>>& object() const { return object_; }
  // The member named `key` of an object (nullptr when absent or not an object).
  const JsonValue* find(std::string_view key) const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool boolean_ = false;
  bool whole_ = false;
  double number_ = 0;
  uint64_t integer_ = 0;
  std::string string_;
  std::vector<JsonValue> array_;
  std::vector<std::pair<std::string, JsonValue>> object_;
};

// One value, optionally surrounded by JSON whitespace; anything else after it is an error.
Result<JsonValue> parse_json(std::string_view text);

}  // namespace edgefl
