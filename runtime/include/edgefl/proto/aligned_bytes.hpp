// AlignedBytes: a reusable, 16-byte aligned byte buffer for untrusted input.
//
//   edgefl::AlignedBytes scratch;                       // one per receive loop, reused
//   auto message = edgefl::decode_message(frame_bytes, scratch, limits);
//
// ZeroMQ hands out frames at arbitrary addresses; FlatBuffers reads 4- and 8-byte scalars in
// place, so misaligned input is copied here before it is verified and read. The buffer only
// grows, so a loop that reuses it stops allocating after the largest message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

namespace edgefl {

class AlignedBytes {
 public:
  static constexpr std::size_t kAlignment = 16;

  // Copies `bytes` in (growing the storage if needed) and returns the aligned copy.
  std::span<const uint8_t> assign(std::span<const uint8_t> bytes);
  // Makes the buffer `size` bytes long (contents unspecified) for callers that read into it.
  std::span<uint8_t> resize(std::size_t size);

  std::span<const uint8_t> bytes() const { return {data_.get(), size_}; }
  std::size_t capacity() const { return capacity_; }

  static bool is_aligned(const void* pointer) {
    return reinterpret_cast<std::uintptr_t>(pointer) % kAlignment == 0;
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], Free> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace edgefl
