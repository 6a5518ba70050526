// The three GEMMs of a Dense layer, on feature-major activations ([width][batch]).
// Private to runtime/src/nn; implementations: reference (plain loops), XNNPACK, direct (own
// packing-free GEMM).
#pragma once

#include <cstddef>
#include <span>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

// Told when rows [begin, end) of a weight gradient are final (the ranges together cover every
// row; with a thread pool they may come in any order and at once from several threads), so the
// caller can use them while they are still in cache: the fused optimizer update.
class GradientRowsSink {
 public:
  virtual void rows_ready(std::size_t begin, std::size_t end) = 0;

 protected:
  ~GradientRowsSink() = default;
};

class PooledGemm;

class DenseKernels {
 public:
  virtual ~DenseKernels() = default;

  // Reserves whatever the kernels need for these layers at batch sizes up to max_batch, so
  // that later calls do not allocate.
  virtual Status prepare(std::span<const DenseLayout> layouts, std::size_t max_batch) = 0;
  // yt[n][b] = sum_k w[n][k] * xt[k][b]
  virtual Status forward(const float* w, const float* xt, float* yt, std::size_t n, std::size_t k,
                         std::size_t b) = 0;
  // dw[n][k] = sum_b dyt[n][b] * xt[k][b]; sink (may be null) hears of finished rows.
  virtual Status weight_grad(const float* dyt, const float* xt, float* dw, std::size_t n,
                             std::size_t k, std::size_t b, GradientRowsSink* sink) = 0;
  // dxt[k][b] = sum_n w[n][k] * dyt[n][b]; wt_scratch holds n*k floats (+ slack)
  virtual Status input_grad(const float* w, const float* dyt, float* dxt, float* wt_scratch,
                            std::size_t n, std::size_t k, std::size_t b) = 0;
  virtual std::size_t arena_bytes() const { return 0; }
  // The GEMM the conv layers run on (pooled_gemm.hpp), or nullptr: they run their reference loops.
  virtual const PooledGemm* conv_gemm() const { return nullptr; }
};

}  // namespace edgefl
