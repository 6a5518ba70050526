#include "loss.hpp"

#include <cmath>

namespace edgefl {

namespace {

LossResult softmax_cross_entropy(const float* z, const float* targets, std::size_t classes,
                                 std::size_t batch, float grad_scale, float* grad) {
  LossResult result;
  for (std::size_t s = 0; s < batch; ++s) {
    const std::size_t label = static_cast<std::size_t>(targets[s]);
    float max = z[s];
    std::size_t argmax = 0;
    for (std::size_t c = 1; c < classes; ++c) {
      if (z[c * batch + s] > max) {
        max = z[c * batch + s];
        argmax = c;
      }
    }
    double denom = 0.0;
    for (std::size_t c = 0; c < classes; ++c) denom += std::exp(double(z[c * batch + s]) - max);
    const double log_denom = std::log(denom);
    result.loss_sum += log_denom - (double(z[label * batch + s]) - max);
    result.correct += argmax == label;
    if (grad != nullptr) {
      for (std::size_t c = 0; c < classes; ++c) {
        double p = std::exp(double(z[c * batch + s]) - max - log_denom);
        grad[c * batch + s] = static_cast<float>((p - (c == label ? 1.0 : 0.0)) * grad_scale);
      }
    }
  }
  return result;
}

LossResult logistic(const float* z, const float* targets, std::size_t batch, float grad_scale,
                    float* grad) {
  LossResult result;
  for (std::size_t s = 0; s < batch; ++s) {
    const double zs = z[s];
    const double y = targets[s];
    // log(1 + e^z) computed without overflow.
    const double softplus = zs > 0 ? zs + std::log1p(std::exp(-zs)) : std::log1p(std::exp(zs));
    result.loss_sum += softplus - y * zs;
    result.correct += (zs > 0) == (y > 0.5);
    if (grad != nullptr) {
      const double sigmoid = zs >= 0 ? 1.0 / (1.0 + std::exp(-zs)) : std::exp(zs) / (1.0 + std::exp(zs));
      grad[s] = static_cast<float>((sigmoid - y) * grad_scale);
    }
  }
  return result;
}

LossResult squared(const float* z, const float* targets, std::size_t batch, float grad_scale,
                   float* grad) {
  LossResult result;
  for (std::size_t s = 0; s < batch; ++s) {
    const double r = double(z[s]) - targets[s];
    result.loss_sum += 0.5 * r * r;
    if (grad != nullptr) grad[s] = static_cast<float>(r * grad_scale);
  }
  return result;
}

}  // namespace

LossResult compute_loss(LossKind kind, const float* z, const float* targets, std::size_t classes,
                        std::size_t batch, float grad_scale, float* grad) {
  switch (kind) {
    case LossKind::softmax_cross_entropy:
      return softmax_cross_entropy(z, targets, classes, batch, grad_scale, grad);
    case LossKind::logistic:
      return logistic(z, targets, batch, grad_scale, grad);
    case LossKind::squared:
      return squared(z, targets, batch, grad_scale, grad);
  }
  return {};
}

}  // namespace edgefl
