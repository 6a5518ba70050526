// EncodedTensor tables <-> TensorView. Reading is zero-copy: spans point into the buffer.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <string_view>

#include "edgefl/codec/codec.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/schema/tensor_generated.h"

namespace edgefl::proto_detail {

flatbuffers::Offset<fb::EncodedTensor> write_tensor(flatbuffers::FlatBufferBuilder& builder,
                                                    const TensorView& tensor);

// Structural checks only (enum, count limit, vector lengths); values are checked by
// decode_into. A missing table is corrupt.
Result<TensorView> read_tensor(const fb::EncodedTensor* table, const DecodeLimits& limits,
                               std::string_view what);

// Bytes a tensor adds to a buffer, so builders can reserve once.
std::size_t tensor_bytes(const TensorView& tensor);

}  // namespace edgefl::proto_detail
