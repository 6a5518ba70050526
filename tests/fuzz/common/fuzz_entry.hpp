// The one function each fuzz target defines: feed it any bytes; it returns 0, and a bug
// crashes, aborts or trips a sanitizer. Linked both into a libFuzzer binary (EDGEFL_FUZZ=ON,
// clang) and into a ctest that replays the target's seed corpus under any compiler.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgefl::fuzz {

int run_one(const uint8_t* data, std::size_t size);

}  // namespace edgefl::fuzz
