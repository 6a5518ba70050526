// ModelSpec: the description of a model that the server sends to devices — an input shape, an
// ordered list of layers (edgefl/base/layer_spec.hpp), a loss and an initialisation.
//
// Text form (docs/models.md): the input, layer tokens and options separated by spaces:
//
//   in:28x28x1 conv3x3x8 relu maxpool2 conv3x3x16 relu maxpool2 flatten dense10 loss:xent
//
//   in:HxWxC or in:D     input shape (D means 1x1xD)
//   loss:xent            softmax cross-entropy over the outputs (the default); loss:squared and
//                        loss:logistic need one output
//   init:he_uniform      weights U(-sqrt(6/fan_in), sqrt(6/fan_in)), biases zero (the default);
//                        init:zeros starts every parameter at zero
//
// Two shorthands keep their meaning, parameter layout and initialisation:
//   mlp:784-256-128-10:relu     in:784 dense256 relu dense128 relu dense10 loss:xent
//   linear:1000-1[:logistic]    in:1000 dense1,nobias loss:squared (or logistic) init:zeros
// to_string() is canonical (a spec that is an MLP or a linear model prints as its shorthand),
// and parse(to_string()) gives back an equal spec. A JSON model file describes the same thing
// (from_json, docs/models.md).
//
//   Result<ModelSpec> spec = ModelSpec::parse("mlp:784-256-128-10:relu");
//   spec->parameter_count();   // 235146
//
// The flat parameter layout is fixed by the spec, so a device and the server agree on it
// without sending shapes: each layer's parameter tensors in layer order (layer_spec.hpp).
// BatchNorm is refused: its running statistics differ across non-IID devices and do not
// average; fold it into the convolution before it for an eval-mode export.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/layer_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

// What the spec's layers form: an MLP or a linear model (which print as their shorthands), or
// any other layer list.
enum class ModelKind : uint8_t { mlp, linear, layers };
enum class LossKind : uint8_t { softmax_cross_entropy, squared, logistic };
enum class InitKind : uint8_t { he_uniform, zeros };

// Where one Dense layer's tensors sit inside the flat parameter buffer.
struct DenseLayout {
  std::size_t inputs = 0;
  std::size_t outputs = 0;
  std::size_t weight_offset = 0;  // [outputs][inputs]
  std::size_t bias_offset = 0;    // [outputs]; meaningless when !has_bias
  bool has_bias = true;
};

// A layer with its input and output shapes and its parameter tensors.
struct LayerGeometry {
  LayerSpec spec;
  Shape in, out;
  std::vector<ParamTensor> params;  // empty for layers without parameters
  std::size_t param_offset = 0;     // first float of the layer's parameters
  std::size_t param_count = 0;
};

struct ModelSpec {
  // Sanity limits for specs that arrive from the network.
  static constexpr std::size_t kMaxLayers = 64;
  static constexpr std::size_t kMaxWidth = 1u << 20;  // floats of one sample's activation
  static constexpr std::size_t kMaxParameters = std::size_t{1} << 28;
  static constexpr std::size_t kMaxJsonBytes = 1u << 16;

  ModelKind kind = ModelKind::mlp;
  Shape input;
  std::vector<LayerSpec> layers;
  LossKind loss = LossKind::softmax_cross_entropy;
  InitKind init = InitKind::he_uniform;

  // Parses and validates; errors name the offending part of the text, or the layer (index
  // and description) and the shape that does not fit.
  static Result<ModelSpec> parse(std::string_view text);
  // The JSON model file (docs/models.md); the same validation.
  static Result<ModelSpec> from_json(std::string_view json);
  // Validates a spec put together in code and sets its kind.
  static Result<ModelSpec> from_layers(Shape input, std::vector<LayerSpec> layers, LossKind loss,
                                       InitKind init = InitKind::he_uniform);
  // Canonical text; parse(to_string()) gives back an equal spec.
  std::string to_string() const;
  // The JSON model file of this spec; from_json(to_json()) gives back an equal spec.
  std::string to_json() const;

  std::size_t input_size() const { return input.size(); }
  std::size_t output_size() const;
  // Every layer with its shapes and parameter tensors, in order.
  std::vector<LayerGeometry> geometry() const;
  // The Dense layers' tensors (the MLP view of the layout).
  std::vector<DenseLayout> dense_layouts() const;
  std::size_t parameter_count() const;

  bool operator==(const ModelSpec&) const = default;
};

std::string_view loss_name(LossKind loss);   // "softmax_cross_entropy", "squared", "logistic"
std::string_view init_name(InitKind init);   // "he_uniform", "zeros"

}  // namespace edgefl
