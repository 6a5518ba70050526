#include "fuzz_decode.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/proto/proto.hpp"

namespace edgefl::fuzz {
namespace {

DecodeLimits fuzz_limits() {
  DecodeLimits limits;
  limits.max_message_bytes = 1u << 20;
  limits.max_parameters = 1u << 16;  // keeps payload buffers small; the checks are the same
  return limits;
}

void check_payload(const TensorView& tensor) {
  FloatBuffer out(tensor.parameter_count);
  if (decode_into(tensor, out.span()).ok()) {
    for (float v : out.span()) {
      if (!std::isfinite(v)) std::abort();  // decode_into promised finite values
    }
  }
}

void decode_message_once(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch, limits);
  if (!decoded.ok()) {
    if (decoded.status().code() == StatusCode::ok) std::abort();
    return;
  }
  if (const TensorView* payload = decoded->payload()) check_payload(*payload);
  // What decodes must encode again (the sender-side checks are the same).
  if (!encode_message(decoded->message, decoded->version).ok()) std::abort();
}

}  // namespace

int decode_everything(const uint8_t* data, std::size_t size) {
  const DecodeLimits limits = fuzz_limits();
  std::span<const uint8_t> bytes(data, size);
  decode_message_once(bytes, limits);

  std::vector<uint8_t> shifted(size + 1);
  if (size > 0) std::memcpy(shifted.data() + 1, data, size);
  decode_message_once(std::span<const uint8_t>(shifted).subspan(1), limits);

  AlignedBytes scratch;
  Result<Checkpoint> checkpoint = decode_checkpoint(bytes, scratch, limits);
  if (checkpoint.ok()) {
    check_payload(checkpoint->params);
    for (const NamedTensor& state : checkpoint->optimizer_state) check_payload(state.tensor);
  }
  return 0;
}

}  // namespace edgefl::fuzz
