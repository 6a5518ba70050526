// Decoding writes each codec's values into the caller's flat buffer in one pass and checks
// every value on the way, so validation costs no extra pass over the payload.
#include <algorithm>
#include <bit>
#include <string>

#include "edgefl/codec.hpp"
#include "half.hpp"

namespace edgefl {
namespace {

// Chunked so a bad value stops the work early while the inner loop stays vectorisable.
constexpr std::size_t kChunk = 4096;

inline bool is_non_finite_bits(uint32_t bits) { return (bits & 0x7f800000u) == 0x7f800000u; }

Status non_finite_at(std::string_view what, std::size_t chunk_start) {
  return Status(StatusCode::non_finite, std::string(what) + " near index " +
                                            std::to_string(chunk_start) + " is NaN or Inf");
}

Status decode_f32(std::span<const float> in, std::span<float> out) {
  for (std::size_t start = 0; start < in.size(); start += kChunk) {
    const std::size_t end = std::min(in.size(), start + kChunk);
    uint32_t bad = 0;
    for (std::size_t i = start; i < end; ++i) {
      const float v = in[i];
      out[i] = v;
      bad |= is_non_finite_bits(std::bit_cast<uint32_t>(v)) ? 1u : 0u;
    }
    if (bad != 0) return non_finite_at("f32 value", start);
  }
  return Status();
}

Status decode_f16(std::span<const uint16_t> in, std::span<float> out) {
  for (std::size_t start = 0; start < in.size(); start += kChunk) {
    const std::size_t end = std::min(in.size(), start + kChunk);
    uint32_t bad = 0;
    for (std::size_t i = start; i < end; ++i) {
      bad |= codec_detail::half_is_finite(in[i]) ? 0u : 1u;
      out[i] = codec_detail::half_to_float(in[i]);
    }
    if (bad != 0) return non_finite_at("f16 value", start);
  }
  return Status();
}

Status decode_int8(const TensorView& t, std::span<float> out) {
  const std::size_t block = t.block_size;
  for (std::size_t b = 0; b < t.scales.size(); ++b) {
    const float scale = t.scales[b];
    if (is_non_finite_bits(std::bit_cast<uint32_t>(scale))) return non_finite_at("int8 scale", b);
    if (scale < 0.0f) {
      return Status(StatusCode::out_of_range, "int8 scale " + std::to_string(b) + " is negative");
    }
    const std::size_t start = b * block;
    const std::size_t end = std::min<std::size_t>(t.parameter_count, start + block);
    uint32_t bad = 0;
    for (std::size_t i = start; i < end; ++i) {
      const int8_t q = t.int8[i];
      bad |= q == -128 ? 1u : 0u;
      out[i] = static_cast<float>(q) * scale;
    }
    if (bad != 0) {
      return Status(StatusCode::out_of_range,
                    "int8 value -128 in block " + std::to_string(b) + " (range is -127..127)");
    }
  }
  return Status();
}

Status decode_topk(const TensorView& t, std::span<float> out) {
  std::fill(out.begin(), out.end(), 0.0f);
  uint64_t next_allowed = 0;  // indices must be strictly increasing
  for (std::size_t i = 0; i < t.indices.size(); ++i) {
    const uint32_t index = t.indices[i];
    if (index < next_allowed || index >= t.parameter_count) {
      return Status(StatusCode::out_of_range,
                    "top-k index " + std::to_string(index) + " at position " + std::to_string(i) +
                        " is not strictly increasing or not below " +
                        std::to_string(t.parameter_count));
    }
    const float v = t.values[i];
    if (is_non_finite_bits(std::bit_cast<uint32_t>(v))) return non_finite_at("top-k value", i);
    out[index] = v;
    next_allowed = uint64_t{index} + 1;
  }
  return Status();
}

}  // namespace

Status decode_into(const TensorView& tensor, std::span<float> out) {
  EDGEFL_RETURN_IF_ERROR(check_tensor_shape(tensor));
  if (out.size() != tensor.parameter_count) {
    return Status(StatusCode::shape_mismatch,
                  "tensor has " + std::to_string(tensor.parameter_count) +
                      " parameters, destination has " + std::to_string(out.size()));
  }
  switch (tensor.kind) {
    case CodecKind::f32: return decode_f32(tensor.f32, out);
    case CodecKind::f16: return decode_f16(tensor.f16, out);
    case CodecKind::int8_block: return decode_int8(tensor, out);
    case CodecKind::topk: return decode_topk(tensor, out);
  }
  return Status(StatusCode::internal, "unreachable codec kind");
}

}  // namespace edgefl
