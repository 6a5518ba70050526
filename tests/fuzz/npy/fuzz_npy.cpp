// One .npy file per input. The parser returns a status or an array whose payload is exactly
// its shape's size, and every element converts.
#include <cstdlib>
#include <vector>

#include "edgefl/data/npy_reader.hpp"
#include "fuzz_entry.hpp"

namespace edgefl::fuzz {

int run_one(const uint8_t* data, std::size_t size) {
  Result<NpyArray> array = parse_npy(std::vector<uint8_t>(data, data + size), "input.npy");
  if (!array.ok()) {
    if (array.status().code() == StatusCode::ok || array.status().message().empty()) std::abort();
    return 0;
  }
  std::size_t elements = 1;
  for (uint64_t d : array->shape) elements *= static_cast<std::size_t>(d);
  if (array->data.size() != elements * npy_type_size(array->type)) std::abort();
  double sum = 0;
  for (std::size_t i = 0; i < array->element_count(); ++i) sum += array->value(i);
  (void)array->shape_text();
  (void)sum;
  return 0;
}

}  // namespace edgefl::fuzz
