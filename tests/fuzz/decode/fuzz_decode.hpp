// The decode path under fuzzing: one entry used by the libFuzzer target and by the ctest that
// replays the corpus under g++.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgefl::fuzz {

// Runs the whole decode path on `data` as a message (in place and from a misaligned copy) and
// as a checkpoint, decoding any payload into a flat buffer. Returns 0; a bug crashes or trips
// a sanitizer.
int decode_everything(const uint8_t* data, std::size_t size);

}  // namespace edgefl::fuzz
