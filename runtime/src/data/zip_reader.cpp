#include "edgefl/data/zip_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <memory>

#include "file_bytes.hpp"

namespace edgefl {

namespace {

constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kLocalSize = 30;
constexpr uint16_t kZip64Extra = 0x0001;

uint64_t le(const uint8_t* p, std::size_t size) {
  uint64_t v = 0;
  for (std::size_t k = 0; k < size; ++k) v |= uint64_t{p[k]} << (8 * k);
  return v;
}

// Bounds-checked little-endian reads over the archive's bytes.
class Cursor {
 public:
  Cursor(const std::vector<uint8_t>& bytes, uint64_t at) : bytes_(bytes), at_(at) {}
  bool has(uint64_t size) const { return at_ <= bytes_.size() && size <= bytes_.size() - at_; }
  uint64_t take(std::size_t size) {
    const uint64_t v = le(bytes_.data() + at_, size);
    at_ += size;
    return v;
  }
  uint64_t at() const { return at_; }
  void skip(uint64_t size) { at_ += size; }

 private:
  const std::vector<uint8_t>& bytes_;
  uint64_t at_;
};

struct InflateStream {
  z_stream stream{};
  bool ready = false;
  ~InflateStream() {
    if (ready) inflateEnd(&stream);
  }
};

// Replaces 32-bit fields holding 0xFFFFFFFF with the zip64 extra field's 64-bit values.
bool apply_zip64(const uint8_t* extra, std::size_t length, ZipMember& m) {
  std::size_t at = 0;
  while (at + 4 <= length) {
    const uint16_t id = static_cast<uint16_t>(le(extra + at, 2));
    const std::size_t size = static_cast<std::size_t>(le(extra + at + 2, 2));
    if (at + 4 + size > length) return false;
    if (id == kZip64Extra) {
      std::size_t field = at + 4;
      for (uint64_t* value : {&m.size, &m.compressed_size, &m.local_header_offset}) {
        if (*value != 0xFFFFFFFFu) continue;
        if (field + 8 > at + 4 + size) return false;
        *value = le(extra + field, 8);
        field += 8;
      }
    }
    at += 4 + size;
  }
  return true;
}

}  // namespace

Result<ZipArchive> ZipArchive::parse(std::vector<uint8_t> bytes, std::string origin) {
  auto corrupt = [&origin](const std::string& what) {
    return make_status(StatusCode::corrupt, origin + ": zip: " + what);
  };
  if (bytes.size() < kEndSize) return make_status(StatusCode::truncated, origin + ": too short for a zip archive");
  // The end record sits in the last 22 + 65535 bytes (its comment is at most 65535 long).
  std::size_t end = bytes.size() - kEndSize;
  const std::size_t lowest = bytes.size() > kEndSize + 0xFFFF ? bytes.size() - kEndSize - 0xFFFF : 0;
  while (le(bytes.data() + end, 4) != kEndSignature) {
    if (end == lowest) return corrupt("no end-of-central-directory record (not a zip archive, or cut short)");
    --end;
  }
  Cursor record(bytes, end + 4);
  const uint64_t disk = record.take(2), directory_disk = record.take(2);
  const uint64_t entries_here = record.take(2), entries = record.take(2);
  const uint64_t directory_size = record.take(4), directory_offset = record.take(4);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFFu || directory_offset == 0xFFFFFFFFu) {
    return make_status(StatusCode::invalid_argument,
                       origin + ": zip64 archive (over 4 GiB or 65535 members) is not read");
  }
  if (disk != 0 || directory_disk != 0 || entries_here != entries) return corrupt("multi-disk archives are not read");
  if (directory_offset + directory_size > end) return corrupt("central directory outside the archive");

  ZipArchive archive;
  archive.origin_ = std::move(origin);
  Cursor cursor(bytes, directory_offset);
  for (uint64_t i = 0; i < entries; ++i) {
    if (!cursor.has(kCentralSize) || cursor.at() + kCentralSize > directory_offset + directory_size) {
      return corrupt("central directory ends inside entry " + std::to_string(i));
    }
    if (cursor.take(4) != kCentralSignature) return corrupt("bad central directory entry " + std::to_string(i));
    ZipMember m;
    cursor.skip(4);  // versions
    const uint64_t flags = cursor.take(2);
    m.method = static_cast<uint16_t>(cursor.take(2));
    cursor.skip(4);  // time, date
    m.crc32 = static_cast<uint32_t>(cursor.take(4));
    m.compressed_size = cursor.take(4);
    m.size = cursor.take(4);
    const uint64_t name_length = cursor.take(2), extra_length = cursor.take(2), comment_length = cursor.take(2);
    cursor.skip(8);  // disk, attributes
    m.local_header_offset = cursor.take(4);
    if (cursor.at() + name_length + extra_length + comment_length > directory_offset + directory_size) {
      return corrupt("central directory ends inside entry " + std::to_string(i));
    }
    m.name.assign(reinterpret_cast<const char*>(bytes.data() + cursor.at()), name_length);
    if (!apply_zip64(bytes.data() + cursor.at() + name_length, extra_length, m)) {
      return corrupt("bad extra field in entry '" + m.name + "'");
    }
    cursor.skip(name_length + extra_length + comment_length);
    if (flags & 1) {
      return make_status(StatusCode::invalid_argument, archive.origin_ + ": member '" + m.name + "' is encrypted");
    }
    archive.members_.push_back(std::move(m));
  }
  archive.bytes_ = std::move(bytes);
  return archive;
}

Result<ZipArchive> ZipArchive::read(const std::string& path, std::size_t max_bytes) {
  Result<std::vector<uint8_t>> bytes = read_file_bytes(path, max_bytes);
  if (!bytes) return bytes.status();
  return parse(std::move(*bytes), path);
}

const ZipMember* ZipArchive::find(std::string_view name) const {
  auto it = std::find_if(members_.begin(), members_.end(), [name](const ZipMember& m) { return m.name == name; });
  return it == members_.end() ? nullptr : &*it;
}

Result<std::vector<uint8_t>> ZipArchive::extract(const ZipMember& m, std::size_t max_size) const {
  const std::string where = origin_ + ":" + m.name;
  auto corrupt = [&where](const std::string& what) { return make_status(StatusCode::corrupt, where + ": " + what); };
  if (m.method != 0 && m.method != 8) {
    return make_status(StatusCode::invalid_argument,
                       where + ": compression method " + std::to_string(m.method) +
                           " is not read (stored and deflated only)");
  }
  if (m.size > max_size) {
    return make_status(StatusCode::too_large, where + ": inflates to " + std::to_string(m.size) +
                                                  " bytes, more than the limit of " + std::to_string(max_size));
  }
  Cursor local(bytes_, m.local_header_offset);
  if (!local.has(kLocalSize) || local.take(4) != kLocalSignature) return corrupt("no local header at its offset");
  local.skip(4);  // version, flags
  if (local.take(2) != m.method) return corrupt("local header and central directory disagree on the method");
  local.skip(16);  // time, date, crc, sizes (the central directory's are authoritative)
  const uint64_t name_length = local.take(2), extra_length = local.take(2);
  local.skip(name_length + extra_length);
  if (!local.has(m.compressed_size)) return make_status(StatusCode::truncated, where + ": data runs past the archive");
  const uint8_t* input = bytes_.data() + local.at();

  std::vector<uint8_t> out;
  if (m.method == 0) {
    if (m.compressed_size != m.size) return corrupt("stored member whose sizes differ");
    out.assign(input, input + m.size);
  } else {
    InflateStream inflater;
    if (inflateInit2(&inflater.stream, -MAX_WBITS) != Z_OK) return corrupt("zlib cannot start inflating");
    inflater.ready = true;
    z_stream& z = inflater.stream;
    constexpr std::size_t kChunk = std::size_t{1} << 20;  // output grows with what inflate produces
    // Deflate expands at most 1032-fold: reserving what the compressed bytes could give keeps a
    // lying size from reserving memory, and an honest one from growth slack in the result.
    constexpr uint64_t kMaxDeflateRatio = 1032;
    out.reserve(static_cast<std::size_t>(std::min(m.size, m.compressed_size * kMaxDeflateRatio + 1024)));
    uint64_t consumed = 0;
    uint8_t overflow = 0;  // where a byte beyond the declared size would land
    while (true) {
      if (z.avail_in == 0 && consumed < m.compressed_size) {
        const uint64_t chunk = std::min<uint64_t>(m.compressed_size - consumed, uint64_t{1} << 30);
        z.next_in = const_cast<Bytef*>(input + consumed);
        z.avail_in = static_cast<uInt>(chunk);
        consumed += chunk;
      }
      const std::size_t at = out.size();
      const bool full = at == m.size;
      if (full) {
        z.next_out = &overflow;
        z.avail_out = 1;
      } else {
        out.resize(at + static_cast<std::size_t>(std::min<uint64_t>(kChunk, m.size - at)));
        z.next_out = out.data() + at;
        z.avail_out = static_cast<uInt>(out.size() - at);
      }
      const int result = inflate(&z, Z_NO_FLUSH);
      if (!full) {
        out.resize(out.size() - z.avail_out);
      } else if (z.avail_out == 0) {
        return corrupt("inflates to more than its declared " + std::to_string(m.size) + " bytes");
      }
      if (result == Z_STREAM_END) break;
      if (result == Z_BUF_ERROR && z.avail_in == 0 && consumed == m.compressed_size) {
        return make_status(StatusCode::truncated, where + ": deflate stream ends early");
      }
      if (result != Z_OK) {
        return corrupt(std::string("bad deflate data: ") + (z.msg != nullptr ? z.msg : "zlib error"));
      }
    }
    if (out.size() != m.size) {
      return corrupt("inflates to " + std::to_string(out.size()) + " bytes, not its declared " + std::to_string(m.size));
    }
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t at = 0; at < out.size();) {
    const std::size_t n = std::min<std::size_t>(out.size() - at, std::size_t{1} << 30);
    crc = crc32(crc, out.data() + at, static_cast<uInt>(n));
    at += n;
  }
  if (static_cast<uint32_t>(crc) != m.crc32) return corrupt("CRC-32 mismatch");
  return out;
}

}  // namespace edgefl
