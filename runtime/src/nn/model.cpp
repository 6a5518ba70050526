#include "edgefl/nn/model.hpp"

#include <cmath>

#include "edgefl/base/rng.hpp"
#include "edgefl/nn/layer.hpp"

namespace edgefl {

std::vector<LayerSpec> layers_of(const ModelSpec& spec) { return spec.layers; }

Status init_parameters(const ModelSpec& spec, std::span<float> params, uint64_t seed) {
  if (params.size() != spec.parameter_count()) {
    return make_status(StatusCode::shape_mismatch,
                       "parameter buffer has " + std::to_string(params.size()) + " floats, spec " +
                           spec.to_string() + " needs " + std::to_string(spec.parameter_count()));
  }
  Rng root(seed);
  std::size_t index = 0;
  for (const auto& layer : make_layers(spec)) {
    if (layer->param_count() == 0) continue;
    Rng rng = root.fork(index++);
    layer->init(params.subspan(layer->param_offset(), layer->param_count()), rng, spec.init);
  }
  return Status();
}

ModelBuilder::ModelBuilder(std::size_t inputs) : inputs_(inputs) {}

ModelBuilder& ModelBuilder::dense(std::size_t outputs, bool bias) {
  layers_.push_back(LayerSpec::dense_layer(outputs, bias));
  return *this;
}

ModelBuilder& ModelBuilder::relu() {
  layers_.push_back(LayerSpec::of(LayerKind::relu));
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
      const LayerSpec& layer = layers_[i];
      const bool dense_expected = i % 2 == 0;
      if (dense_expected != (layer.kind == LayerKind::dense)) {
        return invalid("an MLP alternates Dense and ReLU layers, starting and ending with Dense");
      }
      if (layer.kind == LayerKind::dense) {
        if (!layer.bias) return invalid("MLP Dense layers have a bias");
        text += "-" + std::to_string(layer.units);
      }
    }
    if (layers_.empty() || layers_.back().kind != LayerKind::dense) {
      return invalid("an MLP ends with a Dense layer");
    }
    text += ":relu";
  } else {
    if (layers_.size() != 1 || layers_[0].kind != LayerKind::dense || layers_[0].units != 1 ||
        layers_[0].bias) {
      return invalid("a linear model is one Dense layer to 1 output without bias");
    }
    text = "linear:" + std::to_string(inputs_) + "-1" +
           (loss_ == LossKind::logistic ? ":logistic" : "");
  }
  return ModelSpec::parse(text);
}

Model::Model(ModelSpec spec, FloatBuffer params, FloatBuffer grads)
    : spec_(std::move(spec)),
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
