// What the Network tests share: a random batch for a spec's loss, and error norms.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include "edgefl/base/rng.hpp"
#include "edgefl/nn/network.hpp"

namespace edgefl::testing {

// Fills the network's input with N(0,1) features and valid targets for the spec's loss.
inline void fill_batch(Network& net, std::size_t batch, uint64_t seed) {
  Rng rng(seed);
  const ModelSpec& spec = net.spec();
  for (std::size_t i = 0; i < spec.input_size() * batch; ++i) net.input()[i] = static_cast<float>(rng.normal());
  for (std::size_t s = 0; s < batch; ++s) {
    switch (spec.loss) {
      case LossKind::softmax_cross_entropy: net.targets()[s] = float(rng.below(uint32_t(spec.output_size()))); break;
      case LossKind::logistic: net.targets()[s] = float(rng.below(2)); break;
      case LossKind::squared: net.targets()[s] = static_cast<float>(rng.normal()); break;
    }
  }
}

// ‖a - b‖ / ‖b‖.
inline double rel_error(std::span<const float> a, std::span<const float> b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

// max |a - b| / max |b|.
inline double max_rel_error(std::span<const float> a, std::span<const float> b) {
  double max_abs = 0, max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    max_abs = std::max(max_abs, std::fabs(double(b[i])));
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - b[i]));
  }
  return max_diff / std::max(max_abs, 1e-30);
}

}  // namespace edgefl::testing
