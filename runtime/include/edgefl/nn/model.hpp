// Model: a spec plus its flat parameter and gradient buffers (same layout), and the ordered
// list of layers that the spec describes.
//
//   auto spec = edgefl::ModelBuilder(784).dense(256).relu().dense(10).softmax_cross_entropy().build();
//   auto model = edgefl::Model::create(*spec, /*seed=*/42);   // deterministic init
//   std::span<float> w0 = model->dense_weights(0);           // view [256][784] into params()
//
// The textual form ("mlp:784-256-10:relu", "linear:D-1[:logistic]") is ModelSpec; the builder
// is the C++ way to write the same thing and checks the layers fit a spec.
// Init (ModelSpec::init): weights He-uniform, U(-sqrt(6/fan_in), sqrt(6/fan_in)), biases zero,
// one Rng sub-stream per layer with parameters (Layer::init); linear models start at zero
// (Local-GD's w0 = 0). The builder writes MLPs and linear models; other layer lists are
// ModelSpec::parse, from_json or from_layers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

// The ordered layers of a spec (Dense, ReLU, Dense, ..., Dense for an MLP; loss separate).
std::vector<LayerSpec> layers_of(const ModelSpec& spec);

// Deterministic initialisation of a flat buffer of spec.parameter_count() floats.
Status init_parameters(const ModelSpec& spec, std::span<float> params, uint64_t seed);

class ModelBuilder {
 public:
  explicit ModelBuilder(std::size_t inputs);
  ModelBuilder& dense(std::size_t outputs, bool bias = true);
  ModelBuilder& relu();
  ModelBuilder& softmax_cross_entropy();
  ModelBuilder& squared_loss();
  ModelBuilder& logistic_loss();
  // Errors when the layers do not form an MLP (ReLU between Dense layers, biases, softmax CE)
  // or a linear model (one Dense to 1 output without bias, squared or logistic loss).
  Result<ModelSpec> build() const;

 private:
  std::size_t inputs_;
  std::vector<LayerSpec> layers_;
  bool has_loss_ = false;
  LossKind loss_ = LossKind::softmax_cross_entropy;
};

class Model {
 public:
  static Result<Model> create(const ModelSpec& spec, uint64_t seed);

  const ModelSpec& spec() const { return spec_; }
  const std::vector<LayerSpec>& layers() const { return spec_.layers; }
  FloatBuffer& params() { return params_; }
  const FloatBuffer& params() const { return params_; }
  FloatBuffer& grads() { return grads_; }
  // Views of Dense layer i (0-based among Dense layers) in params; bias is empty without bias.
  std::span<float> dense_weights(std::size_t i);
  std::span<float> dense_bias(std::size_t i);

 private:
  Model(ModelSpec spec, FloatBuffer params, FloatBuffer grads);
  ModelSpec spec_;
  std::vector<DenseLayout> dense_;
  FloatBuffer params_;
  FloatBuffer grads_;
};

}  // namespace edgefl
