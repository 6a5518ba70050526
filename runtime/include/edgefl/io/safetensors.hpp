// safetensors files: named float tensors, as PyTorch and Hugging Face tools exchange weights.
//
//   edgefl::SafetensorsFile file;
//   file.tensors.push_back({"layers.0.weight", {256, 784}, std::move(values)});
//   file.metadata.emplace_back("format", "pt");
//   EDGEFL_RETURN_IF_ERROR(edgefl::write_safetensors("model.safetensors", file));
//   auto back = edgefl::read_safetensors("model.safetensors");
//
// The format: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"k": "v"}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
//   ...}
// padded with spaces to a multiple of 8, then the tensors' little-endian bytes; offsets count
// from the end of the header. Written as F32, one tensor after another in the given order.
//
// The reader is strict: N sane (at most 100 MB and inside the file), the header valid JSON
// (edgefl/base/json_value.hpp) with exactly dtype, shape and data_offsets per tensor (whole
// numbers up to 2^53) and only strings in __metadata__, dtype F32 (F16 and BF16 are converted to
// float; others refused), shape x dtype size equal to the offsets' span, spans inside the data, not
// overlapping and covering it exactly, every value finite. Errors name the file and the tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

struct ShapedTensor {
  std::string name;
  std::vector<uint64_t> shape;
  std::vector<float> values;  // product(shape) values, C order
};

struct SafetensorsFile {
  std::vector<ShapedTensor> tensors;                          // in the header's order
  std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__"
};

inline constexpr std::size_t kMaxSafetensorsHeader = std::size_t{100} << 20;
inline constexpr uint64_t kMaxSafetensorsBytes = uint64_t{1}
                                                 << (sizeof(std::size_t) >= 8 ? 34 : 30);

// invalid_argument for duplicate, empty or reserved names, and values that do not match a shape.
Result<std::vector<uint8_t>> encode_safetensors(const SafetensorsFile& file);
// `origin` names the bytes in errors.
Result<SafetensorsFile> decode_safetensors(std::span<const uint8_t> bytes, std::string_view origin);

Result<SafetensorsFile> read_safetensors(const std::string& path,
                                         uint64_t max_bytes = kMaxSafetensorsBytes);
// Written atomically (temporary file, fsync, rename).
Status write_safetensors(const std::string& path, const SafetensorsFile& file);

}  // namespace edgefl
