#include <doctest/doctest.h>

#include "edgefl/checkpoint.hpp"
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
