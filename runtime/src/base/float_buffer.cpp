#include "edgefl/base/float_buffer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace edgefl {

namespace {

float* allocate_floats(std::size_t size) {
  if (size == 0) return nullptr;
  std::size_t bytes = size * sizeof(float) + FloatBuffer::kSlackBytes;
  bytes = (bytes + FloatBuffer::kAlignment - 1) / FloatBuffer::kAlignment * FloatBuffer::kAlignment;
  void* memory = std::aligned_alloc(FloatBuffer::kAlignment, bytes);
  if (memory == nullptr) throw std::bad_alloc();
  std::memset(memory, 0, bytes);
  return static_cast<float*>(memory);
}

}  // namespace

FloatBuffer::FloatBuffer(std::size_t size) : data_(allocate_floats(size)), size_(size) {}

FloatBuffer::~FloatBuffer() { std::free(data_); }

FloatBuffer::FloatBuffer(FloatBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

FloatBuffer& FloatBuffer::operator=(FloatBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

FloatBuffer FloatBuffer::clone() const {
  FloatBuffer copy(size_);
  if (size_ != 0) std::memcpy(copy.data_, data_, size_bytes());
  return copy;
}

void FloatBuffer::assign(std::span<const float> values) {
  std::copy_n(values.data(), std::min(values.size(), size_), data_);
}

void FloatBuffer::fill(float value) { std::fill_n(data_, size_, value); }

}  // namespace edgefl
