#include "xnnpack_kernels.hpp"

#include "transpose.hpp"

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
    if (planned.ok()) planned = weight_grad(b.data(), a.data(), out.data(), l.outputs, l.inputs, max_batch, nullptr);
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
                                   std::size_t k, std::size_t b, GradientRowsSink* sink) {
  EDGEFL_RETURN_IF_ERROR(gemm(dyt, xt, /*kernel_transposed=*/false, dw, n, b, k));
  if (sink != nullptr) sink->rows_ready(0, n);
  return Status();
}

Status XnnpackKernels::input_grad(const float* w, const float* dyt, float* dxt, float* wt_scratch,
                                  std::size_t n, std::size_t k, std::size_t b) {
  transpose(w, wt_scratch, n, k);
  return gemm(wt_scratch, dyt, /*kernel_transposed=*/true, dxt, k, n, b);
}

}  // namespace edgefl
