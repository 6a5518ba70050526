#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgefl/json_line.hpp"

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
