#include <doctest/doctest.h>

#include "edgefl/proto/proto.hpp"
#include "edgefl/schema/wire_generated.h"
#include "golden_samples.hpp"
#include "test_util.hpp"

using namespace edgefl;

TEST_CASE("proto: every message type round-trips, aligned and misaligned") {
  auto samples = golden::make_samples();
  REQUIRE(samples->messages.size() == 18);  // 1.7: with a partial-sum update and a relay's Join
  for (const auto& [name, message] : samples->messages) {
    CAPTURE(name);
    Result<std::vector<uint8_t>> bytes = encode_message(message);
    REQUIRE_MESSAGE(bytes.ok(), bytes.status().to_string());
    for (std::size_t offset : {0, 1, 2, 3, 4, 8}) {
      CAPTURE(offset);
      test::Shifted input(*bytes, offset);
      AlignedBytes scratch;
      Result<DecodedMessage> decoded = decode_message(input.span(), scratch);
      REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
      CHECK(decoded->version == kProtocolVersion);
      CHECK(decoded->type() == message_type(message));
      CHECK(golden::same_message(decoded->message, message));
    }
  }
}

TEST_CASE("proto: payloads are read in place from aligned input and from scratch otherwise") {
  auto samples = golden::make_samples();
  const Message& update = samples->messages[3].second;  // update_f32
  REQUIRE(std::holds_alternative<Update>(update));
  std::vector<uint8_t> bytes = encode_message(update).value();

  auto inside = [](const float* p, std::span<const uint8_t> range) {
    auto* b = reinterpret_cast<const uint8_t*>(p);
    return b >= range.data() && b < range.data() + range.size();
  };
  test::Shifted aligned(bytes, 0);
  AlignedBytes scratch;
  auto in_place = decode_message(aligned.span(), scratch);
  REQUIRE(in_place.ok());
  CHECK(inside(in_place->payload()->f32.data(), aligned.span()));
  CHECK(scratch.capacity() == 0);

  test::Shifted misaligned(bytes, 3);
  auto copied = decode_message(misaligned.span(), scratch);
  REQUIRE(copied.ok());
  CHECK(inside(copied->payload()->f32.data(), scratch.bytes()));
  CHECK(AlignedBytes::is_aligned(scratch.bytes().data()));

  FloatBuffer out(golden::kParameters);
  REQUIRE(copied->payload_into(out.span()).ok());
  for (std::size_t i = 0; i < golden::kParameters; ++i) CHECK(out[i] == samples->delta[i]);
}

TEST_CASE("proto: payload_into checks the destination size and the message kind") {
  auto samples = golden::make_samples();
  AlignedBytes scratch;
  std::vector<uint8_t> update = encode_message(samples->messages[5].second).value();  // update_int8
  auto decoded = decode_message(update, scratch);
  REQUIRE(decoded.ok());
  FloatBuffer wrong(golden::kParameters + 1);
  CHECK(decoded->payload_into(wrong.span()).code() == StatusCode::shape_mismatch);

  std::vector<uint8_t> ack = encode_message(Ack{.update_id = 1, .round = 1}).value();
  auto decoded_ack = decode_message(ack, scratch);
  REQUIRE(decoded_ack.ok());
  CHECK(decoded_ack->payload() == nullptr);
  CHECK(decoded_ack->payload_into(wrong.span()).code() == StatusCode::failed_precondition);
}

TEST_CASE("proto: optional fields survive: absent PALSGD/adaptive settings and reject update id") {
  auto samples = golden::make_samples();
  Task task = std::get<Task>(samples->messages[2].second);
  task.config.palsgd.reset();
  task.config.adaptive_batch.reset();
  AlignedBytes scratch;
  std::vector<uint8_t> bytes = encode_message(task).value();
  auto decoded = decode_message(bytes, scratch);
  REQUIRE(decoded.ok());
  CHECK_FALSE(std::get<Task>(decoded->message).config.palsgd.has_value());
  CHECK_FALSE(std::get<Task>(decoded->message).config.adaptive_batch.has_value());
  CHECK(golden::same_message(decoded->message, task));

  std::vector<uint8_t> reject = encode_message(Reject{.reason = StatusCode::corrupt, .message = "bad"}).value();
  auto decoded_reject = decode_message(reject, scratch);
  REQUIRE(decoded_reject.ok());
  CHECK_FALSE(std::get<Reject>(decoded_reject->message).update_id.has_value());
  CHECK(std::get<Reject>(decoded_reject->message).reason == StatusCode::corrupt);
}

TEST_CASE("proto: a newer minor version is accepted") {
  AlignedBytes scratch;
  std::vector<uint8_t> bytes = encode_message(Heartbeat{.sequence = 1}, kProtocolVersion + 3).value();
  auto decoded = decode_message(bytes, scratch);
  REQUIRE(decoded.ok());
  CHECK(decoded->version == kProtocolVersion + 3);
}

TEST_CASE("proto: a 1.5 Task carries the model as a table that decodes to the same spec, for every layer kind") {
  // Conv, conv1d, depthwise, both pools with their options, gap, dropout, relu6, nobias, the
  // shorthands and the other losses and inits.
  const char* const specs[] = {
      "mlp:4-3-2:relu",
      "linear:5-1:logistic",
      "in:9x9x2 conv3x3x4,s2,d2,valid,nobias relu6 dwconv3x3,same maxpool2,s1,same avgpool2 gap dropout0.25 dense3",
      "in:1x16x3 conv1d5x4,s2 relu flatten dense1 loss:squared init:zeros",
      "in:8x8x1 conv3x3x2 maxpool3x3,s2 flatten dense1,nobias loss:logistic",
  };
  for (const char* text : specs) {
    CAPTURE(text);
    Result<ModelSpec> parsed = ModelSpec::parse(text);
    REQUIRE_MESSAGE(parsed.ok(), parsed.status().to_string());
    const ModelSpec& spec = *parsed;
    std::vector<float> params(spec.parameter_count(), 0.25f);
    Task task = std::get<Task>(golden::make_samples()->messages[2].second);
    task.model_spec = text;
    task.params = f32_tensor(params);
    task.optimizer_state = {};
    task.standardization = {};  // the sample's is for the sample model's 4 inputs
    task.trainable_layers = {};
    for (std::size_t i = 0; i < spec.layers.size() && task.trainable_layers.empty(); ++i) {
      if (spec.layers[i].has_parameters()) task.trainable_layers = {static_cast<uint32_t>(i)};
    }
    Result<std::vector<uint8_t>> encoded = encode_message(task);
    REQUIRE_MESSAGE(encoded.ok(), encoded.status().to_string());
    const std::vector<uint8_t>& bytes = *encoded;
    // The decoder checks that table and text agree; this checks the table is there.
    const fb::Model* table = flatbuffers::GetSizePrefixedRoot<fb::Envelope>(bytes.data())->message_as_Task()->model();
    REQUIRE(table != nullptr);
    CHECK(table->layers()->size() == spec.layers.size());
    AlignedBytes scratch;
    Result<DecodedMessage> decoded = decode_message(bytes, scratch);
    REQUIRE_MESSAGE(decoded.ok(), decoded.status().to_string());
    const Task& back = std::get<Task>(decoded->message);
    CHECK(back.model_spec == text);
    CHECK(back.trainable_layers == task.trainable_layers);
  }
}
