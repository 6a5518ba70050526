// Dense kernels on XNNPACK fully-connected operators (Debian's 2022 XNNPACK: weights are packed
// when the operator is created). Operand roles are chosen so that what gets packed each step is
// an activation or activation-gradient matrix (batch x width), never a weight matrix:
//   forward      Y^T[N][B] = W[N][K] X^T[K][B]     input W,   packed X^T   (transposed kernel)
//   weight grad  dW[N][K]  = dY^T[N][B] X[B][K]    input dY^T, packed X^T
//   input grad   dX^T[K][B] = W^T[K][N] dY^T[N][B] input W^T (a plain transpose), packed dY^T
// Operators are created and deleted inside each call, served from a per-network arena. Conv
// layers run on direct_gemm's tiles (pooled_gemm.hpp) on the same threads.
#pragma once

#include "dense_kernels.hpp"
#include "pooled_gemm.hpp"
#include "xnn_arena.hpp"

namespace edgefl {

class XnnpackKernels final : public DenseKernels {
 public:
  XnnpackKernels(pthreadpool_t pool, DirectGemm conv_gemm) : pool_(pool), conv_gemm_(pool, conv_gemm) {}
  Status prepare(std::span<const DenseLayout> layouts, std::size_t max_batch) override;
  Status forward(const float* w, const float* xt, float* yt, std::size_t n, std::size_t k,
                 std::size_t b) override;
  Status weight_grad(const float* dyt, const float* xt, float* dw, std::size_t n, std::size_t k,
                     std::size_t b, GradientRowsSink* sink) override;
  Status input_grad(const float* w, const float* dyt, float* dxt, float* wt_scratch,
                    std::size_t n, std::size_t k, std::size_t b) override;
  std::size_t arena_bytes() const override { return arena_.capacity(); }
  const PooledGemm* conv_gemm() const override { return &conv_gemm_; }

  // out[rows][channels] = in[rows][inner] * kernel^T, kernel [channels][inner] (or [inner][channels]
  // when transposed). Public for the GEMM-peak benchmark.
  Status gemm(const float* in, const float* kernel, bool kernel_transposed, float* out,
              std::size_t rows, std::size_t inner, std::size_t channels);

 private:
  pthreadpool_t pool_;
  PooledGemm conv_gemm_;
  XnnArena arena_;
  bool plan_only_ = false;  // prepare(): create and set up operators, never run them
};

}  // namespace edgefl
