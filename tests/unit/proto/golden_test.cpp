// Golden buffers of every released schema version must keep decoding (docs/protocol.md §9).
#include <doctest/doctest.h>

#include <filesystem>

#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/schema/wire_generated.h"
#include "golden_samples.hpp"
#include "test_util.hpp"

using namespace edgefl;

namespace {

// Every released version's folder and the version its buffers carry.
struct GoldenVersion {
  const char* folder;
  uint16_t version;
};
constexpr GoldenVersion kVersions[] = {{"v1_0", 0x0100}, {"v1_1", 0x0101}, {"v1_2", 0x0102}, {"v1_3", 0x0103}, {"v1_4", 0x0104},
                                     {"v1_5", 0x0105}, {"v1_6", 0x0106}};

std::string golden_dir(const GoldenVersion& v) {
  return std::string(EDGEFL_SOURCE_DIR) + "/tests/golden/" + v.folder + "/";
}

}  // namespace

TEST_CASE("golden buffers: every message file of every version decodes to the sample it was made from") {
  for (const GoldenVersion& v : kVersions) {
    auto samples = golden::make_samples(v.version);
    for (const auto& [name, message] : samples->messages) {
      CAPTURE(v.folder);
      CAPTURE(name);
      const std::vector<uint8_t> bytes = test::read_file(golden_dir(v) + name + ".bin");
      REQUIRE_FALSE(bytes.empty());
      CHECK(bytes.size() < 1024);
      AlignedBytes scratch;
      Result<DecodedMessage> decoded = decode_message(bytes, scratch);
      REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
      CHECK(decoded->version == v.version);
      CHECK(golden::same_message(decoded->message, message));
    }
  }
}

TEST_CASE("golden buffers: the checkpoint file of every version decodes to the sample checkpoint") {
  for (const GoldenVersion& v : kVersions) {
    CAPTURE(v.folder);
    auto samples = golden::make_samples(v.version);
    const std::vector<uint8_t> bytes = test::read_file(golden_dir(v) + "checkpoint.bin");
    REQUIRE_FALSE(bytes.empty());
    AlignedBytes scratch;
    Result<Checkpoint> decoded = decode_checkpoint(bytes, scratch);
    REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
    CHECK(golden::same_checkpoint(*decoded, samples->checkpoint));
  }
}

TEST_CASE("golden buffers: the v1.1 samples differ from v1.0 in the fields 1.1 added") {
  auto old_samples = golden::make_samples(0x0100), new_samples = golden::make_samples(0x0101);
  CHECK_FALSE(golden::same_checkpoint(old_samples->checkpoint, new_samples->checkpoint));
  std::size_t differing = 0;
  for (std::size_t i = 0; i < old_samples->messages.size(); ++i) {
    if (!golden::same_message(old_samples->messages[i].second, new_samples->messages[i].second)) ++differing;
  }
  CHECK(differing == 2);  // task (adaptive batch test, nu) and heartbeat (working_on)
}

TEST_CASE("golden buffers: the v1.2 samples differ from v1.1 in the fields 1.2 added") {
  auto old_samples = golden::make_samples(0x0101), new_samples = golden::make_samples(0x0102);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < old_samples->messages.size(); ++i) {
    if (!golden::same_message(old_samples->messages[i].second, new_samples->messages[i].second)) ++differing;
  }
  CHECK(differing == 6);  // join (backend, sizes), task and the four updates (run id, base hash)
}

TEST_CASE("golden buffers: the v1.4 samples differ from v1.3 in the fields 1.4 added") {
  auto old_samples = golden::make_samples(0x0103), new_samples = golden::make_samples(0x0104);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < old_samples->messages.size(); ++i) {
    if (!golden::same_message(old_samples->messages[i].second, new_samples->messages[i].second)) ++differing;
  }
  CHECK(differing == 1);  // task (adaptive batch lr_scaling, max_lr, interval_clock)
}

TEST_CASE("golden buffers: the v1.5 samples differ from v1.4 in the fields 1.5 added") {
  auto old_samples = golden::make_samples(0x0104), new_samples = golden::make_samples(0x0105);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < old_samples->messages.size(); ++i) {
    if (!golden::same_message(old_samples->messages[i].second, new_samples->messages[i].second)) ++differing;
  }
  CHECK(differing == 1);  // task (trainable layers, the head's optimizer state)
}

TEST_CASE("golden buffers: the v1.6 samples differ from v1.5 in the join's peer endpoint and add the peer messages") {
  auto old_samples = golden::make_samples(0x0105), new_samples = golden::make_samples(0x0106);
  std::size_t differing = 0;
  for (std::size_t i = 0; i < old_samples->messages.size(); ++i) {
    if (!golden::same_message(old_samples->messages[i].second, new_samples->messages[i].second)) ++differing;
  }
  CHECK(differing == 1);  // join (peer_endpoint)
  CHECK(new_samples->messages.size() == old_samples->messages.size() + 3);  // assignment, model, report
}

TEST_CASE("golden buffers: a v1.5 task carries the model as a table, a v1.4 task does not") {
  const auto has_model_table = [](const char* folder) {
    const std::vector<uint8_t> bytes =
        test::read_file(std::string(EDGEFL_SOURCE_DIR) + "/tests/golden/" + folder + "/task.bin");
    const auto* envelope = flatbuffers::GetSizePrefixedRoot<fb::Envelope>(bytes.data());
    return envelope->message_as_Task()->model() != nullptr;
  };
  CHECK(has_model_table("v1_5"));
  CHECK_FALSE(has_model_table("v1_4"));
}
