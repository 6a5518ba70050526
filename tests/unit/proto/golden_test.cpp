// Golden buffers of every released schema version must keep decoding (docs/protocol.md §9).
#include <doctest/doctest.h>

#include <filesystem>

#include "edgefl/checkpoint.hpp"
#include "edgefl/proto.hpp"
#include "golden_samples.hpp"
#include "test_util.hpp"

using namespace edgefl;

namespace {
const std::string kGoldenDir = std::string(EDGEFL_SOURCE_DIR) + "/tests/golden/v1_0/";
}

TEST_CASE("golden v1.0: every message file decodes to the sample it was made from") {
  auto samples = golden::make_samples();
  for (const auto& [name, message] : samples->messages) {
    CAPTURE(name);
    const std::vector<uint8_t> bytes = test::read_file(kGoldenDir + name + ".bin");
    REQUIRE_FALSE(bytes.empty());
    CHECK(bytes.size() < 1024);
    AlignedBytes scratch;
    Result<DecodedMessage> decoded = decode_message(bytes, scratch);
    REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
    CHECK(decoded->version == 0x0100);
    CHECK(golden::same_message(decoded->message, message));
  }
}

TEST_CASE("golden v1.0: the checkpoint file decodes to the sample checkpoint") {
  auto samples = golden::make_samples();
  const std::vector<uint8_t> bytes = test::read_file(kGoldenDir + "checkpoint.bin");
  REQUIRE_FALSE(bytes.empty());
  AlignedBytes scratch;
  Result<Checkpoint> decoded = decode_checkpoint(bytes, scratch);
  REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
  CHECK(golden::same_checkpoint(*decoded, samples->checkpoint));
}
