#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "edgefl/base/json_line.hpp"
#include "json_lines.hpp"

TEST_CASE("json line: keys in order, strings escaped, non-finite as null") {
  std::vector<uint32_t> batches = {32, 64};
  edgefl::JsonLine line;
  line.add("bench", "wire")
      .add("note", "a \"quoted\"\nline")
      .add("gbps", 2.5)
      .add("count", 3)
      .add("bytes", uint64_t{1} << 40)
      .add("ok", true)
      .add("loss", std::nan(""))
      .add("batches", batches);
  CHECK(line.str() ==
        "{\"bench\":\"wire\",\"note\":\"a \\\"quoted\\\"\\nline\",\"gbps\":2.5,\"count\":3,"
        "\"bytes\":1099511627776,\"ok\":true,\"loss\":null,\"batches\":[32,64]}");
  CHECK(edgefl::JsonLine().str() == "{}");
}

TEST_CASE("json lines: the tests' reader gives back what JsonLine wrote, and refuses torn lines") {
  using edgefl::testing::json_int;
  using edgefl::testing::parse_json_line;
  const std::vector<uint32_t> batches = {32, 64};
  const std::string text = edgefl::JsonLine()
                               .add("round", 3)
                               .add("note", "a \"quoted\"\nline,\x01}")
                               .add("loss", std::nan(""))
                               .add("batches", batches)
                               .add("answered", -2)
                               .str();
  const auto fields = parse_json_line(text);
  REQUIRE(fields.has_value());
  CHECK(fields->size() == 5);
  CHECK(json_int(*fields, "round") == 3);
  CHECK(json_int(*fields, "answered") == -2);
  CHECK(fields->at("note") == "a \"quoted\"\nline,\x01}");
  CHECK(fields->at("loss") == "null");
  CHECK(fields->at("batches") == "[32,64]");
  CHECK_FALSE(json_int(*fields, "loss").has_value());
  CHECK_FALSE(json_int(*fields, "missing").has_value());
  CHECK(parse_json_line("{}").has_value());
  CHECK_FALSE(parse_json_line(text.substr(0, text.size() - 1)).has_value());  // a torn write
  CHECK_FALSE(parse_json_line("{\"round\":3").has_value());
  CHECK_FALSE(parse_json_line("{\"round\":3}x").has_value());
  CHECK_FALSE(parse_json_line("").has_value());
}
