// The framing shared by WAL records and outbox entries:
//   u32 magic | u32 payload length | u32 crc32(length bytes || payload) | payload
// all little-endian, so files written on x86 read the same on ARM. The CRC covers the length
// too, so a torn or flipped length is caught before it is trusted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace edgefl::store_detail {

inline constexpr std::size_t kFrameHeaderBytes = 12;

void put_u32(std::byte* out, std::uint32_t value);
void put_u64(std::byte* out, std::uint64_t value);
std::uint32_t get_u32(const std::byte* in);
std::uint64_t get_u64(const std::byte* in);

std::uint32_t frame_crc(std::span<const std::byte> length_bytes, std::span<const std::byte> payload);

// Header for a payload (the caller writes header then payload).
std::array<std::byte, kFrameHeaderBytes> frame_header(std::uint32_t magic, std::span<const std::byte> payload);

struct FrameHeader {
  std::uint32_t magic;
  std::uint32_t length;
  std::uint32_t crc;
};
FrameHeader parse_frame_header(const std::byte* header);
bool frame_payload_matches(const std::byte* header, std::span<const std::byte> payload);

}  // namespace edgefl::store_detail
