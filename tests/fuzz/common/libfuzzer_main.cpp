// libFuzzer entry point of every target built by edgefl_add_fuzz_target (EDGEFL_FUZZ=ON).
#include "fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return edgefl::fuzz::run_one(data, size);
}
