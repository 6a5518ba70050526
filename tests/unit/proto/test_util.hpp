// Helpers for the proto tests: reading files and re-framing bytes at chosen alignments.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

namespace edgefl::test {

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Holds a copy of `bytes` starting `offset` bytes past a 16-byte boundary.
class Shifted {
 public:
  Shifted(const std::vector<uint8_t>& bytes, std::size_t offset)
      : storage_(bytes.size() + 32), offset_(offset) {
    const auto base = reinterpret_cast<std::uintptr_t>(storage_.data());
    start_ = (16 - base % 16) % 16 + offset_;
    std::memcpy(storage_.data() + start_, bytes.data(), bytes.size());
    size_ = bytes.size();
  }
  std::span<const uint8_t> span() const { return {storage_.data() + start_, size_}; }

 private:
  std::vector<uint8_t> storage_;
  std::size_t offset_ = 0;
  std::size_t start_ = 0;
  std::size_t size_ = 0;
};

inline uint32_t read_u32(const std::vector<uint8_t>& bytes, std::size_t at) {
  uint32_t v;
  std::memcpy(&v, bytes.data() + at, 4);
  return v;
}
inline void write_u32(std::vector<uint8_t>& bytes, std::size_t at, uint32_t v) {
  std::memcpy(bytes.data() + at, &v, 4);
}

// Inserts `pad` bytes after the identifier and fixes the prefix and root offset: the buffer
// stays structurally valid, but every table and vector moves off its natural alignment.
inline std::vector<uint8_t> misalign_inside(std::vector<uint8_t> bytes, uint32_t pad) {
  bytes.insert(bytes.begin() + 12, pad, uint8_t{0});
  write_u32(bytes, 0, read_u32(bytes, 0) + pad);
  write_u32(bytes, 4, read_u32(bytes, 4) + pad);
  return bytes;
}

}  // namespace edgefl::test
