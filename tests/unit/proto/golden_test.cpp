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
constexpr GoldenVersion kVersions[] = {{"v1_0", 0x0100}, {"v1_1", 0x0101}, {"v1_2", 0x0102},
                                       {"v1_3", 0x0103}, {"v1_4", 0x0104}, {"v1_5", 0x0105},
                                       {"v1_6", 0x0106}, {"v1_7", 0x0107}};

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

TEST_CASE(
    "golden buffers: the v1.6 samples differ from v1.5 in the fields 1.6 added, and add "
    "DataStatistics and the peer messages") {
  auto old_samples = golden::make_samples(0x0105), new_samples = golden::make_samples(0x0106);
  REQUIRE(new_samples->messages.size() == old_samples->messages.size() + 4);  // + statistics, peer_*
  std::size_t differing = 0;
  for (std::size_t i = 0; i < old_samples->messages.size(); ++i) {
    if (!golden::same_message(old_samples->messages[i].second, new_samples->messages[i].second))
      ++differing;
  }
  CHECK(differing == 4);  // join (peer_endpoint), welcome (data_statistics_wanted, the eligibility
                         // rule), task (standardization), heartbeat (the ineligible reasons)
  const std::size_t added = old_samples->messages.size();
  CHECK(std::holds_alternative<DataStatistics>(new_samples->messages[added].second));
  CHECK(std::holds_alternative<PeerAssignment>(new_samples->messages[added + 1].second));
  CHECK(std::holds_alternative<PeerModel>(new_samples->messages[added + 2].second));
  CHECK(std::holds_alternative<PeerReport>(new_samples->messages[added + 3].second));
}

TEST_CASE(
    "golden buffers: the v1.7 samples equal v1.6 and add a partial-sum update and a relay's Join") {
  auto old_samples = golden::make_samples(0x0106), new_samples = golden::make_samples(0x0107);
  REQUIRE(new_samples->messages.size() == old_samples->messages.size() + 2);
  for (std::size_t i = 0; i < old_samples->messages.size(); ++i) {
    CAPTURE(old_samples->messages[i].first);
    CHECK(golden::same_message(old_samples->messages[i].second, new_samples->messages[i].second));
  }
  const std::size_t added = old_samples->messages.size();
  const auto* partial = std::get_if<Update>(&new_samples->messages[added].second);
  REQUIRE(partial != nullptr);
  CHECK(partial->partial_sum.present());
  CHECK(partial->metrics.partial_updates == 1);
  const auto* relay = std::get_if<Join>(&new_samples->messages[added + 1].second);
  REQUIRE(relay != nullptr);
  CHECK(relay->relay);
}

TEST_CASE("golden buffers: a partial-sum update cannot be encoded for a 1.6 peer") {
  auto samples = golden::make_samples(0x0107);
  const Message& partial = samples->messages[golden::make_samples(0x0106)->messages.size()].second;
  REQUIRE(std::holds_alternative<Update>(partial));
  Result<std::vector<uint8_t>> old_bytes = encode_message(partial, 0x0106);
  REQUIRE_FALSE(old_bytes.ok());
  CHECK(old_bytes.status().code() == StatusCode::version_mismatch);
  CHECK(old_bytes.status().message().find("partial-sum") != std::string::npos);
}

TEST_CASE("golden buffers: a 1.6 task encoded for a 1.5 peer leaves its standardisation out") {
  auto samples = golden::make_samples(0x0106);
  const Message& task = samples->messages[2].second;
  REQUIRE(std::holds_alternative<Task>(task));
  AlignedBytes scratch;
  Result<std::vector<uint8_t>> old_bytes = encode_message(task, 0x0105);
  REQUIRE(old_bytes.ok());
  Result<DecodedMessage> decoded = decode_message(*old_bytes, scratch);
  REQUIRE(decoded.ok());
  CHECK(std::get<Task>(decoded->message).standardization.empty());
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
