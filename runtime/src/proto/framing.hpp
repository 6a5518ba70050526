// The untrusted-bytes half of decoding, shared by wire messages and checkpoints:
// size limit -> length prefix -> identifier -> aligned copy -> FlatBuffers Verifier -> version.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "edgefl/proto/aligned_bytes.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::proto_detail {

static_assert(FLATBUFFERS_LITTLEENDIAN, "payload views read FlatBuffers vectors in place");

// What a framed buffer is: its 4-byte FlatBuffers file identifier and a name for errors.
struct Format {
  const char* identifier;
  std::string_view what;     // "message", "checkpoint"
  uint16_t major;            // the major version this build speaks
};

// Checks size, length prefix and identifier, then returns the bytes at an aligned address:
// `bytes` itself when aligned, else a copy in `scratch`.
Result<std::span<const uint8_t>> frame(std::span<const uint8_t> bytes, AlignedBytes& scratch,
                                       const DecodeLimits& limits, const Format& format);

// Explains a failed full verification: out_of_range (passes with loose depth/table limits),
// misaligned (the root table sits off its 4-byte alignment), corrupt (anything else).
Status classify_verify_failure(bool passes_with_loose_limits, bool root_misaligned,
                               const Format& format);

Status check_version(uint16_t version, const Format& format);

flatbuffers::Verifier::Options verifier_options(uint32_t max_depth, uint32_t max_tables,
                                                bool check_alignment);

// Full verification of a size-prefixed buffer with root Root. When it fails, reads only the
// root's version field (field 0 by the evolution rule) so a peer of another major version gets
// version_mismatch rather than corrupt.
template <typename Root>
Status verify(std::span<const uint8_t> aligned, const DecodeLimits& limits, const Format& format,
              flatbuffers::voffset_t version_field) {
  auto run = [&](uint32_t depth, uint32_t tables, bool alignment) {
    flatbuffers::Verifier verifier(aligned.data(), aligned.size(),
                                   verifier_options(depth, tables, alignment));
    return verifier.template VerifySizePrefixedBuffer<Root>(format.identifier);
  };
  if (run(limits.max_depth, limits.max_tables, true)) {
    const auto* root = reinterpret_cast<const flatbuffers::Table*>(
        flatbuffers::GetSizePrefixedRoot<Root>(aligned.data()));
    return check_version(root->GetField<uint16_t>(version_field, 0), format);
  }
  flatbuffers::Verifier header(aligned.data(), aligned.size(),
                               verifier_options(limits.max_depth, limits.max_tables, true));
  const flatbuffers::uoffset_t root_offset = header.VerifyOffset(sizeof(flatbuffers::uoffset_t));
  if (root_offset != 0) {
    // Generated tables inherit Table privately; the root is a Table at this address.
    const auto* root = reinterpret_cast<const flatbuffers::Table*>(
        aligned.data() + sizeof(flatbuffers::uoffset_t) + root_offset);
    if (root->VerifyTableStart(header) &&
        root->VerifyField<uint16_t>(header, version_field, sizeof(uint16_t))) {
      EDGEFL_RETURN_IF_ERROR(check_version(root->GetField<uint16_t>(version_field, 0), format));
    }
  }
  // Re-verifying without alignment checks would make FlatBuffers itself read misaligned
  // memory (undefined behaviour), so "misaligned" is judged from the root table's position:
  // a buffer framed at an offset that is not a multiple of 4 shifts every table and vector with it.
  const std::size_t root_position = sizeof(flatbuffers::uoffset_t) + root_offset;
  constexpr uint32_t kLooseDepth = 64;
  constexpr uint32_t kLooseTables = 1000000;
  return classify_verify_failure(run(kLooseDepth, kLooseTables, true),
                                 root_offset != 0 && root_position % 4 != 0, format);
}

}  // namespace edgefl::proto_detail
