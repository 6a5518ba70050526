// The named parameter tensors of a model, as PyTorch names them, for exchanging weights.
//
//   auto file = edgefl::model_tensors(spec, params);          // mlp:784-256-10:relu
//   file->tensors[0].name;   // "layers.0.weight", shape {256, 784}
//   file->tensors[2].name;   // "layers.2.weight" (module 1 is the ReLU), shape {10, 256}
//
// Names are the state_dict keys of a module whose attribute `layers` is the
// torch.nn.Sequential(Linear, ReLU, Linear, ..., Linear) of the spec: Dense layer k is module 2k,
// its weight [outputs, inputs] and bias [outputs] (none for linear:D-1 models). The metadata
// records the model spec (key "edgefl.model") and "format": "pt".
#pragma once

#include <span>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/io/safetensors.hpp"

namespace edgefl {

// shape_mismatch when params does not hold exactly the spec's parameter count.
Result<SafetensorsFile> model_tensors(const ModelSpec& spec, std::span<const float> params);

}  // namespace edgefl
