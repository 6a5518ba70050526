// Update codecs: how a flat float vector (a model delta or the global parameters) is encoded
// for the wire, and decoded straight into a caller's flat buffer.
//
//   edgefl::CodecConfig config{.kind = edgefl::CodecKind::int8_block, .int8_block_size = 64};
//   auto encoder = edgefl::UpdateEncoder::create(config, params.size());   // holds the residual
//   edgefl::Result<edgefl::TensorView> encoded = encoder->encode(delta.span());
//   ... put *encoded into an Update (edgefl/proto/proto.hpp) ...
//   edgefl::Status s = edgefl::decode_into(*encoded, out.span());          // server side
//
// Codecs and their payload size (bytes per parameter, see bytes_per_parameter):
//   f32         4                      lossless
//   f16         2                      |error| <= max(|x| * 2^-11, 2^-25) for |x| <= 65504
//   int8_block  1 + 4 / block_size     |error| <= scale / 2, scale = max|x in block| / 127
//   topk        8 * k / P              keeps exactly k entries (largest |x|), others read 0
// Lossy codecs keep an error-feedback residual: each encode() quantises delta + residual and
// stores what the quantisation lost, so the error is sent in later rounds instead of dropped.
//
// TensorView is non-owning: after encode() it points into the encoder (valid until the next
// encode), after decoding a message it points into the verified message bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

// Values are stable: they appear on the wire (docs/protocol.md).
enum class CodecKind : uint8_t { f32 = 0, f16 = 1, int8_block = 2, topk = 3 };
inline constexpr uint8_t kCodecKindCount = 4;

struct CodecConfig {
  CodecKind kind = CodecKind::f32;
  uint32_t int8_block_size = 64;  // int8_block: values per scale, 1..kMaxInt8BlockSize
  uint32_t topk_k = 0;            // topk: exact k when non-zero ...
  float topk_fraction = 0.0f;     // ... otherwise ceil(fraction * parameter_count), (0, 1]

  static constexpr uint32_t kMaxInt8BlockSize = 1u << 16;
  bool operator==(const CodecConfig&) const = default;
};

// A flat vector in encoded form. Only the fields of `kind` are used; the others stay empty.
struct TensorView {
  CodecKind kind = CodecKind::f32;
  uint32_t parameter_count = 0;
  std::span<const float> f32 = {};        // f32: parameter_count values
  std::span<const uint16_t> f16 = {};     // f16: parameter_count binary16 bit patterns
  uint32_t block_size = 0;           // int8_block
  std::span<const float> scales = {};     // int8_block: ceil(parameter_count / block_size)
  std::span<const int8_t> int8 = {};      // int8_block: parameter_count values in [-127, 127]
  std::span<const uint32_t> indices = {}; // topk: strictly increasing, < parameter_count
  std::span<const float> values = {};     // topk: one per index
};

std::string_view codec_name(CodecKind kind);
// "f32", "f16", "int8" (or "int8_block"), "topk"; invalid_argument naming the text otherwise.
Result<CodecKind> parse_codec(std::string_view name);

// A lossless view of plain floats (global parameters, checkpoints).
inline TensorView f32_tensor(std::span<const float> values) {
  TensorView view;
  view.parameter_count = static_cast<uint32_t>(values.size());
  view.f32 = values;
  return view;
}

// Checks a config for a model of `parameter_count` values (block size, k, fraction).
Status validate_codec_config(const CodecConfig& config, std::size_t parameter_count);

// Number of entries top-k keeps for `parameter_count` values (valid config assumed).
std::size_t topk_count(const CodecConfig& config, std::size_t parameter_count);

// Payload bytes per parameter of the encoded form (vector contents only, without the few
// dozen bytes of message framing).
double bytes_per_parameter(const CodecConfig& config, std::size_t parameter_count);

// Checks the view's sizes against each other and its kind in O(1); values are checked by
// decode_into. Errors: shape_mismatch, out_of_range, unknown_enum.
Status check_tensor_shape(const TensorView& tensor);

// Decodes into `out` (size must equal parameter_count: else shape_mismatch; must not overlap
// the tensor's memory) and checks every
// value on the way (non_finite, out_of_range for bad indices or int8 values). On error the
// contents of `out` are unspecified: decode into scratch when the target must stay intact.
Status decode_into(const TensorView& tensor, std::span<float> out);

class UpdateEncoder {
 public:
  static Result<UpdateEncoder> create(const CodecConfig& config, std::size_t parameter_count);

  // Encodes `delta` (size parameter_count; non_finite values are refused). Lossy codecs add
  // the residual first and keep the new quantisation error. The view stays valid until the
  // next encode() or the encoder's destruction; for f32 it is a view of `delta` itself.
  Result<TensorView> encode(std::span<const float> delta);

  const CodecConfig& config() const { return config_; }
  std::size_t parameter_count() const { return parameter_count_; }
  // Error feedback state; writable so a device can restore it after a restart.
  std::span<float> residual() { return residual_.span(); }
  std::span<const float> residual() const { return residual_.span(); }
  void reset_residual() { residual_.fill(0.0f); }

 private:
  UpdateEncoder(const CodecConfig& config, std::size_t parameter_count);

  CodecConfig config_;
  std::size_t parameter_count_ = 0;
  FloatBuffer residual_;        // lossy codecs only
  FloatBuffer work_;            // delta + residual
  FloatBuffer scales_;          // int8_block
  FloatBuffer values_;          // topk
  std::unique_ptr<uint16_t[]> f16_;
  std::unique_ptr<int8_t[]> int8_;
  std::unique_ptr<uint32_t[]> indices_;
};

}  // namespace edgefl
