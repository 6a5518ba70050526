#include "tensor_table.hpp"

#include <string>

namespace edgefl::proto_detail {
namespace {

template <typename T>
flatbuffers::Offset<flatbuffers::Vector<T>> write_vector(flatbuffers::FlatBufferBuilder& builder,
                                                         std::span<const T> values) {
  if (values.empty()) return 0;  // absent field
  return builder.CreateVector(values.data(), values.size());
}

template <typename T>
std::span<const T> view_of(const flatbuffers::Vector<T>* vector) {
  if (vector == nullptr) return {};
  return {vector->data(), vector->size()};
}

}  // namespace

flatbuffers::Offset<fb::EncodedTensor> write_tensor(flatbuffers::FlatBufferBuilder& builder,
                                                    const TensorView& tensor) {
  // Vectors first: FlatBuffers builds children before the table that refers to them.
  const auto f32 = write_vector(builder, tensor.f32);
  const auto f16 = write_vector(builder, tensor.f16);
  const auto scales = write_vector(builder, tensor.scales);
  const auto int8 = write_vector(builder, tensor.int8);
  const auto indices = write_vector(builder, tensor.indices);
  const auto values = write_vector(builder, tensor.values);
  return fb::CreateEncodedTensor(builder, static_cast<fb::Codec>(tensor.kind),
                                 tensor.parameter_count, f32, f16, tensor.block_size, scales, int8,
                                 indices, values);
}

Result<TensorView> read_tensor(const fb::EncodedTensor* table, const DecodeLimits& limits,
                               std::string_view what) {
  if (table == nullptr) return Status(StatusCode::corrupt, std::string(what) + " is missing");
  const auto raw_kind = static_cast<uint8_t>(table->codec());
  if (raw_kind >= kCodecKindCount) {
    return Status(StatusCode::unknown_enum,
                  std::string(what) + " has unknown codec " + std::to_string(raw_kind));
  }
  if (table->parameter_count() > limits.max_parameters) {
    return Status(StatusCode::too_large, std::string(what) + " has " +
                                             std::to_string(table->parameter_count()) +
                                             " parameters, limit is " +
                                             std::to_string(limits.max_parameters));
  }
  TensorView view;
  view.kind = static_cast<CodecKind>(raw_kind);
  view.parameter_count = table->parameter_count();
  view.f32 = view_of(table->f32_values());
  view.f16 = view_of(table->f16_values());
  view.block_size = table->block_size();
  view.scales = view_of(table->scales());
  view.int8 = view_of(table->int8_values());
  view.indices = view_of(table->indices());
  view.values = view_of(table->values());
  Status shape = check_tensor_shape(view);
  if (!shape.ok()) return shape.with_context(what);
  return view;
}

std::size_t tensor_bytes(const TensorView& t) {
  constexpr std::size_t kTableOverhead = 128;
  return kTableOverhead + t.f32.size_bytes() + t.f16.size_bytes() + t.scales.size_bytes() +
         t.int8.size_bytes() + t.indices.size_bytes() + t.values.size_bytes();
}

}  // namespace edgefl::proto_detail
