// FloatBuffer: one contiguous, 64-byte aligned float32 array — the flat parameter buffer.
//
//   edgefl::FloatBuffer params(spec.parameter_count());   // zero-filled
//   std::span<float> w = params.span().subspan(offset, rows * cols);
//
// Parameters, gradients, optimizer state, aggregation sums and codec residuals all use this
// one layout, so serialising, aggregating and mixing are single passes over memory.
// The allocation carries kSlackBytes of zeroed slack after the last element because XNNPACK
// kernels may read (never write) up to XNN_EXTRA_BYTES past the end of an input.
// Move-only; the buffer owns its memory and frees it on destruction.
#pragma once

#include <cstddef>
#include <span>

namespace edgefl {

class FloatBuffer {
 public:
  static constexpr std::size_t kAlignment = 64;
  static constexpr std::size_t kSlackBytes = 64;  // >= XNN_EXTRA_BYTES (16 in Debian's XNNPACK)

  FloatBuffer() = default;
  explicit FloatBuffer(std::size_t size);  // zero-filled
  ~FloatBuffer();

  FloatBuffer(FloatBuffer&& other) noexcept;
  FloatBuffer& operator=(FloatBuffer&& other) noexcept;
  FloatBuffer(const FloatBuffer&) = delete;
  FloatBuffer& operator=(const FloatBuffer&) = delete;

  // Deep copy, explicit so copies of a whole model never happen by accident.
  FloatBuffer clone() const;
  // Copies `values` into this buffer; sizes must match (checked by the caller).
  void assign(std::span<const float> values);
  void fill(float value);

  float* data() { return data_; }
  const float* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t size_bytes() const { return size_ * sizeof(float); }
  float& operator[](std::size_t i) { return data_[i]; }
  const float& operator[](std::size_t i) const { return data_[i]; }

  std::span<float> span() { return {data_, size_}; }
  std::span<const float> span() const { return {data_, size_}; }
  operator std::span<float>() { return span(); }              // NOLINT: a buffer is a span
  operator std::span<const float>() const { return span(); }  // NOLINT

 private:
  float* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace edgefl
