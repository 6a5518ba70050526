#include "edgefl/proto/aligned_bytes.hpp"

#include <cstring>
#include <new>

namespace edgefl {

std::span<uint8_t> AlignedBytes::resize(std::size_t size) {
  if (size > capacity_) {
    // aligned_alloc needs a multiple of the alignment; round up (and never ask for 0 bytes).
    const std::size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    auto* raw = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded));
    if (raw == nullptr) throw std::bad_alloc();
    data_.reset(raw);
    capacity_ = rounded;
  }
  size_ = size;
  return {data_.get(), size_};
}

std::span<const uint8_t> AlignedBytes::assign(std::span<const uint8_t> bytes) {
  std::span<uint8_t> target = resize(bytes.size());
  if (!bytes.empty()) std::memcpy(target.data(), bytes.data(), bytes.size());
  return target;
}

}  // namespace edgefl
