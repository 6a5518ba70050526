#include <algorithm>
#include <cmath>

#include "layers.hpp"

namespace edgefl {

void Layer::init(std::span<float> params, Rng& rng, InitKind kind) const {
  std::fill(params.begin(), params.end(), 0.0f);
  if (kind == InitKind::zeros || g_.params.empty()) return;
  // He-uniform weights (variance 2 / fan-in keeps activations at scale through ReLUs) and zero
  // biases: measured 1-2 points better after 30 FedAvg rounds than a 1 / sqrt(fan-in) range.
  const float bound = std::sqrt(6.0f / static_cast<float>(layer_fan_in(g_.spec, g_.in)));
  const std::size_t count = g_.params[0].size();
  for (std::size_t i = 0; i < count; ++i) params[i] = (2.0f * rng.uniform() - 1.0f) * bound;
}

void Layer::sample_gradient(std::size_t, const float*, const float*, std::size_t, std::size_t, float*) const {}

std::vector<std::unique_ptr<Layer>> make_layers(const ModelSpec& spec) {
  std::vector<LayerGeometry> geometry = spec.geometry();
  std::vector<std::unique_ptr<Layer>> layers;
  for (std::size_t i = 0; i < geometry.size(); ++i) {
    const LayerKind kind = geometry[i].spec.kind;
    const bool relu_follows = i + 1 < geometry.size() && geometry[i + 1].spec.kind == LayerKind::relu;
    const LayerKind before = i > 0 ? geometry[i - 1].spec.kind : kind;
    const bool after_gemm = i > 0 && (before == LayerKind::dense || before == LayerKind::conv2d);
    const bool pool_follows = i + 1 < geometry.size() && pool_fuses_relu_backward(geometry[i + 1].spec);
    switch (kind) {
      case LayerKind::dense:
        layers.push_back(make_dense(std::move(geometry[i]), relu_follows));
        break;
      case LayerKind::conv2d:
        layers.push_back(make_conv2d(std::move(geometry[i]), relu_follows));
        break;
      case LayerKind::depthwise_conv2d:
        layers.push_back(make_depthwise_conv2d(std::move(geometry[i])));
        break;
      case LayerKind::max_pool2d:
      case LayerKind::avg_pool2d:
      case LayerKind::global_avg_pool:
        layers.push_back(make_pool(std::move(geometry[i]), i > 0 && before == LayerKind::relu));
        break;
      case LayerKind::relu:
        layers.push_back(make_elementwise(std::move(geometry[i]), after_gemm, pool_follows));
        break;
      case LayerKind::relu6:
      case LayerKind::flatten:
        layers.push_back(make_elementwise(std::move(geometry[i]), false, false));
        break;
      case LayerKind::dropout:
        layers.push_back(make_dropout(std::move(geometry[i]), i));
        break;
    }
  }
  return layers;
}

}  // namespace edgefl
