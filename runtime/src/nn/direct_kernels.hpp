// Dense kernels on direct_gemm: both operands are read in place, so nothing is packed per step.
//   forward      Y^T[N][B]  = W[N][K]   X^T[K][B]
//   input grad   dX^T[K][B] = W^T[K][N] dY^T[N][B]   (W read with swapped strides, no transpose)
//   weight grad  dW[N][K]   = dY^T[N][B] X[B][K]      (X: one transpose of the small X^T)
// The weight gradient is produced in row panels of about 32 KB, each reported to the sink as
// soon as it is written, so a fused optimizer update finds it in L1. With a thread pool, row
// blocks (and panels) are spread over its threads; every output is computed the same way on
// any number of threads, so results do not depend on it.
#pragma once

#include "dense_kernels.hpp"
#include "pooled_gemm.hpp"
#include "edgefl/base/float_buffer.hpp"

namespace edgefl {

class DirectKernels final : public DenseKernels {
 public:
  // pool: nullptr runs on the calling thread. gemm: the kernel for this CPU (select_direct_gemm).
  DirectKernels(pthreadpool_t pool, DirectGemm gemm) : gemm_(pool, gemm) {}
  Status prepare(std::span<const DenseLayout> layouts, std::size_t max_batch) override;
  Status forward(const float* w, const float* xt, float* yt, std::size_t n, std::size_t k,
                 std::size_t b) override;
  Status weight_grad(const float* dyt, const float* xt, float* dw, std::size_t n, std::size_t k,
                     std::size_t b, GradientRowsSink* sink) override;
  Status input_grad(const float* w, const float* dyt, float* dxt, float* wt_scratch,
                    std::size_t n, std::size_t k, std::size_t b) override;
  std::size_t arena_bytes() const override { return x_scratch_.size_bytes(); }
  const PooledGemm* conv_gemm() const override { return &gemm_; }

 private:
  PooledGemm gemm_;
  FloatBuffer x_scratch_;  // X[B][K] of the layer whose weight gradient is being computed
};

}  // namespace edgefl
