// Replays one fuzz target's seed corpus (EDGEFL_FUZZ_CORPUS) through its entry, so every
// normal build runs what the fuzzer starts from.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_entry.hpp"

TEST_CASE("fuzz corpus: every seed goes through the target without a crash") {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(EDGEFL_FUZZ_CORPUS)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    CAPTURE(entry.path().string());
    CHECK(edgefl::fuzz::run_one(bytes.data(), bytes.size()) == 0);
    ++count;
  }
  CHECK(count >= 3);
}
