// UpdateEncoder: encodes deltas with error feedback (residual = what quantisation lost).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "edgefl/codec/codec.hpp"
#include "edgefl/base/half.hpp"

namespace edgefl {
namespace {

// work = delta + residual; refuses non-finite deltas (a diverged device must not send them).
Status add_residual(std::span<const float> delta, std::span<const float> residual,
                    std::span<float> work) {
  bool bad = false;
  for (std::size_t i = 0; i < delta.size(); ++i) {
    bad |= !std::isfinite(delta[i]);
    work[i] = delta[i] + residual[i];
  }
  if (bad) return Status(StatusCode::non_finite, "delta contains NaN or Inf");
  return Status();
}

Status check_finite(std::span<const float> delta) {
  bool bad = false;
  for (float v : delta) bad |= !std::isfinite(v);
  if (bad) return Status(StatusCode::non_finite, "delta contains NaN or Inf");
  return Status();
}

}  // namespace

UpdateEncoder::UpdateEncoder(const CodecConfig& config, std::size_t parameter_count)
    : config_(config), parameter_count_(parameter_count) {}

Result<UpdateEncoder> UpdateEncoder::create(const CodecConfig& config, std::size_t parameter_count) {
  if (parameter_count > UINT32_MAX) {
    return Status(StatusCode::out_of_range, "parameter count does not fit the wire format");
  }
  EDGEFL_RETURN_IF_ERROR(validate_codec_config(config, parameter_count));
  UpdateEncoder encoder(config, parameter_count);
  if (config.kind == CodecKind::f32) return encoder;
  encoder.residual_ = FloatBuffer(parameter_count);
  encoder.work_ = FloatBuffer(parameter_count);
  switch (config.kind) {
    case CodecKind::f16:
      encoder.f16_ = std::make_unique<uint16_t[]>(parameter_count);
      break;
    case CodecKind::int8_block:
      encoder.int8_ = std::make_unique<int8_t[]>(parameter_count);
      encoder.scales_ = FloatBuffer((parameter_count + config.int8_block_size - 1) / config.int8_block_size);
      break;
    case CodecKind::topk:
      encoder.indices_ = std::make_unique<uint32_t[]>(parameter_count);  // selection scratch
      encoder.values_ = FloatBuffer(topk_count(config, parameter_count));
      break;
    case CodecKind::f32:
      break;
  }
  return encoder;
}

Result<TensorView> UpdateEncoder::encode(std::span<const float> delta) {
  if (delta.size() != parameter_count_) {
    return Status(StatusCode::shape_mismatch, "delta has " + std::to_string(delta.size()) +
                                                  " values, encoder expects " +
                                                  std::to_string(parameter_count_));
  }
  TensorView view;
  view.kind = config_.kind;
  view.parameter_count = static_cast<uint32_t>(parameter_count_);
  if (config_.kind == CodecKind::f32) {
    EDGEFL_RETURN_IF_ERROR(check_finite(delta));
    view.f32 = delta;
    return view;
  }

  EDGEFL_RETURN_IF_ERROR(add_residual(delta, residual_.span(), work_.span()));
  float* work = work_.data();
  float* residual = residual_.data();
  const std::size_t n = parameter_count_;

  switch (config_.kind) {
    case CodecKind::f16: {
      uint16_t* out = f16_.get();
      for (std::size_t i = 0; i < n; ++i) {
        const float v = std::clamp(work[i], -kHalfMax, kHalfMax);
        out[i] = float_to_half(v);
        residual[i] = work[i] - half_to_float(out[i]);
      }
      view.f16 = {out, n};
      break;
    }
    case CodecKind::int8_block: {
      const std::size_t block = config_.int8_block_size;
      int8_t* out = int8_.get();
      float* scales = scales_.data();
      for (std::size_t b = 0, start = 0; start < n; ++b, start += block) {
        const std::size_t end = std::min(n, start + block);
        float max_abs = 0.0f;
        for (std::size_t i = start; i < end; ++i) max_abs = std::max(max_abs, std::fabs(work[i]));
        const float scale = max_abs / 127.0f;
        const float inverse = max_abs > 0.0f ? 127.0f / max_abs : 0.0f;
        scales[b] = scale;
        for (std::size_t i = start; i < end; ++i) {
          const float q = std::clamp(std::nearbyint(work[i] * inverse), -127.0f, 127.0f);
          out[i] = static_cast<int8_t>(q);
          residual[i] = work[i] - q * scale;
        }
      }
      view.block_size = config_.int8_block_size;
      view.int8 = {out, n};
      view.scales = scales_.span();
      break;
    }
    case CodecKind::topk: {
      const std::size_t k = values_.size();
      uint32_t* order = indices_.get();
      std::iota(order, order + n, 0u);
      // Total order (magnitude, then index) so the kept set is the same on every platform.
      auto larger = [work](uint32_t a, uint32_t b) {
        const float fa = std::fabs(work[a]);
        const float fb = std::fabs(work[b]);
        return fa > fb || (fa == fb && a < b);
      };
      if (k < n) std::nth_element(order, order + k, order + n, larger);
      std::sort(order, order + k);
      std::copy(work, work + n, residual);
      float* values = values_.data();
      for (std::size_t j = 0; j < k; ++j) {
        values[j] = work[order[j]];
        residual[order[j]] = 0.0f;
      }
      view.indices = {order, k};
      view.values = values_.span();
      break;
    }
    case CodecKind::f32:
      break;
  }
  return view;
}

}  // namespace edgefl
