#include <doctest/doctest.h>

#include "edgefl/proto/proto.hpp"
#include "golden_samples.hpp"
#include "test_util.hpp"

using namespace edgefl;

TEST_CASE("proto: every message type round-trips, aligned and misaligned") {
  auto samples = golden::make_samples();
  REQUIRE(samples->messages.size() == 12);
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
