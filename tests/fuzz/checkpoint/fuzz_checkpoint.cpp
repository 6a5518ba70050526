// Checkpoint bytes from disk: whatever decodes (in place or from a misaligned copy) must hold
// finite tensors of the right size and survive encode -> decode unchanged.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "edgefl/proto/checkpoint.hpp"
#include "fuzz_entry.hpp"

namespace edgefl::fuzz {
namespace {

DecodeLimits small_limits() {
  DecodeLimits limits;
  limits.max_message_bytes = 1u << 20;
  limits.max_parameters = 1u << 16;
  return limits;
}

std::vector<float> dense_or_abort(const TensorView& tensor) {
  std::vector<float> out(tensor.parameter_count);
  if (!decode_into(tensor, out).ok()) return {};
  for (float v : out) {
    if (!std::isfinite(v)) std::abort();  // decode_into promised finite values
  }
  return out;
}

void decode_one(std::span<const uint8_t> bytes) {
  const DecodeLimits limits = small_limits();
  AlignedBytes scratch;
  Result<Checkpoint> loaded = decode_checkpoint(bytes, scratch, limits);
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::ok) std::abort();
    return;
  }
  const std::vector<float> params = dense_or_abort(loaded->params);
  for (const NamedTensor& state : loaded->optimizer_state) (void)dense_or_abort(state.tensor);

  Result<std::vector<uint8_t>> again = encode_checkpoint(*loaded);
  if (!again.ok()) std::abort();  // what was read must be writable
  AlignedBytes scratch2;
  Result<Checkpoint> reloaded = decode_checkpoint(*again, scratch2, limits);
  if (!reloaded.ok()) std::abort();
  if (reloaded->round != loaded->round || reloaded->model_version != loaded->model_version ||
      reloaded->model_spec != loaded->model_spec || reloaded->scalars != loaded->scalars ||
      reloaded->optimizer_state.size() != loaded->optimizer_state.size()) {
    std::abort();
  }
  const std::vector<float> params_again = dense_or_abort(reloaded->params);
  if (params != params_again) std::abort();  // bitwise: decoded values are finite
}

}  // namespace

int run_one(const uint8_t* data, std::size_t size) {
  decode_one(std::span<const uint8_t>(data, size));
  std::vector<uint8_t> shifted(size + 1);
  if (size > 0) std::memcpy(shifted.data() + 1, data, size);
  decode_one(std::span<const uint8_t>(shifted).subspan(1));
  return 0;
}

}  // namespace edgefl::fuzz
