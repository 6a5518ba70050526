#include "edgefl/nn/model.hpp"

#include <cmath>

#include "edgefl/base/rng.hpp"

namespace edgefl {

std::vector<Layer> layers_of(const ModelSpec& spec) {
  std::vector<Layer> layers;
  std::vector<DenseLayout> dense = spec.dense_layouts();
  for (std::size_t i = 0; i < dense.size(); ++i) {
    layers.push_back({LayerKind::dense, dense[i].outputs, dense[i]});
    if (spec.kind == ModelKind::mlp && i + 1 < dense.size()) {
      layers.push_back({LayerKind::relu, dense[i].outputs, {}});
    }
  }
  return layers;
}

Status init_parameters(const ModelSpec& spec, std::span<float> params, uint64_t seed) {
  if (params.size() != spec.parameter_count()) {
    return make_status(StatusCode::shape_mismatch,
                       "parameter buffer has " + std::to_string(params.size()) + " floats, spec " +
                           spec.to_string() + " needs " + std::to_string(spec.parameter_count()));
  }
  if (spec.kind == ModelKind::linear) {
    std::fill(params.begin(), params.end(), 0.0f);
    return Status();
  }
  Rng root(seed);
  std::size_t index = 0;
  for (const DenseLayout& layout : spec.dense_layouts()) {
    Rng rng = root.fork(index++);
    // He-uniform weights (variance 2 / fan-in keeps activations at scale through ReLUs) and zero
    // biases: measured 1-2 points better after 30 FedAvg rounds than a 1 / sqrt(fan-in) range.
    const float bound = std::sqrt(6.0f / static_cast<float>(layout.inputs));
    const std::size_t count = layout.inputs * layout.outputs;
    for (std::size_t i = 0; i < count; ++i) {
      params[layout.weight_offset + i] = (2.0f * rng.uniform() - 1.0f) * bound;
    }
    if (layout.has_bias) std::fill_n(params.begin() + layout.weight_offset + count, layout.outputs, 0.0f);
  }
  return Status();
}

ModelBuilder::ModelBuilder(std::size_t inputs) : inputs_(inputs) {}

ModelBuilder& ModelBuilder::dense(std::size_t outputs, bool bias) {
  Layer layer{LayerKind::dense, outputs, {}};
  layer.dense.outputs = outputs;
  layer.dense.has_bias = bias;
  layers_.push_back(layer);
  return *this;
}

ModelBuilder& ModelBuilder::relu() {
  layers_.push_back({LayerKind::relu, 0, {}});
  return *this;
}

ModelBuilder& ModelBuilder::softmax_cross_entropy() {
  has_loss_ = true;
  loss_ = LossKind::softmax_cross_entropy;
  return *this;
}
ModelBuilder& ModelBuilder::squared_loss() {
  has_loss_ = true;
  loss_ = LossKind::squared;
  return *this;
}
ModelBuilder& ModelBuilder::logistic_loss() {
  has_loss_ = true;
  loss_ = LossKind::logistic;
  return *this;
}

Result<ModelSpec> ModelBuilder::build() const {
  auto invalid = [](std::string why) {
    return make_status(StatusCode::invalid_argument, "model builder: " + std::move(why));
  };
  if (!has_loss_) return invalid("no loss given");
  std::string text;
  if (loss_ == LossKind::softmax_cross_entropy) {
    text = "mlp:" + std::to_string(inputs_);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Layer& layer = layers_[i];
      const bool dense_expected = i % 2 == 0;
      if (dense_expected != (layer.kind == LayerKind::dense)) {
        return invalid("an MLP alternates Dense and ReLU layers, starting and ending with Dense");
      }
      if (layer.kind == LayerKind::dense) {
        if (!layer.dense.has_bias) return invalid("MLP Dense layers have a bias");
        text += "-" + std::to_string(layer.width);
      }
    }
    if (layers_.empty() || layers_.back().kind != LayerKind::dense) {
      return invalid("an MLP ends with a Dense layer");
    }
    text += ":relu";
  } else {
    if (layers_.size() != 1 || layers_[0].kind != LayerKind::dense || layers_[0].width != 1 ||
        layers_[0].dense.has_bias) {
      return invalid("a linear model is one Dense layer to 1 output without bias");
    }
    text = "linear:" + std::to_string(inputs_) + "-1" +
           (loss_ == LossKind::logistic ? ":logistic" : "");
  }
  return ModelSpec::parse(text);
}

Model::Model(ModelSpec spec, FloatBuffer params, FloatBuffer grads)
    : spec_(std::move(spec)),
      layers_(layers_of(spec_)),
      dense_(spec_.dense_layouts()),
      params_(std::move(params)),
      grads_(std::move(grads)) {}

Result<Model> Model::create(const ModelSpec& spec, uint64_t seed) {
  FloatBuffer params(spec.parameter_count());
  EDGEFL_RETURN_IF_ERROR(init_parameters(spec, params.span(), seed));
  return Model(spec, std::move(params), FloatBuffer(spec.parameter_count()));
}

std::span<float> Model::dense_weights(std::size_t i) {
  const DenseLayout& l = dense_.at(i);
  return params_.span().subspan(l.weight_offset, l.inputs * l.outputs);
}

std::span<float> Model::dense_bias(std::size_t i) {
  const DenseLayout& l = dense_.at(i);
  return l.has_bias ? params_.span().subspan(l.bias_offset, l.outputs) : std::span<float>();
}

}  // namespace edgefl
