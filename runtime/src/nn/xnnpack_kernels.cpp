#include "xnnpack_kernels.hpp"

#include <xnnpack.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace edgefl {

namespace {

struct OperatorDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

Status xnn_error(const char* what, xnn_status status) {
  return make_status(StatusCode::internal,
                     std::string("XNNPACK ") + what + " failed with status " + std::to_string(status));
}

// Cache-blocked transpose: dst[c][r] = src[r][c].
void transpose(const float* src, float* dst, std::size_t rows, std::size_t cols) {
  constexpr std::size_t kBlock = 32;
  for (std::size_t r0 = 0; r0 < rows; r0 += kBlock) {
    const std::size_t r1 = std::min(rows, r0 + kBlock);
    for (std::size_t c0 = 0; c0 < cols; c0 += kBlock) {
      const std::size_t c1 = std::min(cols, c0 + kBlock);
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

}  // namespace

Status XnnpackKernels::gemm(const float* in, const float* kernel, bool kernel_transposed, float* out,
                            std::size_t rows, std::size_t inner, std::size_t channels) {
  XnnArena::Scope scope(arena_);
  xnn_operator_t raw = nullptr;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  xnn_status status = xnn_create_fully_connected_nc_f32(
      inner, channels, inner, channels, kernel, nullptr, -kInf, kInf,
      kernel_transposed ? XNN_FLAG_TRANSPOSE_WEIGHTS : 0, &raw);
  if (status != xnn_status_success) return xnn_error("create_fully_connected", status);
  Operator op(raw);
  status = xnn_setup_fully_connected_nc_f32(op.get(), rows, in, out, pool_);
  if (status != xnn_status_success) return xnn_error("setup_fully_connected", status);
  status = xnn_run_operator(op.get(), pool_);
  if (status != xnn_status_success) return xnn_error("run_operator", status);
  return Status();
}

Status XnnpackKernels::prepare(std::span<const DenseLayout> layouts, std::size_t max_batch) {
  // Dry run of every operator shape at the largest batch, to measure the arena; packing sizes
  // only grow with the batch, so smaller batches fit too.
  std::size_t widest = 0;
  for (const DenseLayout& l : layouts) widest = std::max(widest, l.inputs * l.outputs);
  std::size_t act = 0;
  for (const DenseLayout& l : layouts) act = std::max({act, l.inputs, l.outputs});
  std::vector<float> w(widest + 64, 0.0f), a(act * max_batch + 64, 0.0f), b(act * max_batch + 64, 0.0f),
      out(std::max(widest, act * max_batch) + 64, 0.0f);
  for (const DenseLayout& l : layouts) {
    EDGEFL_RETURN_IF_ERROR(forward(w.data(), a.data(), out.data(), l.outputs, l.inputs, max_batch));
    EDGEFL_RETURN_IF_ERROR(weight_grad(b.data(), a.data(), out.data(), l.outputs, l.inputs, max_batch));
    EDGEFL_RETURN_IF_ERROR(gemm(w.data(), b.data(), true, out.data(), l.inputs, l.outputs, max_batch));
  }
  arena_.reserve(arena_.needed() + 4096);
  return Status();
}

Status XnnpackKernels::forward(const float* w, const float* xt, float* yt, std::size_t n,
                               std::size_t k, std::size_t b) {
  return gemm(w, xt, /*kernel_transposed=*/true, yt, n, k, b);
}

Status XnnpackKernels::weight_grad(const float* dyt, const float* xt, float* dw, std::size_t n,
                                   std::size_t k, std::size_t b) {
  return gemm(dyt, xt, /*kernel_transposed=*/false, dw, n, b, k);
}

Status XnnpackKernels::input_grad(const float* w, const float* dyt, float* dxt, float* wt_scratch,
                                  std::size_t n, std::size_t k, std::size_t b) {
  transpose(w, wt_scratch, n, k);
  return gemm(wt_scratch, dyt, /*kernel_transposed=*/true, dxt, k, n, b);
}

}  // namespace edgefl
