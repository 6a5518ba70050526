// Codec configuration: names, validation, and the size each codec costs on the wire.
#include <cmath>
#include <string>

#include "edgefl/codec/codec.hpp"

namespace edgefl {

std::string_view codec_name(CodecKind kind) {
  switch (kind) {
    case CodecKind::f32: return "f32";
    case CodecKind::f16: return "f16";
    case CodecKind::int8_block: return "int8_block";
    case CodecKind::topk: return "topk";
  }
  return "unknown_codec";
}

Result<CodecKind> parse_codec(std::string_view name) {
  if (name == "f32") return CodecKind::f32;
  if (name == "f16") return CodecKind::f16;
  if (name == "int8" || name == "int8_block") return CodecKind::int8_block;
  if (name == "topk") return CodecKind::topk;
  return Status(StatusCode::invalid_argument,
                "codec '" + std::string(name) + "' is not f32, f16, int8 or topk");
}

Status validate_codec_config(const CodecConfig& config, std::size_t parameter_count) {
  switch (config.kind) {
    case CodecKind::f32:
    case CodecKind::f16:
      return Status();
    case CodecKind::int8_block:
      if (config.int8_block_size == 0 || config.int8_block_size > CodecConfig::kMaxInt8BlockSize) {
        return Status(StatusCode::out_of_range,
                      "int8 block size " + std::to_string(config.int8_block_size) +
                          " outside 1.." + std::to_string(CodecConfig::kMaxInt8BlockSize));
      }
      return Status();
    case CodecKind::topk:
      if (config.topk_k != 0) {
        if (config.topk_k > parameter_count) {
          return Status(StatusCode::out_of_range, "top-k k " + std::to_string(config.topk_k) +
                                                      " exceeds parameter count " +
                                                      std::to_string(parameter_count));
        }
        return Status();
      }
      if (!std::isfinite(config.topk_fraction)) {
        return Status(StatusCode::non_finite, "top-k fraction is not finite");
      }
      if (!(config.topk_fraction > 0.0f && config.topk_fraction <= 1.0f)) {
        return Status(StatusCode::out_of_range,
                      "top-k needs k > 0 or a fraction in (0, 1], got fraction " +
                          std::to_string(config.topk_fraction));
      }
      return Status();
  }
  return Status(StatusCode::unknown_enum,
                "codec kind " + std::to_string(static_cast<int>(config.kind)));
}

std::size_t topk_count(const CodecConfig& config, std::size_t parameter_count) {
  if (config.topk_k != 0) return config.topk_k;
  const double k = std::ceil(static_cast<double>(config.topk_fraction) *
                             static_cast<double>(parameter_count));
  return std::min(parameter_count, static_cast<std::size_t>(k));
}

double bytes_per_parameter(const CodecConfig& config, std::size_t parameter_count) {
  switch (config.kind) {
    case CodecKind::f32: return 4.0;
    case CodecKind::f16: return 2.0;
    case CodecKind::int8_block: return 1.0 + 4.0 / static_cast<double>(config.int8_block_size);
    case CodecKind::topk:
      if (parameter_count == 0) return 0.0;
      // uint32 index + float value per kept entry
      return 8.0 * static_cast<double>(topk_count(config, parameter_count)) /
             static_cast<double>(parameter_count);
  }
  return 0.0;
}

}  // namespace edgefl
