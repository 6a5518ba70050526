// IEEE 754 binary16 <-> binary32 conversions (round to nearest even), portable and branch-light,
// on uint16 bit patterns: the codec's f16 updates, F16 tensors in safetensors files.
#pragma once

#include <bit>
#include <cstdint>

namespace edgefl {

inline constexpr float kHalfMax = 65504.0f;

inline uint16_t float_to_half(float value) {
  uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (x > 0x7f800000u ? 0x200u : 0u));
  if (x >= 0x38800000u) {  // normal in binary16 (or rounds up to inf above 65520)
    uint32_t h = (x - 0x38000000u) >> 13;
    const uint32_t rem = x & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | (h > 0x7c00u ? 0x7c00u : h));
  }
  if (x < 0x33000000u) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
  const uint32_t exponent = x >> 23;                         // 102..112
  const uint32_t mantissa = (x & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - exponent;                    // 14..24
  uint32_t h = mantissa >> shift;
  const uint32_t rem = mantissa & ((1u << shift) - 1u);
  const uint32_t halfway = 1u << (shift - 1u);
  if (rem > halfway || (rem == halfway && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

// Branch-free so decoding loops vectorise: the 15 magnitude bits moved into float position and
// scaled by 2^112 give every normal and subnormal exactly; exponent 31 becomes Inf/NaN.
inline float half_to_float(uint16_t half) {
  const uint32_t magnitude = static_cast<uint32_t>(half & 0x7fffu) << 13;
  uint32_t bits = std::bit_cast<uint32_t>(std::bit_cast<float>(magnitude) * 0x1p112f);
  bits |= (half & 0x7c00u) == 0x7c00u ? 0x7f800000u : 0u;
  return std::bit_cast<float>(bits | (static_cast<uint32_t>(half & 0x8000u) << 16));
}

inline bool half_is_finite(uint16_t half) { return (half & 0x7c00u) != 0x7c00u; }

}  // namespace edgefl
