#include "xnnpack_kernels.hpp"

#include <sys/mman.h>
#include <xnnpack.h>

#include <algorithm>
#include <cstring>
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

// Four floats; GCC and Clang lower the shuffles below to SSE or NEON, or to scalar code.
typedef float Float4 __attribute__((vector_size(16)));

Float4 load4(const float* p) {
  Float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store4(float* p, Float4 v) { std::memcpy(p, &v, sizeof v); }

// dst[c..c+3][r..r+3] = src[r..r+3][c..c+3]^T, as a 4x4 register transpose.
void transpose4x4(const float* src, float* dst, std::size_t rows, std::size_t cols) {
  const Float4 r0 = load4(src), r1 = load4(src + cols), r2 = load4(src + 2 * cols), r3 = load4(src + 3 * cols);
  const Float4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
  const Float4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
  store4(dst, __builtin_shufflevector(t0, t2, 0, 1, 4, 5));
  store4(dst + rows, __builtin_shufflevector(t0, t2, 2, 3, 6, 7));
  store4(dst + 2 * rows, __builtin_shufflevector(t1, t3, 0, 1, 4, 5));
  store4(dst + 3 * rows, __builtin_shufflevector(t1, t3, 2, 3, 6, 7));
}

// Cache-blocked transpose, dst[c][r] = src[r][c]: 4x4 register tiles inside 32x32 blocks, and
// scalar copies for the edges when a dimension is not a multiple of four.
void transpose(const float* src, float* dst, std::size_t rows, std::size_t cols) {
  constexpr std::size_t kBlock = 32;
  const std::size_t rows4 = rows / 4 * 4, cols4 = cols / 4 * 4;
  for (std::size_t r0 = 0; r0 < rows4; r0 += kBlock) {
    const std::size_t r1 = std::min(rows4, r0 + kBlock);
    for (std::size_t c0 = 0; c0 < cols4; c0 += kBlock) {
      const std::size_t c1 = std::min(cols4, c0 + kBlock);
      for (std::size_t r = r0; r < r1; r += 4) {
        for (std::size_t c = c0; c < c1; c += 4) transpose4x4(src + r * cols + c, dst + c * rows + r, rows, cols);
      }
    }
  }
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = r < rows4 ? cols4 : 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
  }
}

// Read-only zero pages: operands for planning runs that cost no resident memory (untouched
// anonymous pages all map the kernel's shared zero page).
class ZeroPages {
 public:
  explicit ZeroPages(std::size_t bytes) : bytes_(std::max<std::size_t>(bytes, 1)) {
    void* p = mmap(nullptr, bytes_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    data_ = p == MAP_FAILED ? nullptr : static_cast<float*>(p);
  }
  ~ZeroPages() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  ZeroPages(const ZeroPages&) = delete;
  ZeroPages& operator=(const ZeroPages&) = delete;
  float* data() const { return data_; }

 private:
  std::size_t bytes_;
  float* data_ = nullptr;
};

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
  if (plan_only_) return Status();
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
  // Operands are zero pages and nothing runs, so planning a large micro-batch does not itself
  // raise the process's peak memory (the budget test measures that peak).
  const std::size_t floats = std::max(widest, act * max_batch) + 64;
  ZeroPages w(floats * sizeof(float)), a(floats * sizeof(float)), b(floats * sizeof(float)),
      out(floats * sizeof(float));
  if (!w.data() || !a.data() || !b.data() || !out.data()) {
    return make_status(StatusCode::resource_exhausted, "XNNPACK planning: cannot map address space");
  }
  plan_only_ = true;
  Status planned;
  for (const DenseLayout& l : layouts) {
    planned = forward(w.data(), a.data(), out.data(), l.outputs, l.inputs, max_batch);
    if (planned.ok()) planned = weight_grad(b.data(), a.data(), out.data(), l.outputs, l.inputs, max_batch);
    if (planned.ok()) planned = gemm(w.data(), b.data(), true, out.data(), l.inputs, l.outputs, max_batch);
    if (!planned.ok()) break;
  }
  plan_only_ = false;
  EDGEFL_RETURN_IF_ERROR(planned);
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
