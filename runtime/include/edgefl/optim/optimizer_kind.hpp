// OptimizerKind: the local optimizers a device runs. Values are stable: they travel in Tasks.
#pragma once

#include <cstdint>

namespace edgefl {

enum class OptimizerKind : uint8_t { sgd = 0, momentum = 1, nesterov = 2, adamw = 3 };

}  // namespace edgefl
