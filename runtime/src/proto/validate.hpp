// Semantic checks on typed messages, run by the sender before encoding and by the receiver
// after verification, so both sides refuse exactly the same things.
#pragma once

#include <string_view>

#include "edgefl/proto/messages.hpp"
#include "edgefl/proto/proto.hpp"

namespace edgefl::proto_detail {

Status validate_message(const Message& message, const DecodeLimits& limits);

// Shared with checkpoints.
Status check_string(std::string_view text, std::string_view what, const DecodeLimits& limits);
Status check_list(std::size_t entries, std::string_view what, const DecodeLimits& limits);
// Parses the spec text and checks that `tensor` has exactly its parameter count.
Result<ModelSpec> check_spec_and_tensor(std::string_view spec_text, const TensorView& tensor,
                                        std::string_view what, const DecodeLimits& limits);

}  // namespace edgefl::proto_detail
