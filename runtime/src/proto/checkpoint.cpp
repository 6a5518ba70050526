// Checkpoint <-> size-prefixed FlatBuffer, through the same framing and verifier as messages.
#include "edgefl/proto/checkpoint.hpp"

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "edgefl/schema/checkpoint_generated.h"
#include "framing.hpp"
#include "read_helpers.hpp"
#include "tensor_table.hpp"

namespace edgefl {
namespace {

constexpr proto_detail::Format kCheckpointFormat{"EFCK", "checkpoint", kCheckpointFormatVersion >> 8};
constexpr uint16_t kFirstChecksummedVersion = 0x0103;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
// Fuzzing builds only (tests/fuzz): a mutated input almost never keeps its checksum, and the
// fields behind it are what the fuzzer is for. The mismatch is still computed.
constexpr bool kEnforceChecksum = false;
#else
constexpr bool kEnforceChecksum = true;
#endif
// Written first, then replaced by the checksum: non-zero so FlatBuffers stores the field.
constexpr uint32_t kChecksumPlaceholder = 0xffffffffu;

// CRC-32 of `buffer` with the 4 checksum bytes at `at` read as zero.
uint32_t checksum_of(std::span<const uint8_t> buffer, std::size_t at) {
  static constexpr uint8_t kZeros[4] = {};
  uLong crc = crc32(0L, Z_NULL, 0);
  auto feed = [&crc](const uint8_t* data, std::size_t size) {
    while (size != 0) {  // zlib takes uInt lengths
      const std::size_t chunk = size < (std::size_t{1} << 30) ? size : (std::size_t{1} << 30);
      crc = crc32(crc, data, static_cast<uInt>(chunk));
      data += chunk;
      size -= chunk;
    }
  };
  feed(buffer.data(), at);
  feed(kZeros, sizeof kZeros);
  feed(buffer.data() + at + 4, buffer.size() - at - 4);
  return static_cast<uint32_t>(crc);
}

uint32_t read_u32_le(const uint8_t* in) {
  return static_cast<uint32_t>(in[0]) | static_cast<uint32_t>(in[1]) << 8 |
         static_cast<uint32_t>(in[2]) << 16 | static_cast<uint32_t>(in[3]) << 24;
}

// Where the checksum field sits in a verified buffer, or nullptr when the table has none.
const uint8_t* checksum_field(const fb::Checkpoint* root) {
  return reinterpret_cast<const flatbuffers::Table*>(root)->GetAddressOf(fb::Checkpoint::VT_CHECKSUM);
}

Status check_checksum(std::span<const uint8_t> buffer, const fb::Checkpoint* root) {
  const uint8_t* field = checksum_field(root);
  if (field == nullptr) {
    if (root->format_version() < kFirstChecksummedVersion) return Status();  // written before 1.3
    return Status(StatusCode::corrupt, "checkpoint of format 1.3 or later carries no checksum");
  }
  const std::size_t at = static_cast<std::size_t>(field - buffer.data());
  const uint32_t stored = read_u32_le(field);
  const uint32_t computed = checksum_of(buffer, at);
  if (stored != computed && kEnforceChecksum) {
    char detail[96];
    std::snprintf(detail, sizeof detail, "stored %08x, computed %08x", stored, computed);
    return Status(StatusCode::corrupt,
                  std::string("checkpoint checksum mismatch (") + detail + "): the file is damaged");
  }
  return Status();
}

Status validate(const Checkpoint& cp, const DecodeLimits& limits) {
  Result<ModelSpec> spec =
      proto_detail::check_spec_and_tensor(cp.model_spec, cp.params, "checkpoint.params", limits);
  if (!spec) return spec.status();
  EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(cp.optimizer_state.size(), "checkpoint.optimizer_state", limits));
  EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(cp.open_round_update_ids.size(), "checkpoint.open_round_update_ids", limits));
  EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(cp.rng_state.size(), "checkpoint.rng_state", limits));
  std::set<std::string_view> names;
  for (const NamedTensor& state : cp.optimizer_state) {
    EDGEFL_RETURN_IF_ERROR(proto_detail::check_string(state.name, "optimizer state name", limits));
    if (state.name.empty() || !names.insert(state.name).second) {
      return Status(StatusCode::corrupt, "optimizer state name '" + state.name + "' is empty or repeated");
    }
    Result<ModelSpec> checked = proto_detail::check_spec_and_tensor(
        cp.model_spec, state.tensor, "optimizer state " + state.name, limits);
    if (!checked) return checked.status();
  }
  EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(cp.scalars.size(), "checkpoint.scalars", limits));
  std::set<std::string_view> scalar_names;
  for (const NamedScalar& scalar : cp.scalars) {
    EDGEFL_RETURN_IF_ERROR(proto_detail::check_string(scalar.name, "scalar name", limits));
    if (scalar.name.empty() || !scalar_names.insert(scalar.name).second) {
      return Status(StatusCode::corrupt, "scalar name '" + scalar.name + "' is empty or repeated");
    }
    if (!std::isfinite(scalar.value)) {
      return Status(StatusCode::non_finite, "checkpoint scalar '" + scalar.name + "' is not finite");
    }
  }
  return Status();
}

}  // namespace

Result<std::vector<uint8_t>> encode_checkpoint(const Checkpoint& cp) {
  EDGEFL_RETURN_IF_ERROR(validate(cp, DecodeLimits{}).with_context("encoding checkpoint"));
  try {
    std::size_t hint = 4096 + proto_detail::tensor_bytes(cp.params);
    for (const NamedTensor& state : cp.optimizer_state) hint += proto_detail::tensor_bytes(state.tensor);
    flatbuffers::FlatBufferBuilder b(hint);
    const auto params = proto_detail::write_tensor(b, cp.params);
    std::vector<flatbuffers::Offset<fb::NamedTensor>> states;
    for (const NamedTensor& state : cp.optimizer_state) {
      const auto tensor = proto_detail::write_tensor(b, state.tensor);
      const auto name = b.CreateString(state.name);
      states.push_back(fb::CreateNamedTensor(b, name, tensor));
    }
    const auto state_vector = b.CreateVector(states);
    const auto spec = b.CreateString(cp.model_spec);
    const auto ids = b.CreateVector(cp.open_round_update_ids);
    const auto rng = b.CreateVector(cp.rng_state);
    std::vector<flatbuffers::Offset<fb::NamedScalar>> scalars;
    for (const NamedScalar& scalar : cp.scalars) {
      scalars.push_back(fb::CreateNamedScalar(b, b.CreateString(scalar.name), scalar.value));
    }
    const auto scalar_vector = b.CreateVector(scalars);
    const auto root =
        fb::CreateCheckpoint(b, kCheckpointFormatVersion, cp.round, cp.model_version, spec, params,
                             state_vector, ids, rng, cp.created_unix_ms, scalar_vector, kChecksumPlaceholder);
    fb::FinishSizePrefixedCheckpointBuffer(b, root);
    std::vector<uint8_t> out(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
    const uint8_t* field = checksum_field(fb::GetSizePrefixedCheckpoint(out.data()));
    const std::size_t at = static_cast<std::size_t>(field - out.data());
    const uint32_t crc = checksum_of(out, at);
    for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(crc >> (8 * i));
    return out;
  } catch (const std::exception& e) {  // allocation failure inside FlatBuffers
    return Status(StatusCode::resource_exhausted, std::string("encoding checkpoint: ") + e.what());
  }
}

Result<Checkpoint> decode_checkpoint(std::span<const uint8_t> bytes, AlignedBytes& scratch,
                                     const DecodeLimits& limits) {
  Result<std::span<const uint8_t>> aligned =
      proto_detail::frame(bytes, scratch, limits, kCheckpointFormat);
  if (!aligned) return aligned.status();
  EDGEFL_RETURN_IF_ERROR(proto_detail::verify<fb::Checkpoint>(
      *aligned, limits, kCheckpointFormat, fb::Checkpoint::VT_FORMAT_VERSION));
  const fb::Checkpoint* in = fb::GetSizePrefixedCheckpoint(aligned->data());
  // Before any field is trusted: structure can be valid while a value was flipped.
  EDGEFL_RETURN_IF_ERROR(check_checksum(*aligned, in));

  Checkpoint cp;
  cp.round = in->round();
  cp.model_version = in->model_version();
  cp.created_unix_ms = in->created_unix_ms();
  EDGEFL_ASSIGN(cp.model_spec, proto_detail::read_string(in->model_spec(), "checkpoint.model_spec", limits));
  EDGEFL_ASSIGN(cp.params, proto_detail::read_tensor(in->params(), limits, "checkpoint.params"));
  if (const auto* states = in->optimizer_state()) {
    EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(states->size(), "checkpoint.optimizer_state", limits));
    for (const fb::NamedTensor* state : *states) {
      NamedTensor named;
      EDGEFL_ASSIGN(named.name, proto_detail::read_string(state->name(), "optimizer state name", limits));
      EDGEFL_ASSIGN(named.tensor, proto_detail::read_tensor(state->tensor(), limits, "optimizer state"));
      cp.optimizer_state.push_back(std::move(named));
    }
  }
  EDGEFL_ASSIGN(cp.open_round_update_ids,
                (proto_detail::read_list<uint64_t>(in->open_round_update_ids(),
                                                   "checkpoint.open_round_update_ids", limits)));
  EDGEFL_ASSIGN(cp.rng_state, (proto_detail::read_list<uint64_t>(in->rng_state(), "checkpoint.rng_state", limits)));
  if (const auto* scalars = in->scalars()) {
    EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(scalars->size(), "checkpoint.scalars", limits));
    for (const fb::NamedScalar* scalar : *scalars) {
      NamedScalar named;
      EDGEFL_ASSIGN(named.name, proto_detail::read_string(scalar->name(), "scalar name", limits));
      named.value = scalar->value();
      cp.scalars.push_back(std::move(named));
    }
  }
  EDGEFL_RETURN_IF_ERROR(validate(cp, limits));
  return cp;
}

}  // namespace edgefl
