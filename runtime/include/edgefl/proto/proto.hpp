// proto: encode and decode wire messages (the only code that touches FlatBuffers).
//
//   // send
//   edgefl::Result<std::vector<uint8_t>> bytes = edgefl::encode_message(edgefl::Update{...});
//
//   // receive (one scratch per loop; `frame` may be misaligned)
//   edgefl::AlignedBytes scratch;
//   edgefl::Result<edgefl::DecodedMessage> got = edgefl::decode_message(frame, scratch, limits);
//   if (!got) { reply Reject{got.status().code()}; return; }
//   if (auto* update = std::get_if<edgefl::Update>(&got->message)) {
//     edgefl::Status s = got->payload_into(scratch_params.span());   // shape + values checked
//   }
//
// Decode path: size limit -> (copy into aligned memory when the input is misaligned) ->
// FlatBuffers Verifier with the limits' depth/table bounds -> protocol version -> semantic
// checks (known enums, finite numbers, sane counts and lengths, payload shape, model spec
// against payload size) -> typed Message. Payload values are checked while they are written
// by payload_into, in the same pass. Each failure has its own StatusCode: too_large,
// truncated, corrupt, misaligned (offsets inside the buffer), out_of_range, version_mismatch,
// unknown_enum, non_finite, shape_mismatch.
//
// Zero-copy: a decoded Task/Update payload is a view into the verified bytes — into `bytes`
// when they were already aligned, else into `scratch`. Keep both alive and unchanged while the
// message is used. The wire format is little-endian (every supported target is).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "edgefl/proto/aligned_bytes.hpp"
#include "edgefl/proto/messages.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

// Bounds on the work and memory a hostile message can cause. Defaults fit the largest model a
// ModelSpec allows; servers pass tighter ones (max_message_bytes from their configuration).
struct DecodeLimits {
  std::size_t max_message_bytes = std::size_t{64} << 20;  // also set as ZMQ_MAXMSGSIZE
  uint32_t max_depth = 16;                                 // FlatBuffers verifier nesting
  uint32_t max_tables = 256;                               // FlatBuffers verifier table count
  std::size_t max_string_bytes = 4096;                     // ids, spec text, messages
  std::size_t max_list_entries = 1u << 16;                 // codec lists, trajectories, id lists
  std::size_t max_parameters = ModelSpec::kMaxParameters;  // tensor parameter_count
};

struct DecodedMessage {
  uint16_t version = 0;
  Message message;

  MessageType type() const { return message_type(message); }
  // The parameters a message carries: a Task's params, an Update's payload, a PeerModel's
  // params, a PeerAssignment's start params, a PeerReport's snapshot (when it has one);
  // nullptr for other messages.
  const TensorView* payload() const;
  // Decodes the payload into `out`, checking its size (shape_mismatch) and every value.
  // failed_precondition for messages without a payload. On error `out` is unspecified.
  Status payload_into(std::span<float> out) const;
};

// Encodes one envelope (size-prefixed FlatBuffer). Checks what the receiver would refuse
// (unknown enums, non-finite settings, payload shape) so a bad message fails at the sender.
// `version` is for tests and tools; peers always send kProtocolVersion.
Result<std::vector<uint8_t>> encode_message(const Message& message,
                                            uint16_t version = kProtocolVersion);

Result<DecodedMessage> decode_message(std::span<const uint8_t> bytes, AlignedBytes& scratch,
                                      const DecodeLimits& limits = {});

}  // namespace edgefl
