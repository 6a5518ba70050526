#include "edgefl/train/feature_cache.hpp"

#include <algorithm>
#include <numeric>

namespace edgefl {

std::optional<FrozenPrefix> frozen_prefix(const ModelSpec& spec,
                                          const std::vector<uint32_t>& trainable) {
  if (trainable.empty() || trainable.front() == 0) return std::nullopt;
  const std::size_t first = trainable.front();
  for (std::size_t i = 0; i < first; ++i) {
    if (spec.layers[i].kind == LayerKind::dropout) return std::nullopt;
  }
  const std::vector<LayerGeometry> geometry = spec.geometry();
  std::vector<LayerSpec> rest(spec.layers.begin() + static_cast<std::ptrdiff_t>(first),
                              spec.layers.end());
  Result<ModelSpec> head =
      ModelSpec::from_layers(geometry[first].in, std::move(rest), spec.loss, spec.init);
  if (!head) return std::nullopt;  // not reachable for a valid spec: the tail of one fits its input
  FrozenPrefix prefix{first, geometry[first].param_offset, std::move(*head), {}};
  for (uint32_t layer : trainable)
    prefix.head_trainable.push_back(static_cast<uint32_t>(layer - first));
  return prefix;
}

Status FeatureCache::refresh(Network& network, const FrozenPrefix& prefix,
                             std::span<const float> params, const DatasetView& data) {
  const std::span<const float> frozen = params.first(prefix.param_offset);
  if (source_ && source_->same_samples(data) && computations_ > 0 &&
      std::equal(frozen.begin(), frozen.end(), prefix_params_.begin(), prefix_params_.end())) {
    return Status();
  }
  const std::size_t width = prefix.head.input_size();
  const std::size_t chunk = network.max_micro_batch();
  std::vector<float> features(data.size() * width), targets(data.size());
  std::vector<uint32_t> positions(chunk), scratch(chunk);
  for (std::size_t begin = 0; begin < data.size(); begin += chunk) {
    const std::size_t count = std::min(chunk, data.size() - begin);
    std::iota(positions.begin(), positions.begin() + count, static_cast<uint32_t>(begin));
    data.gather_transposed(std::span(positions).first(count), scratch, network.input(), network.targets());
    Result<BatchStats> ran = network.forward(params, count);
    if (!ran) return ran.status().with_context("feature cache");
    const float* x = network.layer_input(prefix.layers);  // [width][count]
    for (std::size_t s = 0; s < count; ++s) {
      for (std::size_t j = 0; j < width; ++j) features[(begin + s) * width + j] = x[j * count + s];
    }
  }
  for (std::size_t p = 0; p < data.size(); ++p) targets[p] = data.dataset().target(data.index(p));
  Result<Dataset> made = Dataset::from_floats(width, std::move(features), std::move(targets),
                                              data.dataset().num_classes());
  if (!made) return made.status().with_context("feature cache");
  features_ = std::move(*made);
  source_ = data;
  prefix_params_.assign(frozen.begin(), frozen.end());
  ++computations_;
  return Status();
}

}  // namespace edgefl
