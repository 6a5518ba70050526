#include <doctest/doctest.h>

#include <algorithm>

#include "edgefl/proto/checkpoint.hpp"
#include "golden_samples.hpp"
#include "test_util.hpp"

using namespace edgefl;

TEST_CASE("checkpoint: round-trips and decodes state straight into flat buffers") {
  auto samples = golden::make_samples();
  std::vector<uint8_t> bytes = encode_checkpoint(samples->checkpoint).value();
  for (std::size_t offset : {0, 1, 4}) {
    test::Shifted input(bytes, offset);
    AlignedBytes scratch;
    Result<Checkpoint> loaded = decode_checkpoint(input.span(), scratch);
    REQUIRE_MESSAGE(loaded.ok(), loaded.status().to_string());
    CHECK(golden::same_checkpoint(*loaded, samples->checkpoint));
    FloatBuffer momentum(golden::kParameters);
    REQUIRE(decode_into(loaded->optimizer_state.at(0).tensor, momentum.span()).ok());
    CHECK(momentum[22] == samples->momentum[22]);
  }
}

TEST_CASE("checkpoint: bad state is refused when writing and when reading") {
  auto samples = golden::make_samples();
  Checkpoint cp = samples->checkpoint;
  FloatBuffer short_state(golden::kParameters - 1);
  cp.optimizer_state.push_back({"adam_m", f32_tensor(short_state.span())});
  CHECK(encode_checkpoint(cp).status().code() == StatusCode::shape_mismatch);
  cp.optimizer_state.back() = {"momentum", f32_tensor(samples->momentum.span())};
  CHECK(encode_checkpoint(cp).status().code() == StatusCode::corrupt);  // repeated name

  std::vector<uint8_t> bytes = encode_checkpoint(samples->checkpoint).value();
  AlignedBytes scratch;
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 3);
  CHECK(decode_checkpoint(cut, scratch).status().code() == StatusCode::truncated);
  CHECK(decode_checkpoint(bytes, scratch, {.max_message_bytes = 64}).status().code() == StatusCode::too_large);
  CHECK(decode_checkpoint(test::misalign_inside(bytes, 2), scratch).status().code() == StatusCode::misaligned);
  std::vector<uint8_t> message = encode_message(Heartbeat{}).value();
  CHECK(decode_checkpoint(message, scratch).status().code() == StatusCode::corrupt);
}

TEST_CASE("checkpoint: one flipped byte anywhere is refused, never read as another model") {
  auto samples = golden::make_samples();
  const std::vector<uint8_t> bytes = *encode_checkpoint(samples->checkpoint);
  std::size_t refused_by_checksum = 0;
  for (std::size_t at = 0; at < bytes.size(); ++at) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::vector<uint8_t> damaged = bytes;
      damaged[at] ^= flip;
      AlignedBytes scratch;
      Result<Checkpoint> loaded = decode_checkpoint(damaged, scratch);
      CAPTURE(at);
      CAPTURE(flip);
      REQUIRE_FALSE(loaded.ok());
      if (loaded.status().message().find("checksum") != std::string::npos) ++refused_by_checksum;
    }
  }
  // Most flips pass every structural check (parameter bytes, counters): only the checksum
  // tells them apart from a real checkpoint.
  MESSAGE(refused_by_checksum << " of " << 3 * bytes.size() << " flips refused by the checksum");
  CHECK(refused_by_checksum > bytes.size());
}

TEST_CASE("checkpoint: a checksum mismatch says what is wrong") {
  auto samples = golden::make_samples();
  std::vector<uint8_t> bytes = *encode_checkpoint(samples->checkpoint);
  // One bit of a parameter's mantissa: a perfectly well-formed checkpoint of another model.
  const float target = samples->params[5];
  const uint8_t* raw = reinterpret_cast<const uint8_t*>(&target);
  auto found = std::search(bytes.begin(), bytes.end(), raw, raw + sizeof target);
  REQUIRE(found != bytes.end());
  *found ^= 0x10;
  AlignedBytes scratch;
  Result<Checkpoint> loaded = decode_checkpoint(bytes, scratch);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == StatusCode::corrupt);
  CHECK(loaded.status().message().find("checksum") != std::string::npos);
}
