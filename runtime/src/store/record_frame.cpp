#include "record_frame.hpp"

#include <zlib.h>

namespace edgefl::store_detail {

void put_u32(std::byte* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::byte>(value >> (8 * i));
}

void put_u64(std::byte* out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>(value >> (8 * i));
}

std::uint32_t get_u32(const std::byte* in) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(in[i]) << (8 * i);
  return value;
}

std::uint64_t get_u64(const std::byte* in) {
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return value;
}

std::uint32_t frame_crc(std::span<const std::byte> length_bytes, std::span<const std::byte> payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(length_bytes.data()), static_cast<uInt>(length_bytes.size()));
  // zlib takes uInt lengths: feed large payloads in chunks.
  const std::byte* data = payload.data();
  std::size_t left = payload.size();
  while (left != 0) {
    std::size_t chunk = left < (1u << 30) ? left : (1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(chunk));
    data += chunk;
    left -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

std::array<std::byte, kFrameHeaderBytes> frame_header(std::uint32_t magic, std::span<const std::byte> payload) {
  std::array<std::byte, kFrameHeaderBytes> header{};
  put_u32(header.data(), magic);
  put_u32(header.data() + 4, static_cast<std::uint32_t>(payload.size()));
  put_u32(header.data() + 8, frame_crc({header.data() + 4, 4}, payload));
  return header;
}

FrameHeader parse_frame_header(const std::byte* header) {
  return {get_u32(header), get_u32(header + 4), get_u32(header + 8)};
}

bool frame_payload_matches(const std::byte* header, std::span<const std::byte> payload) {
  FrameHeader parsed = parse_frame_header(header);
  return parsed.length == payload.size() && parsed.crc == frame_crc({header + 4, 4}, payload);
}

}  // namespace edgefl::store_detail
