#include "edgefl/base/model_hash.hpp"

#include <cstring>

namespace edgefl {

uint32_t model_hash(std::span<const float> values) {
  uint32_t hash = 2166136261u;
  for (float value : values) {
    uint32_t word;
    std::memcpy(&word, &value, sizeof word);
    hash = (hash ^ word) * 16777619u;
  }
  return hash;
}

}  // namespace edgefl
