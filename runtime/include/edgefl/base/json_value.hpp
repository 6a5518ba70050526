// JsonValue: a strict parser for small JSON documents (model files), RFC 8259 without
// extensions: no comments, no trailing commas, no duplicate keys, nesting at most 32 deep.
//
//   Result<JsonValue> doc = parse_json(R"({"input":[28,28,1]})");
//   const JsonValue* input = doc->find("input");   // nullptr when absent
//
// Errors say what was expected and at which byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct JsonValue {
  enum class Type : uint8_t { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<JsonValue> items;                             // array
  std::vector<std::pair<std::string, JsonValue>> members;   // object, in document order

  // Defined where JsonValue is complete: clang with libstdc++ refuses the implicit ones of a
  // type holding a vector of pairs of itself.
  JsonValue();
  JsonValue(const JsonValue&);
  JsonValue(JsonValue&&) noexcept;
  JsonValue& operator=(const JsonValue&);
  JsonValue& operator=(JsonValue&&) noexcept;
  ~JsonValue();

  const JsonValue* find(std::string_view key) const;
};

std::string_view json_type_name(JsonValue::Type type);  // "number", "object", ...
Result<JsonValue> parse_json(std::string_view text);

}  // namespace edgefl
