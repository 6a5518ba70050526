// Server checkpoint bytes: global model, optimizer state, round bookkeeping, RNG state.
//
//   edgefl::Checkpoint cp{.round = r, .model_version = v, .model_spec = spec.to_string(),
//                         .params = edgefl::f32_tensor(params.span())};
//   cp.optimizer_state.push_back({"momentum", edgefl::f32_tensor(momentum.span())});
//   auto bytes = edgefl::encode_checkpoint(cp);        // the store writes these atomically
//
//   edgefl::AlignedBytes scratch;
//   auto loaded = edgefl::decode_checkpoint(file_bytes, scratch);
//   edgefl::decode_into(loaded->params, params.span());  // checks every value
//
// Decoding follows the wire path (size, alignment, verifier, version, semantic checks): the
// spec must parse and every tensor must have exactly its parameter count (shape_mismatch),
// state names must be non-empty and unique. Tensor views point into `bytes` or `scratch`.
// From format 1.3 a checkpoint carries a CRC-32 of all its bytes: a checkpoint whose checksum
// does not match, or a 1.3 checkpoint without one, is corrupt (one flipped parameter byte
// would otherwise resume into a different model). Older checkpoints have none and still load.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "edgefl/proto/aligned_bytes.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

inline constexpr uint16_t kCheckpointFormatVersion = 0x0103;  // major << 8 | minor

struct NamedTensor {
  std::string name;   // "momentum", "adam_m", "adam_v", ...
  TensorView tensor;
};

struct NamedScalar {
  std::string name;   // "fedbuff.count", ...
  double value = 0;   // finite
  bool operator==(const NamedScalar&) const = default;
};

struct Checkpoint {
  uint64_t round = 0;                          // the open round
  uint64_t model_version = 0;
  std::string model_spec;
  TensorView params;
  std::vector<NamedTensor> optimizer_state;    // same length as params each
  std::vector<uint64_t> open_round_update_ids; // accepted into the open round
  std::vector<uint64_t> rng_state;             // opaque generator words
  uint64_t created_unix_ms = 0;
  std::vector<NamedScalar> scalars;            // unique non-empty names, finite values
};

Result<std::vector<uint8_t>> encode_checkpoint(const Checkpoint& checkpoint);
Result<Checkpoint> decode_checkpoint(std::span<const uint8_t> bytes, AlignedBytes& scratch,
                                     const DecodeLimits& limits = {});

}  // namespace edgefl
