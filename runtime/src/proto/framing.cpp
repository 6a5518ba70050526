#include "framing.hpp"

#include <cstring>

namespace edgefl::proto_detail {
namespace {

constexpr std::size_t kPrefixBytes = sizeof(flatbuffers::uoffset_t);
// length prefix + root offset + file identifier
constexpr std::size_t kMinFramedBytes = kPrefixBytes + sizeof(flatbuffers::uoffset_t) + 4;

std::string bytes_text(std::size_t n) { return std::to_string(n) + " bytes"; }

}  // namespace

Result<std::span<const uint8_t>> frame(std::span<const uint8_t> bytes, AlignedBytes& scratch,
                                       const DecodeLimits& limits, const Format& format) {
  const std::string what(format.what);
  if (bytes.size() > limits.max_message_bytes || bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return Status(StatusCode::too_large, what + " of " + bytes_text(bytes.size()) +
                                             " exceeds the limit of " +
                                             bytes_text(limits.max_message_bytes));
  }
  if (bytes.size() < kMinFramedBytes) {
    return Status(StatusCode::truncated, what + " of " + bytes_text(bytes.size()) +
                                             " is shorter than its header");
  }
  uint32_t declared = 0;
  std::memcpy(&declared, bytes.data(), sizeof declared);  // little-endian, unaligned-safe
  const std::size_t body = bytes.size() - kPrefixBytes;
  if (declared > body) {
    return Status(StatusCode::truncated, what + " declares " + bytes_text(declared) +
                                             " but only " + bytes_text(body) + " arrived");
  }
  if (declared < body) {
    return Status(StatusCode::corrupt, what + " declares " + bytes_text(declared) + " but " +
                                           bytes_text(body) + " follow (trailing bytes)");
  }
  if (std::memcmp(bytes.data() + kPrefixBytes + sizeof(flatbuffers::uoffset_t), format.identifier,
                  4) != 0) {
    return Status(StatusCode::corrupt, "not an edgefl " + what + " (file identifier differs from " +
                                           std::string(format.identifier, 4) + ")");
  }
  if (AlignedBytes::is_aligned(bytes.data())) return bytes;
  return scratch.assign(bytes);
}

Status classify_verify_failure(bool passes_with_loose_limits, bool root_misaligned,
                               const Format& format) {
  const std::string what(format.what);
  if (passes_with_loose_limits) {
    return Status(StatusCode::out_of_range,
                  what + " nests deeper or holds more tables than the verifier limits allow");
  }
  if (root_misaligned) {
    return Status(StatusCode::misaligned, what + " is framed off its 4-byte alignment (every table and vector is shifted)");
  }
  return Status(StatusCode::corrupt, what + " failed FlatBuffers verification");
}

Status check_version(uint16_t version, const Format& format) {
  const uint16_t major = version >> 8;
  if (major != format.major) {
    return Status(StatusCode::version_mismatch,
                  std::string(format.what) + " has version " + std::to_string(major) + "." +
                      std::to_string(version & 0xff) + ", this build speaks " +
                      std::to_string(format.major) + ".x");
  }
  return Status();
}

flatbuffers::Verifier::Options verifier_options(uint32_t max_depth, uint32_t max_tables,
                                                bool check_alignment) {
  flatbuffers::Verifier::Options options;
  options.max_depth = max_depth;
  options.max_tables = max_tables;
  options.check_alignment = check_alignment;
  options.check_nested_flatbuffers = false;  // the schemas have none
  return options;
}

}  // namespace edgefl::proto_detail
