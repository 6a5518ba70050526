// Decoding writes each codec's values into the caller's flat buffer in one pass and checks
// every value on the way, so validation costs no extra pass over the payload.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "edgefl/codec/codec.hpp"
#include "edgefl/base/half.hpp"

namespace edgefl {
namespace {

// Work goes in fixed-size chunks: a constant trip count lets GCC vectorise these loops at -O2
// (its default cost model does not vectorise loops of unknown length), the chunk stays in L1
// between the copy and the check, and a bad value stops the work early.
constexpr std::size_t kChunk = 4096;

inline bool is_non_finite_bits(uint32_t bits) { return (bits & 0x7f800000u) == 0x7f800000u; }

Status non_finite_at(std::string_view what, std::size_t chunk_start) {
  return Status(StatusCode::non_finite, std::string(what) + " near index " +
                                            std::to_string(chunk_start) + " is NaN or Inf");
}

// Copies n floats and returns a value whose bit 31 is set iff one of them is NaN or Inf (an
// all-ones exponent plus one exponent step carries into bit 31). One pass; OR-reduction and
// __restrict keep it a plain vector loop. On x86-64 an AVX2 clone is picked at load time
// (the baseline build targets SSE2 only); ARM builds get NEON from the baseline.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGEFL_VECTOR_CLONES [[gnu::target_clones("avx2", "default")]]
#else
#define EDGEFL_VECTOR_CLONES
#endif

EDGEFL_VECTOR_CLONES
uint32_t copy_finite_flag_chunk(const float* __restrict in, float* __restrict out) {
  uint32_t flag = 0;
  for (std::size_t i = 0; i < kChunk; ++i) {
    out[i] = in[i];
    flag |= (std::bit_cast<uint32_t>(in[i]) & 0x7f800000u) + 0x00800000u;
  }
  return flag & 0x80000000u;
}

uint32_t copy_finite_flag(const float* __restrict in, float* __restrict out, std::size_t n) {
  uint32_t flag = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = in[i];
    flag |= (std::bit_cast<uint32_t>(in[i]) & 0x7f800000u) + 0x00800000u;
  }
  return flag & 0x80000000u;
}

Status decode_f32(std::span<const float> in, std::span<float> out) {
  for (std::size_t start = 0; start < in.size(); start += kChunk) {
    const std::size_t n = std::min(kChunk, in.size() - start);
    const float* src = in.data() + start;
    float* dst = out.data() + start;
    const uint32_t flag = n == kChunk ? copy_finite_flag_chunk(src, dst) : copy_finite_flag(src, dst, n);
    if (flag != 0) return non_finite_at("f32 value", start);
  }
  return Status();
}

template <std::size_t N>
uint32_t halves_to_floats(const uint16_t* in, float* out) {
  uint32_t bad = 0;
  for (std::size_t i = 0; i < N; ++i) {
    bad |= half_is_finite(in[i]) ? 0u : 1u;
    out[i] = half_to_float(in[i]);
  }
  return bad;
}

uint32_t halves_to_floats(const uint16_t* in, float* out, std::size_t n) {
  uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bad |= half_is_finite(in[i]) ? 0u : 1u;
    out[i] = half_to_float(in[i]);
  }
  return bad;
}

Status decode_f16(std::span<const uint16_t> in, std::span<float> out) {
  for (std::size_t start = 0; start < in.size(); start += kChunk) {
    const std::size_t n = std::min(kChunk, in.size() - start);
    const uint32_t bad = n == kChunk ? halves_to_floats<kChunk>(in.data() + start, out.data() + start)
                                     : halves_to_floats(in.data() + start, out.data() + start, n);
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
    if (is_non_finite_bits(std::bit_cast<uint32_t>(scale * 127.0f))) {
      return Status(StatusCode::out_of_range,
                    "int8 scale " + std::to_string(b) + " is too large: 127 x scale overflows");
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
