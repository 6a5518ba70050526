// Model tables (protocol 1.5) <-> ModelSpec. Reading validates the layer list as
// ModelSpec::from_layers does, so a hostile table is refused with the same errors as text.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/schema/wire_generated.h"

namespace edgefl::proto_detail {

flatbuffers::Offset<fb::Model> write_model(flatbuffers::FlatBufferBuilder& builder,
                                           const ModelSpec& spec);

Result<ModelSpec> read_model(const fb::Model& table, const DecodeLimits& limits);

}  // namespace edgefl::proto_detail
