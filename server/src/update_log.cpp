#include "update_log.hpp"

#include <cstring>

namespace edgefl::server {

std::vector<std::byte> encode_log_record(std::string_view device_id,
                                         std::span<const uint8_t> update_message) {
  std::vector<std::byte> record(2 + device_id.size() + update_message.size());
  record[0] = static_cast<std::byte>(device_id.size() & 0xff);
  record[1] = static_cast<std::byte>(device_id.size() >> 8);
  std::memcpy(record.data() + 2, device_id.data(), device_id.size());
  std::memcpy(record.data() + 2 + device_id.size(), update_message.data(), update_message.size());
  return record;
}

Result<LogRecord> decode_log_record(std::span<const std::byte> record) {
  if (record.size() < 2) return make_status(StatusCode::truncated, "log record shorter than its header");
  const std::size_t id_size = static_cast<std::size_t>(record[0]) | (static_cast<std::size_t>(record[1]) << 8);
  if (record.size() < 2 + id_size) return make_status(StatusCode::truncated, "log record shorter than its device id");
  LogRecord out;
  out.device_id = std::string_view(reinterpret_cast<const char*>(record.data() + 2), id_size);
  out.update_message = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(record.data() + 2 + id_size),
                                                record.size() - 2 - id_size);
  return out;
}

}  // namespace edgefl::server
