#include "edgefl/io/model_tensors.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>

namespace edgefl {

namespace {

std::string shape_text(std::span<const uint64_t> shape) {
  std::string text = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? ", " : "") + std::to_string(shape[k]);
  return text + "]";
}

// The HxWxC activation a Dense layer reads flattened, if any: a flatten layer before it with
// only shape-keeping layers in between. PyTorch's nn.Flatten orders it C,H,W.
std::optional<Shape> flattened_source(const std::vector<LayerGeometry>& layers, std::size_t dense) {
  for (std::size_t j = dense; j-- > 0;) {
    const LayerKind kind = layers[j].spec.kind;
    if (kind == LayerKind::flatten) return layers[j].in;
    if (kind != LayerKind::relu && kind != LayerKind::relu6 && kind != LayerKind::dropout) break;
  }
  return std::nullopt;
}

std::vector<std::size_t> identity(std::size_t n) {
  std::vector<std::size_t> index(n);
  for (std::size_t r = 0; r < n; ++r) index[r] = r;
  return index;
}

// PyTorch's shape and element order of a layer's weights.
TorchTensorLayout weight_layout(const std::vector<LayerGeometry>& layers, std::size_t i) {
  const LayerGeometry& g = layers[i];
  const ParamTensor& w = g.params[0];
  TorchTensorLayout layout{i, {}, w.offset, {}};
  layout.torch_index.resize(w.size());
  const std::size_t kh = g.spec.kernel_h, kw = g.spec.kernel_w, c = g.in.c;
  switch (g.spec.kind) {
    case LayerKind::conv2d: {
      const std::size_t o = g.spec.units;
      layout.shape =
          g.spec.conv1d ? std::vector<uint64_t>{o, c, kw} : std::vector<uint64_t>{o, c, kh, kw};
      std::size_t r = 0;  // runtime [o][y][x][ci], PyTorch [o][ci][y][x]
      for (std::size_t f = 0; f < o; ++f)
        for (std::size_t y = 0; y < kh; ++y)
          for (std::size_t x = 0; x < kw; ++x)
            for (std::size_t ci = 0; ci < c; ++ci)
              layout.torch_index[r++] = ((f * c + ci) * kh + y) * kw + x;
      break;
    }
    case LayerKind::depthwise_conv2d: {
      layout.shape = {c, 1, kh, kw};
      std::size_t r = 0;  // runtime [y][x][ci], PyTorch [ci][0][y][x]
      for (std::size_t y = 0; y < kh; ++y)
        for (std::size_t x = 0; x < kw; ++x)
          for (std::size_t ci = 0; ci < c; ++ci) layout.torch_index[r++] = (ci * kh + y) * kw + x;
      break;
    }
    default: {  // dense
      const std::size_t in = g.in.size(), out = g.spec.units;
      layout.shape = {out, in};
      const std::optional<Shape> source = flattened_source(layers, i);
      const std::vector<std::size_t> order = source ? nchw_flatten_order(*source) : identity(in);
      for (std::size_t o = 0; o < out; ++o)
        for (std::size_t r = 0; r < in; ++r) layout.torch_index[o * in + r] = o * in + order[r];
      break;
    }
  }
  return layout;
}

}  // namespace

std::vector<std::size_t> nchw_flatten_order(Shape in) {
  std::vector<std::size_t> order(in.size());
  std::size_t r = 0;
  for (std::size_t y = 0; y < in.h; ++y)
    for (std::size_t x = 0; x < in.w; ++x)
      for (std::size_t c = 0; c < in.c; ++c) order[r++] = (c * in.h + y) * in.w + x;
  return order;
}

std::vector<TorchTensorLayout> torch_layouts(const ModelSpec& spec) {
  const std::vector<LayerGeometry> layers = spec.geometry();
  std::vector<TorchTensorLayout> layouts;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].params.empty()) continue;
    layouts.push_back(weight_layout(layers, i));
    if (layers[i].params.size() > 1) {
      const ParamTensor& bias = layers[i].params[1];
      layouts.push_back({i, {bias.shape[0]}, bias.offset, identity(bias.size())});
    }
  }
  return layouts;
}

std::vector<std::string> default_tensor_names(const ModelSpec& spec) {
  std::vector<std::string> names;
  std::size_t previous = spec.layers.size();
  for (const TorchTensorLayout& layout : torch_layouts(spec)) {
    const bool bias = layout.layer == previous;
    names.push_back("layers." + std::to_string(layout.layer) + (bias ? ".bias" : ".weight"));
    previous = layout.layer;
  }
  return names;
}

Result<SafetensorsFile> model_tensors(const ModelSpec& spec, std::span<const float> params,
                                      std::span<const std::string> names) {
  if (params.size() != spec.parameter_count()) {
    return make_status(StatusCode::shape_mismatch, "model '" + spec.to_string() + "' has " +
                                                       std::to_string(spec.parameter_count()) +
                                                       " parameters, not " +
                                                       std::to_string(params.size()));
  }
  const std::vector<TorchTensorLayout> layouts = torch_layouts(spec);
  std::vector<std::string> defaults;
  if (names.empty()) {
    defaults = default_tensor_names(spec);
    names = defaults;
  }
  if (names.size() != layouts.size()) {
    return make_status(StatusCode::shape_mismatch,
                       "model '" + spec.to_string() + "' has " + std::to_string(layouts.size()) +
                           " tensors, not " + std::to_string(names.size()) + " names");
  }
  SafetensorsFile file;
  file.metadata = {{"format", "pt"}, {"edgefl.model", spec.to_string()}};
  for (std::size_t t = 0; t < layouts.size(); ++t) {
    const TorchTensorLayout& layout = layouts[t];
    std::vector<float> values(layout.torch_index.size());
    for (std::size_t r = 0; r < values.size(); ++r)
      values[layout.torch_index[r]] = params[layout.offset + r];
    file.tensors.push_back({names[t], layout.shape, std::move(values)});
  }
  return file;
}

Status params_from_tensors(const ModelSpec& spec, std::span<const ShapedTensor> tensors,
                           std::span<float> params) {
  const std::vector<TorchTensorLayout> layouts = torch_layouts(spec);
  if (tensors.size() != layouts.size() || params.size() != spec.parameter_count()) {
    return make_status(StatusCode::shape_mismatch,
                       "model '" + spec.to_string() + "' has " + std::to_string(layouts.size()) +
                           " parameter tensors, not " + std::to_string(tensors.size()));
  }
  for (std::size_t t = 0; t < layouts.size(); ++t) {
    const TorchTensorLayout& layout = layouts[t];
    const ShapedTensor& tensor = tensors[t];
    if (tensor.shape != layout.shape || tensor.values.size() != layout.torch_index.size()) {
      return make_status(StatusCode::shape_mismatch, "tensor '" + tensor.name + "' has shape " +
                                                         shape_text(tensor.shape) + ", but layer " +
                                                         std::to_string(layout.layer) + " (" +
                                                         describe(spec.layers[layout.layer]) +
                                                         ") needs " + shape_text(layout.shape));
    }
    for (std::size_t r = 0; r < layout.torch_index.size(); ++r)
      params[layout.offset + r] = tensor.values[layout.torch_index[r]];
  }
  return Status();
}

Result<std::vector<ShapedTensor>> select_model_tensors(SafetensorsFile file,
                                                       std::span<const std::string> names,
                                                       std::string_view origin) {
  const std::string where(origin);
  if (file.tensors.size() != names.size()) {
    return make_status(StatusCode::shape_mismatch,
                       where + ": " + std::to_string(file.tensors.size()) +
                           " tensors, but the model has " + std::to_string(names.size()));
  }
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t t = 0; t < file.tensors.size(); ++t) index.emplace(file.tensors[t].name, t);
  const bool by_name = std::all_of(names.begin(), names.end(),
                                   [&](const std::string& n) { return index.contains(n); });
  if (!by_name) return std::move(file.tensors);  // a state_dict in its own order
  std::vector<ShapedTensor> tensors;
  for (const std::string& name : names) tensors.push_back(std::move(file.tensors[index.at(name)]));
  return tensors;
}

}  // namespace edgefl
