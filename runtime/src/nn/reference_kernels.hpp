// Plain-loop Dense kernels: the test oracle and the fallback backend.
#pragma once

#include "dense_kernels.hpp"

namespace edgefl {

class ReferenceKernels final : public DenseKernels {
 public:
  Status prepare(std::span<const DenseLayout>, std::size_t) override { return Status(); }
  Status forward(const float* w, const float* xt, float* yt, std::size_t n, std::size_t k,
                 std::size_t b) override;
  Status weight_grad(const float* dyt, const float* xt, float* dw, std::size_t n, std::size_t k,
                     std::size_t b, GradientRowsSink* sink) override;
  Status input_grad(const float* w, const float* dyt, float* dxt, float* wt_scratch,
                    std::size_t n, std::size_t k, std::size_t b) override;
};

}  // namespace edgefl
