// LayerSpec: one layer of a model description, its shape rule and its parameter tensors.
//
// Activations are per-sample HWC tensors (height, width, channels; a vector is 1x1xD).
// A layer's compact token (ModelSpec's text form, docs/models.md) is its kind plus sizes:
//
//   conv3x3x16[,s2][,d2][,valid][,nobias]   Conv2D 3x3, 16 filters (stride 1, dilation 1, same, bias)
//   conv1d5x32[,s2][,d2][,valid][,nobias]   Conv2D 1x5 over a 1xWxC window (sensor time series)
//   dwconv3x3[,s2][,d2][,valid][,nobias]    DepthwiseConv2D, depth multiplier 1
//   maxpool2 / maxpool3x3[,s2][,same]       MaxPool2D (stride = the pool size, valid padding)
//   avgpool2 / avgpool3x3[,s2][,same]       AvgPool2D (padding cells are left out of the mean)
//   gap   flatten   relu   relu6             GlobalAvgPool, Flatten, ReLU, min(max(x, 0), 6)
//   dense10[,nobias]                        Dense to 10 outputs; its input must be 1x1xD
//   dropout0.25                             Dropout, rate in [0, 1); identity in evaluation
//
// Parameter tensors, in this order inside the layer's share of the flat buffer:
//   conv2d     weights [filters][kh][kw][in_c] (OHWI, the TFLite/XNNPACK layout), bias [filters]
//   depthwise  weights [kh][kw][c], bias [c]
//   dense      weights [out][in], bias [out]
// Padding "same" is TensorFlow's: output = ceil(in / stride), the extra row/column at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class LayerKind : uint8_t {
  dense,
  relu,
  relu6,
  conv2d,
  depthwise_conv2d,
  max_pool2d,
  avg_pool2d,
  global_avg_pool,
  flatten,
  dropout,
};
enum class Padding : uint8_t { same, valid };

struct Shape {
  std::size_t h = 1, w = 1, c = 1;
  std::size_t size() const { return h * w * c; }
  bool flat() const { return h == 1 && w == 1; }
  bool operator==(const Shape&) const = default;
};
std::string to_string(Shape shape);  // "28x28x1"

struct LayerSpec {
  LayerKind kind = LayerKind::dense;
  std::size_t units = 0;               // dense outputs, conv filters
  std::size_t kernel_h = 1, kernel_w = 1;  // conv kernel, pool window
  std::size_t stride_h = 1, stride_w = 1;
  std::size_t dilation_h = 1, dilation_w = 1;
  Padding padding = Padding::same;
  bool bias = true;
  bool conv1d = false;  // conv2d written as conv1d: kernel 1xK, for a 1xWxC input
  float rate = 0.0f;    // dropout

  // Constructors of the common layers; the fields above cover the rest.
  static LayerSpec dense_layer(std::size_t outputs, bool bias = true);
  static LayerSpec conv(std::size_t kh, std::size_t kw, std::size_t filters, std::size_t stride = 1,
                        Padding padding = Padding::same);
  static LayerSpec of(LayerKind kind);
  static LayerSpec pool(LayerKind kind, std::size_t size);

  bool has_parameters() const {
    return kind == LayerKind::dense || kind == LayerKind::conv2d || kind == LayerKind::depthwise_conv2d;
  }
  bool operator==(const LayerSpec&) const = default;
};

// One named tensor inside the flat parameter buffer.
struct ParamTensor {
  std::string name;                 // "weights" or "bias"
  std::size_t offset = 0;           // in floats, from the start of the flat buffer
  std::vector<std::size_t> shape;   // e.g. {filters, kh, kw, in_c}
  std::size_t size() const;
  bool operator==(const ParamTensor&) const = default;
};

// Kind name as used in messages and JSON ("conv2d", "max_pool2d", ...).
std::string_view layer_kind_name(LayerKind kind);
// "conv2d 5x5, stride 2, padding valid": what a validation message calls the layer.
std::string describe(const LayerSpec& layer);
// The compact token of the layer (the forms above, defaults left out).
std::string layer_token(const LayerSpec& layer);
// Parses one compact token; errors say what is wrong with it.
Result<LayerSpec> parse_layer_token(std::string_view token);

// Output shape for `in`, or invalid_argument naming the layer (index and description) and the
// shape that does not fit.
Result<Shape> layer_output_shape(const LayerSpec& layer, Shape in, std::size_t index);
// Parameter tensors of the layer for input `in`, starting at `offset` (none for layers
// without parameters). Call after layer_output_shape accepted the layer.
std::vector<ParamTensor> layer_parameters(const LayerSpec& layer, Shape in, std::size_t offset);
// Inputs each output of the layer sums over (the He-uniform fan-in).
std::size_t layer_fan_in(const LayerSpec& layer, Shape in);

// The padding before the first row (or column) of a conv or pool axis.
std::size_t pad_before(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride,
                       std::size_t dilation);

}  // namespace edgefl
