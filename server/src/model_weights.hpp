// A model's weights in files other tools read and write: safetensors with PyTorch state_dict
// names (edgefl/io/model_tensors.hpp) and ONNX graphs (server/onnx/onnx_model.hpp).
//
//   auto loaded = load_weights("init.safetensors", spec, imported.tensor_names);
//   EDGEFL_RETURN_IF_ERROR(write_model_file(ModelFormat::onnx, "m.onnx", spec, params,
//   loaded->names, {}));
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::server {

enum class ModelFormat : uint8_t { safetensors, onnx };
Result<ModelFormat> parse_model_format(std::string_view name);  // "safetensors" | "onnx"
std::string_view model_format_extension(ModelFormat format);    // ".safetensors" | ".onnx"

struct LoadedWeights {
  std::vector<float> params;       // the runtime's layout
  std::vector<std::string> names;  // the file's name of each tensor, in the model's order
};

// Reads a safetensors file of the model's tensors in PyTorch's layouts: matched by name when
// every one of `names` is in the file (empty: layers.i.weight, ...), otherwise in the file's
// order. Errors name the file, and the tensor and both shapes on a mismatch.
Result<LoadedWeights> load_weights(const std::string& path, const ModelSpec& spec,
                                   std::span<const std::string> names = {});

// Writes the model (atomically). names: one per parameter tensor, or empty for the defaults;
// metadata goes into a safetensors file (ONNX: the model spec only).
Status write_model_file(ModelFormat format, const std::string& path, const ModelSpec& spec,
                        std::span<const float> params, std::span<const std::string> names,
                        std::vector<std::pair<std::string, std::string>> metadata);

}  // namespace edgefl::server
