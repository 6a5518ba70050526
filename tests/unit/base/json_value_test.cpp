// The strict JSON parser: what it accepts and exactly what it refuses.
#include <doctest/doctest.h>

#include <string>

#include "edgefl/base/json_value.hpp"

using edgefl::JsonValue;

TEST_CASE("json value: objects keep key order, numbers, strings and escapes decode") {
  auto doc = edgefl::parse_json(R"( {"z": [1, 18446744073709551615, 18446744073709551616, 1.5, -2, 1e2, 0],
                                     "a": {"t": true, "f": false, "n": null},
                                     "s": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\u0041"} )");
  REQUIRE(doc.ok());
  REQUIRE(doc->object().size() == 3);
  CHECK(doc->object()[0].first == "z");
  CHECK(doc->object()[1].first == "a");
  const auto& z = doc->find("z")->array();
  CHECK(z[0].is_whole());
  CHECK(z[0].whole() == 1);
  CHECK(z[1].whole() == UINT64_MAX);
  CHECK_FALSE(z[2].is_whole());  // beyond 64 bits: a number, not a whole count
  CHECK(z[2].number() == doctest::Approx(18446744073709551616.0));
  CHECK_FALSE(z[3].is_whole());
  CHECK_FALSE(z[4].is_whole());
  CHECK(z[4].number() == -2);
  CHECK_FALSE(z[5].is_whole());
  CHECK(z[6].is_whole());
  const JsonValue* a = doc->find("a");
  CHECK(a->find("t")->boolean());
  CHECK_FALSE(a->find("f")->boolean());
  CHECK(a->find("n")->is(JsonValue::Kind::null));
  CHECK(a->find("missing") == nullptr);
  CHECK(doc->find("s")->string() == "q\"\\/\b\f\n\r\t\xC3\xA9\xF0\x9F\x98\x80" "A");
}

TEST_CASE("json value: every departure from RFC 8259 is refused with its offset") {
  for (const char* bad : {"", "{", "{,}", "{\"a\":1,}", "[1,]", "{\"a\":1,\"a\":2}", "{'a':1}", "01", "-", "1.",
                          "1e", ".5", "+1", "NaN", "Infinity", "1e999", "tru", "nul", "\"a", "\"\x01\"",
                          "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
                          "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\"", "1 2",
                          "{\"a\" 1}", "[1 2]", "// c\n1", "/* c */ 1"}) {
    const std::string text = bad;
    CAPTURE(text);
    auto doc = edgefl::parse_json(text);
    REQUIRE_FALSE(doc.ok());
    CHECK(doc.status().code() == edgefl::StatusCode::corrupt);
    CHECK(doc.status().message().find("JSON at byte ") != std::string::npos);
  }
  CHECK(edgefl::parse_json(std::string(64, '[') + std::string(64, ']')).ok());
  CHECK_FALSE(edgefl::parse_json(std::string(66, '[') + std::string(66, ']')).ok());
}
