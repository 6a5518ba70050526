// libFuzzer entry point (built only with -DEDGEFL_FUZZ=ON under clang).
#include "fuzz_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return edgefl::fuzz::decode_everything(data, size);
}
