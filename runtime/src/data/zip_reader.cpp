#include "edgefl/data/zip_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace edgefl {

namespace {

constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kMaxComment = 0xFFFF;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kLocalSize = 30;
constexpr uint16_t kZip64Extra = 0x0001;
constexpr std::size_t kChunk = std::size_t{1} << 20;  // compressed input and output grow by this
// Deflate expands at most 1032-fold: reserving what the compressed bytes could give, up to
// 256 MiB, keeps a lying size from reserving much memory and an honest one from growth slack.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr uint64_t kTrustedReserve = uint64_t{256} << 20;

uint64_t le(const uint8_t* p, std::size_t size) {
  uint64_t v = 0;
  for (std::size_t k = 0; k < size; ++k) v |= uint64_t{p[k]} << (8 * k);
  return v;
}

// Little-endian fields of one record already in memory (bounds checked by the caller).
class Fields {
 public:
  explicit Fields(const uint8_t* p) : p_(p) {}
  uint64_t take(std::size_t size) {
    const uint64_t v = le(p_, size);
    p_ += size;
    return v;
  }
  void skip(std::size_t size) { p_ += size; }

 private:
  const uint8_t* p_;
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
  ZipArchive archive;
  archive.size_ = bytes.size();
  archive.bytes_ = std::move(bytes);
  archive.origin_ = std::move(origin);
  EDGEFL_RETURN_IF_ERROR(archive.read_directory());
  return archive;
}

Result<ZipArchive> ZipArchive::open(const std::string& path) {
  ZipArchive archive;
  archive.origin_ = path;
  archive.fd_ = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!archive.fd_.valid()) {
    const int error = errno;
    return make_status(error == ENOENT ? StatusCode::not_found : StatusCode::io_error,
                       path + ": cannot open: " + std::strerror(error));
  }
  struct stat info {};
  if (::fstat(archive.fd_.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return make_status(StatusCode::invalid_argument, path + ": not a regular file");
  }
  archive.size_ = static_cast<uint64_t>(info.st_size);
  EDGEFL_RETURN_IF_ERROR(archive.read_directory());
  return archive;
}

Status ZipArchive::read_at(uint64_t offset, uint8_t* out, std::size_t size) const {
  if (offset > size_ || size > size_ - offset) {
    return make_status(StatusCode::truncated, origin_ + ": zip: " + std::to_string(size) +
                                                  " bytes at offset " + std::to_string(offset) +
                                                  " run past the archive's end");
  }
  if (size == 0) return Status();  // `out` may be the null data() of an empty vector
  if (!fd_.valid()) {
    std::memcpy(out, bytes_.data() + offset, size);
    return Status();
  }
  for (std::size_t done = 0; done < size;) {
    const ssize_t n =
        ::pread(fd_.get(), out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_status(StatusCode::io_error, origin_ + ": read failed");
    done += static_cast<std::size_t>(n);
  }
  return Status();
}

Status ZipArchive::read_directory() {
  auto corrupt = [this](const std::string& what) {
    return make_status(StatusCode::corrupt, origin_ + ": zip: " + what);
  };
  if (size_ < kEndSize)
    return make_status(StatusCode::truncated, origin_ + ": too short for a zip archive");
  // The end record sits in the last 22 + 65535 bytes (its comment is at most 65535 long).
  std::vector<uint8_t> tail(
      static_cast<std::size_t>(std::min<uint64_t>(size_, kEndSize + kMaxComment)));
  const uint64_t tail_offset = size_ - tail.size();
  EDGEFL_RETURN_IF_ERROR(read_at(tail_offset, tail.data(), tail.size()));
  std::size_t end = tail.size() - kEndSize;
  while (le(tail.data() + end, 4) != kEndSignature) {
    if (end == 0)
      return corrupt("no end-of-central-directory record (not a zip archive, or cut short)");
    --end;
  }
  Fields record(tail.data() + end + 4);
  const uint64_t disk = record.take(2), directory_disk = record.take(2);
  const uint64_t entries_here = record.take(2), entries = record.take(2);
  const uint64_t directory_size = record.take(4), directory_offset = record.take(4);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFFu || directory_offset == 0xFFFFFFFFu) {
    return make_status(StatusCode::invalid_argument,
                       origin_ + ": zip64 archive (over 4 GiB or 65535 members) is not read");
  }
  if (disk != 0 || directory_disk != 0 || entries_here != entries)
    return corrupt("multi-disk archives are not read");
  if (directory_offset + directory_size > tail_offset + end)
    return corrupt("central directory outside the archive");
  if (directory_size > kMaxZipDirectoryBytes) {
    return make_status(StatusCode::too_large, origin_ + ": zip: central directory of " +
                                                  std::to_string(directory_size) + " bytes");
  }
  std::vector<uint8_t> directory(static_cast<std::size_t>(directory_size));
  EDGEFL_RETURN_IF_ERROR(read_at(directory_offset, directory.data(), directory.size()));

  std::size_t at = 0;
  for (uint64_t i = 0; i < entries; ++i) {
    if (directory.size() - at < kCentralSize)
      return corrupt("central directory ends inside entry " + std::to_string(i));
    Fields entry(directory.data() + at);
    if (entry.take(4) != kCentralSignature)
      return corrupt("bad central directory entry " + std::to_string(i));
    ZipMember m;
    entry.skip(4);  // versions
    const uint64_t flags = entry.take(2);
    m.method = static_cast<uint16_t>(entry.take(2));
    entry.skip(4);  // time, date
    m.crc32 = static_cast<uint32_t>(entry.take(4));
    m.compressed_size = entry.take(4);
    m.size = entry.take(4);
    const std::size_t name_length = entry.take(2), extra_length = entry.take(2),
                      comment_length = entry.take(2);
    entry.skip(8);  // disk, attributes
    m.local_header_offset = entry.take(4);
    at += kCentralSize;
    if (directory.size() - at < name_length + extra_length + comment_length) {
      return corrupt("central directory ends inside entry " + std::to_string(i));
    }
    m.name.assign(reinterpret_cast<const char*>(directory.data() + at), name_length);
    if (!apply_zip64(directory.data() + at + name_length, extra_length, m)) {
      return corrupt("bad extra field in entry '" + m.name + "'");
    }
    at += name_length + extra_length + comment_length;
    if (flags & 1)
      return make_status(StatusCode::invalid_argument,
                         origin_ + ": member '" + m.name + "' is encrypted");
    members_.push_back(std::move(m));
  }
  return Status();
}

const ZipMember* ZipArchive::find(std::string_view name) const {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [name](const ZipMember& m) { return m.name == name; });
  return it == members_.end() ? nullptr : &*it;
}

Result<std::vector<uint8_t>> ZipArchive::extract(const ZipMember& m, std::size_t max_size) const {
  const std::string where = origin_ + ":" + m.name;
  auto corrupt = [&where](const std::string& what) {
    return make_status(StatusCode::corrupt, where + ": " + what);
  };
  if (m.method != 0 && m.method != 8) {
    return make_status(StatusCode::invalid_argument, where + ": compression method " +
                                                         std::to_string(m.method) +
                                                         " is not read (stored and deflated only)");
  }
  if (m.size > max_size) {
    return make_status(StatusCode::too_large, where + ": inflates to " + std::to_string(m.size) +
                                                  " bytes, more than the limit of " +
                                                  std::to_string(max_size));
  }
  uint8_t header[kLocalSize];
  EDGEFL_RETURN_IF_ERROR(read_at(m.local_header_offset, header, kLocalSize));
  Fields local(header);
  if (local.take(4) != kLocalSignature) return corrupt("no local header at its offset");
  local.skip(4);  // version, flags
  if (local.take(2) != m.method)
    return corrupt("local header and central directory disagree on the method");
  local.skip(16);  // time, date, crc, sizes (the central directory's are authoritative)
  const uint64_t name_length = local.take(2), extra_length = local.take(2);
  const uint64_t data_offset = m.local_header_offset + kLocalSize + name_length + extra_length;
  if (data_offset > size_ || m.compressed_size > size_ - data_offset) {
    return make_status(StatusCode::truncated, where + ": data runs past the archive");
  }

  std::vector<uint8_t> out;
  if (m.method == 0) {
    if (m.compressed_size != m.size) return corrupt("stored member whose sizes differ");
    out.resize(static_cast<std::size_t>(m.size));
    EDGEFL_RETURN_IF_ERROR(read_at(data_offset, out.data(), out.size()));
  } else {
    InflateStream inflater;
    if (inflateInit2(&inflater.stream, -MAX_WBITS) != Z_OK)
      return corrupt("zlib cannot start inflating");
    inflater.ready = true;
    z_stream& z = inflater.stream;
    out.reserve(static_cast<std::size_t>(
        std::min({m.size, m.compressed_size * kMaxDeflateRatio + 1024, kTrustedReserve})));
    std::vector<uint8_t> input(
        static_cast<std::size_t>(std::min<uint64_t>(kChunk, m.compressed_size)));
    uint64_t consumed = 0;
    uint8_t overflow = 0;  // where a byte beyond the declared size would land
    while (true) {
      if (z.avail_in == 0 && consumed < m.compressed_size) {
        const std::size_t n = static_cast<std::size_t>(
            std::min<uint64_t>(input.size(), m.compressed_size - consumed));
        EDGEFL_RETURN_IF_ERROR(read_at(data_offset + consumed, input.data(), n));
        z.next_in = input.data();
        z.avail_in = static_cast<uInt>(n);
        consumed += n;
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
        return corrupt(std::string("bad deflate data: ") +
                       (z.msg != nullptr ? z.msg : "zlib error"));
      }
    }
    if (out.size() != m.size) {
      return corrupt("inflates to " + std::to_string(out.size()) + " bytes, not its declared " +
                     std::to_string(m.size));
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
