// O(1) structural checks of an encoded tensor: its vectors must fit its kind and count.
#include <string>

#include "edgefl/codec/codec.hpp"

namespace edgefl {
namespace {

Status length_mismatch(std::string_view what, std::size_t got, std::size_t want) {
  return Status(StatusCode::shape_mismatch, std::string(what) + " has " + std::to_string(got) +
                                                " entries, expected " + std::to_string(want));
}

}  // namespace

Status check_tensor_shape(const TensorView& tensor) {
  const std::size_t count = tensor.parameter_count;
  switch (tensor.kind) {
    case CodecKind::f32:
      if (tensor.f32.size() != count) return length_mismatch("f32 values", tensor.f32.size(), count);
      return Status();
    case CodecKind::f16:
      if (tensor.f16.size() != count) return length_mismatch("f16 values", tensor.f16.size(), count);
      return Status();
    case CodecKind::int8_block: {
      if (tensor.block_size == 0 || tensor.block_size > CodecConfig::kMaxInt8BlockSize) {
        return Status(StatusCode::out_of_range,
                      "int8 block size " + std::to_string(tensor.block_size) + " outside 1.." +
                          std::to_string(CodecConfig::kMaxInt8BlockSize));
      }
      if (tensor.int8.size() != count) return length_mismatch("int8 values", tensor.int8.size(), count);
      const std::size_t blocks = (count + tensor.block_size - 1) / tensor.block_size;
      if (tensor.scales.size() != blocks) return length_mismatch("int8 scales", tensor.scales.size(), blocks);
      return Status();
    }
    case CodecKind::topk:
      if (tensor.values.size() != tensor.indices.size()) {
        return length_mismatch("top-k values", tensor.values.size(), tensor.indices.size());
      }
      if (tensor.indices.size() > count) {
        return Status(StatusCode::out_of_range, "top-k keeps " + std::to_string(tensor.indices.size()) +
                                                    " entries of " + std::to_string(count));
      }
      return Status();
  }
  return Status(StatusCode::unknown_enum,
                "codec kind " + std::to_string(static_cast<int>(tensor.kind)));
}

}  // namespace edgefl
