// Byte builders for the data-file tests: npy arrays, zip archives and IDX files written the way
// numpy, Python's zipfile and the MNIST tools write them, so each test makes its own fixture
// (and its own corruption of one) in a few lines.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace edgefl::testing {

using Bytes = std::vector<uint8_t>;

inline void put_le(Bytes& out, uint64_t value, std::size_t size) {
  for (std::size_t k = 0; k < size; ++k) out.push_back(static_cast<uint8_t>(value >> (8 * k)));
}

inline void append(Bytes& out, const std::string& text) {
  out.insert(out.end(), text.begin(), text.end());
}

// An npy file: `descr` like "<f4", `shape` like "(2, 3)", the raw payload. The header dict is
// padded with spaces so that the data starts at a multiple of 64, as numpy does.
inline Bytes npy(const std::string& descr, const std::string& shape, const Bytes& payload,
                 int version = 1, bool fortran = false) {
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  const std::size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(version), 0};
  put_le(out, header.size(), version == 1 ? 2 : 4);
  append(out, header);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

template <typename T>
Bytes raw(const std::vector<T>& values) {
  Bytes out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

inline Bytes raw_deflate(const Bytes& input) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&z, input.size()));
  z.next_in = const_cast<Bytef*>(input.data());
  z.avail_in = static_cast<uInt>(input.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct ZipEntry {
  std::string name;
  Bytes data;
  uint16_t method = 0;         // 0 stored, 8 deflated
  uint64_t declared_size = 0;  // 0: the real size
};

// A zip archive as Python's zipfile writes it (no data descriptors, no zip64).
inline Bytes zip(const std::vector<ZipEntry>& entries) {
  Bytes out, directory;
  for (const ZipEntry& e : entries) {
    const Bytes body = e.method == 8 ? raw_deflate(e.data) : e.data;
    const uint32_t crc =
        static_cast<uint32_t>(crc32(0, e.data.data(), static_cast<uInt>(e.data.size())));
    const uint64_t size = e.declared_size != 0 ? e.declared_size : e.data.size();
    const uint64_t offset = out.size();
    auto fields = [&](Bytes& to) {
      put_le(to, 20, 2);  // version needed
      put_le(to, 0, 2);   // flags
      put_le(to, e.method, 2);
      put_le(to, 0, 2);     // time
      put_le(to, 0x21, 2);  // date: 1980-01-01
      put_le(to, crc, 4);
      put_le(to, body.size(), 4);
      put_le(to, size, 4);
      put_le(to, e.name.size(), 2);
      put_le(to, 0, 2);  // extra
    };
    put_le(out, 0x04034b50, 4);
    fields(out);
    append(out, e.name);
    out.insert(out.end(), body.begin(), body.end());
    put_le(directory, 0x02014b50, 4);
    put_le(directory, 20, 2);  // version made by
    fields(directory);
    put_le(directory, 0, 2);  // comment
    put_le(directory, 0, 2);  // disk
    put_le(directory, 0, 2);  // internal attributes
    put_le(directory, 0, 4);  // external attributes
    put_le(directory, offset, 4);
    append(directory, e.name);
  }
  const uint64_t directory_offset = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);  // disks
  put_le(out, entries.size(), 2);
  put_le(out, entries.size(), 2);
  put_le(out, directory.size(), 4);
  put_le(out, directory_offset, 4);
  put_le(out, 0, 2);  // comment
  return out;
}

// An uncompressed IDX file of unsigned bytes with the given dimensions.
inline Bytes idx(const std::vector<uint32_t>& dims, const Bytes& data) {
  Bytes out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(d >> shift));
  }
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

inline void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace edgefl::testing
