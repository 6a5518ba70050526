// The named parameter tensors of a model, in PyTorch's layouts, for exchanging weights.
//
//   auto file = edgefl::model_tensors(spec, params);   // in:8x8x1 conv3x3x4 relu flatten dense10
//   file->tensors[0].name;   // "layers.0.weight", shape {4, 1, 3, 3} (OIHW)
//   file->tensors[2].name;   // "layers.3.weight", shape {10, 256}, inputs in C,H,W order
//
// Default names are the state_dict keys of a module whose attribute `layers` is a
// torch.nn.Sequential with one module per layer of the spec: layer i's tensors are
// `layers.i.weight` and `layers.i.bias` (an MLP's Dense layers are modules 0, 2, 4: ReLUs sit
// between them). The metadata records the model spec (key "edgefl.model") and "format": "pt".
//
// Layouts (the runtime's in docs/models.md):
//   conv2d      [filters][in_c][kh][kw] (OIHW); a conv1d layer [filters][in_c][k], as nn.Conv1d
//   depthwise   [c][1][kh][kw] (nn.Conv2d with groups = c)
//   dense       [out][in]; when the layer reads a flattened HxWxC activation (flatten, then
//               only relu, relu6 or dropout before it), `in` is in PyTorch's C,H,W order
//   bias        [n]
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/io/safetensors.hpp"

namespace edgefl {

// One parameter tensor of a model as PyTorch holds it.
struct TorchTensorLayout {
  std::size_t layer = 0;        // index in spec.layers
  std::vector<uint64_t> shape;  // PyTorch's shape
  std::size_t offset = 0;       // first float in the flat buffer
  // Element r of the runtime's tensor is element torch_index[r] of PyTorch's (C order).
  std::vector<std::size_t> torch_index;
};

// Every parameter tensor of the spec, in the flat buffer's order (weights, then bias, per layer).
std::vector<TorchTensorLayout> torch_layouts(const ModelSpec& spec);
// "layers.i.weight", "layers.i.bias", one per tensor of torch_layouts.
std::vector<std::string> default_tensor_names(const ModelSpec& spec);
// Flattening HxWxC: entry r (the runtime's H,W,C order) is PyTorch's index (C,H,W order).
std::vector<std::size_t> nchw_flatten_order(Shape in);

// shape_mismatch when params does not hold exactly the spec's parameter count or names (when
// not empty) is not one name per tensor.
Result<SafetensorsFile> model_tensors(const ModelSpec& spec, std::span<const float> params,
                                      std::span<const std::string> names = {});
// The inverse: tensors in the model's order and PyTorch's layouts into the flat buffer.
// shape_mismatch names the tensor, the layer and both shapes.
Status params_from_tensors(const ModelSpec& spec, std::span<const ShapedTensor> tensors,
                           std::span<float> params);
// The model's tensors out of a file: by name when every one of `names` is in it (extra tensors
// refused), otherwise in the file's order (a state_dict written in order); the count must be
// the model's. `origin` names the file in errors.
Result<std::vector<ShapedTensor>> select_model_tensors(SafetensorsFile file,
                                                       std::span<const std::string> names,
                                                       std::string_view origin);

}  // namespace edgefl
