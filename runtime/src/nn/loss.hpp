// Losses on feature-major outputs z[classes][batch]. Private to runtime/src/nn.
#pragma once

#include <cstddef>

#include "edgefl/base/model_spec.hpp"

namespace edgefl {

struct LossResult {
  double loss_sum = 0.0;
  std::size_t correct = 0;
};

// Sum of per-sample losses; when grad != nullptr writes grad_scale * dloss/dz into grad
// (same layout as z). Targets: class index (softmax CE), 0/1 label (logistic), value (squared).
//   softmax CE: log-sum-exp(z) - z[y]   logistic: log(1 + e^z) - y z   squared: (z - y)^2 / 2
LossResult compute_loss(LossKind kind, const float* z, const float* targets, std::size_t classes,
                        std::size_t batch, float grad_scale, float* grad);

}  // namespace edgefl
