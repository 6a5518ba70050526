// Replays the fuzz corpus and the golden buffers through the fuzzed decode path.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "fuzz_decode.hpp"

namespace {

std::size_t replay_folder(const std::filesystem::path& folder) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    CAPTURE(entry.path().string());
    CHECK(edgefl::fuzz::decode_everything(bytes.data(), bytes.size()) == 0);
    ++count;
  }
  return count;
}

}  // namespace

TEST_CASE("fuzz corpus: every corpus file and golden buffer goes through the decode path") {
  const std::filesystem::path source(EDGEFL_SOURCE_DIR);
  CHECK(replay_folder(source / "tests/fuzz/corpus") >= 13);
  CHECK(replay_folder(source / "tests/golden/v1_0") == 13);
  CHECK(replay_folder(source / "tests/golden/v1_6") == 17);  // with DataStatistics and peer_*
  CHECK(replay_folder(source / "tests/golden/v1_7") ==
        19);  // with a partial-sum update and a relay's Join
}
