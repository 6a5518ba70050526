// Records of the server's write-ahead log: one accepted update and who sent it.
//
//   std::vector<std::byte> record = encode_log_record(device_id, update_bytes);
//   Result<LogRecord> r = decode_log_record(record);   // views into `record`
//
// Layout: u16 little-endian id length, the id bytes, then the Update message exactly as it
// arrived (it is decoded again on replay, through the same verified path as the network).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl::server {

struct LogRecord {
  std::string_view device_id;
  std::span<const uint8_t> update_message;
};

std::vector<std::byte> encode_log_record(std::string_view device_id, std::span<const uint8_t> update_message);
Result<LogRecord> decode_log_record(std::span<const std::byte> record);

}  // namespace edgefl::server
