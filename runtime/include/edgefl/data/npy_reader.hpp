// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0), as numpy.save writes them.
//
//   auto array = edgefl::read_npy("x.npy");              // or parse_npy(bytes, "x.npy")
//   array->shape;       // {60000, 28, 28, 1}
//   array->type;        // NpyType::u8
//   array->data;        // the raw little-endian elements, C order
//
// Accepted: little-endian (or one-byte) bool, integers of 1 to 8 bytes, float32 and float64,
// C order. Refused with an error naming the origin and the problem: a bad magic or version,
// a header that is not the dict numpy writes ({'descr': ..., 'fortran_order': ..., 'shape': ...}),
// big-endian or structured dtypes, Fortran order, a payload shorter (truncated) or longer
// (corrupt) than the shape says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class NpyType : uint8_t { b1, u1, i1, u2, i2, u4, i4, u8, i8, f4, f8 };

// numpy's descr of a type ("<f4", "|u1").
std::string_view npy_type_name(NpyType type);
std::size_t npy_type_size(NpyType type);
bool npy_type_is_float(NpyType type);

struct NpyArray {
  NpyType type = NpyType::u1;
  std::vector<uint64_t> shape;  // empty for a scalar
  std::vector<uint8_t> data;    // element_count() * npy_type_size(type) bytes

  std::size_t element_count() const;
  // Element i converted to double (every supported type converts exactly or to nearest).
  double value(std::size_t i) const;
  // "60000x28x28x1" ("scalar" for rank 0).
  std::string shape_text() const;
};

// Arrays above this many bytes are refused (too_large) before they are read.
inline constexpr std::size_t kMaxNpyBytes = std::size_t{1} << (sizeof(std::size_t) >= 8 ? 33 : 30);

// `origin` names the bytes in errors (a path, or "archive.npz:x.npy").
Result<NpyArray> parse_npy(std::vector<uint8_t> bytes, std::string_view origin);
Result<NpyArray> read_npy(const std::string& path, std::size_t max_bytes = kMaxNpyBytes);

}  // namespace edgefl
