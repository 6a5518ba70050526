// One safetensors file per input. The reader returns a status or tensors whose values match
// their shapes and are finite; what it reads, the writer writes and the reader reads back equal.
#include <cmath>
#include <cstdlib>
#include <span>

#include "edgefl/io/safetensors.hpp"
#include "fuzz_entry.hpp"

namespace edgefl::fuzz {

int run_one(const uint8_t* data, std::size_t size) {
  Result<SafetensorsFile> file =
      decode_safetensors(std::span<const uint8_t>(data, size), "input.safetensors");
  if (!file.ok()) {
    if (file.status().code() == StatusCode::ok) std::abort();
    return 0;
  }
  for (const ShapedTensor& tensor : file->tensors) {
    std::size_t count = 1;
    for (uint64_t d : tensor.shape) count *= static_cast<std::size_t>(d);
    if (count != tensor.values.size()) std::abort();
    for (float v : tensor.values) {
      if (!std::isfinite(v)) std::abort();
    }
  }
  Result<std::vector<uint8_t>> again = encode_safetensors(*file);
  if (!again.ok()) std::abort();
  Result<SafetensorsFile> back = decode_safetensors(*again, "again");
  if (!back.ok() || back->tensors.size() != file->tensors.size() ||
      back->metadata != file->metadata)
    std::abort();
  for (std::size_t t = 0; t < file->tensors.size(); ++t) {
    if (back->tensors[t].name != file->tensors[t].name ||
        back->tensors[t].shape != file->tensors[t].shape ||
        back->tensors[t].values != file->tensors[t].values) {
      std::abort();
    }
  }
  return 0;
}

}  // namespace edgefl::fuzz
