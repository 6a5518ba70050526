// ZipArchive: the members of a zip file such as numpy.savez (stored) and numpy.savez_compressed
// (deflated) write.
//
//   auto zip = edgefl::ZipArchive::open("data.npz");      // reads the directory only
//   const edgefl::ZipMember* x = zip->find("x.npy");
//   auto bytes = zip->extract(*x, /*max_size=*/64 << 20);   // checked against its CRC-32
//
// An archive opened from a file is read where needed (the end record, the central directory,
// then each extracted member in 1 MiB pieces), so extracting a member costs the member's size
// in memory, not the archive's; parse() does the same over bytes in memory.
// Read from the central directory; members stored (method 0) or deflated (method 8), zip64
// size fields in member entries understood. Refused with an error naming the archive and the
// problem: encrypted members, other methods, multi-disk archives, offsets outside the file, a
// member inflating to more than its declared size or than `max_size` (a zip bomb stops at the
// limit; memory grows only with the output actually produced), a CRC mismatch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"
#include "edgefl/base/unique_fd.hpp"

namespace edgefl {

struct ZipMember {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint64_t compressed_size = 0;
  uint64_t size = 0;  // declared uncompressed size
  uint32_t crc32 = 0;
  uint64_t local_header_offset = 0;
};

// A central directory above this size is refused (an npz holds a handful of members).
inline constexpr std::size_t kMaxZipDirectoryBytes = std::size_t{16} << 20;

class ZipArchive {
 public:
  // `origin` names the archive in errors.
  static Result<ZipArchive> parse(std::vector<uint8_t> bytes, std::string origin);
  static Result<ZipArchive> open(const std::string& path);

  const std::string& origin() const { return origin_; }
  const std::vector<ZipMember>& members() const { return members_; }
  // nullptr when no member has this name.
  const ZipMember* find(std::string_view name) const;
  // The member's bytes; too_large when its declared size exceeds max_size.
  Result<std::vector<uint8_t>> extract(const ZipMember& member, std::size_t max_size) const;

 private:
  // `size` bytes at `offset` of the archive; truncated when they run past its end.
  Status read_at(uint64_t offset, uint8_t* out, std::size_t size) const;
  Status read_directory();

  std::vector<uint8_t> bytes_;  // the archive, when parsed from memory
  UniqueFd fd_;                 // the archive, when opened from a file
  uint64_t size_ = 0;
  std::string origin_;
  std::vector<ZipMember> members_;
};

}  // namespace edgefl
