#include "direct_kernels.hpp"

#include <algorithm>
#include <string>

#include "transpose.hpp"

namespace edgefl {

namespace {

// Weight-gradient rows per panel: whole register tiles, about 8192 floats (32 KB) per panel.
std::size_t panel_rows(std::size_t tile, std::size_t k) {
  return tile * std::max<std::size_t>(1, 8192 / (k * tile));
}

}  // namespace

Status DirectKernels::prepare(std::span<const DenseLayout> layouts, std::size_t max_batch) {
  std::size_t widest_input = 0;
  for (const DenseLayout& l : layouts) widest_input = std::max(widest_input, l.inputs);
  x_scratch_ = FloatBuffer(widest_input * max_batch);
  return Status();
}

Status DirectKernels::forward(const float* w, const float* xt, float* yt, std::size_t n, std::size_t k,
                              std::size_t b) {
  gemm_.run({.rows = n, .cols = b, .inner = k, .a = w, .a_row = k, .a_inner = 1, .b = xt, .ldb = b,
                  .c = yt, .ldc = b});
  return Status();
}

Status DirectKernels::weight_grad(const float* dyt, const float* xt, float* dw, std::size_t n,
                                  std::size_t k, std::size_t b, GradientRowsSink* sink) {
  if (k * b > x_scratch_.size()) {
    return make_status(StatusCode::out_of_range, "direct kernels: layer " + std::to_string(k) + " x batch " +
                                                     std::to_string(b) + " exceeds the planned scratch");
  }
  transpose(xt, x_scratch_.data(), k, b);
  const GemmOperands g{.rows = n, .cols = k, .inner = b, .a = dyt, .a_row = b, .a_inner = 1,
                       .b = x_scratch_.data(), .ldb = k, .c = dw, .ldc = k};
  // Panels on the pool's threads only when the whole GEMM is worth sharing.
  pthreadpool_t pool = gemm_.tasks_for(double(n) * double(k) * double(b)) > 1 ? gemm_.pool() : nullptr;
  for_each_tile(pool, n, panel_rows(gemm_.kernel().row_tile, k), [&](std::size_t begin, std::size_t count) {
    gemm_.kernel().run(g, begin, begin + count);
    if (sink != nullptr) sink->rows_ready(begin, begin + count);
  });
  return Status();
}

Status DirectKernels::input_grad(const float* w, const float* dyt, float* dxt, float*, std::size_t n,
                                 std::size_t k, std::size_t b) {
  gemm_.run({.rows = k, .cols = b, .inner = n, .a = w, .a_row = 1, .a_inner = k, .b = dyt, .ldb = b,
                  .c = dxt, .ldc = b});
  return Status();
}

}  // namespace edgefl
