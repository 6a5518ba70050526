#include "edgefl/nn/compute.hpp"

#include <mutex>

#include "direct_gemm.hpp"
#include "direct_kernels.hpp"
#include "reference_kernels.hpp"

#ifdef EDGEFL_HAVE_XNNPACK
#include <pthreadpool.h>
#include <xnnpack.h>

#include "xnnpack_kernels.hpp"
#endif

namespace edgefl {

struct ComputeContext::ThreadPool {
#ifdef EDGEFL_HAVE_XNNPACK
  pthreadpool_t pool = nullptr;
  ~ThreadPool() {
    if (pool != nullptr) pthreadpool_destroy(pool);
  }
#endif
};

namespace {

#ifdef EDGEFL_HAVE_XNNPACK
// xnn_initialize is process-wide and idempotent; its outcome is fixed after the first call.
bool initialize_xnnpack() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = xnn_initialize(XnnArena::allocator()) == xnn_status_success; });
  return ok;
}
#endif

}  // namespace

std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::xnnpack:
      return "xnnpack";
    case Backend::direct:
      return "direct";
    case Backend::reference:
      break;
  }
  return "reference";
}

Result<Backend> parse_backend(std::string_view name) {
  if (name == "xnnpack") return Backend::xnnpack;
  if (name == "direct") return Backend::direct;
  if (name == "reference") return Backend::reference;
  return make_status(StatusCode::invalid_argument,
                     "unknown backend '" + std::string(name) + "' (auto, direct, xnnpack, reference)");
}

Result<DirectIsa> parse_direct_isa(std::string_view name) {
  if (name == "best") return DirectIsa::best;
  if (name == "avx2") return DirectIsa::avx2;
  if (name == "portable") return DirectIsa::portable;
  return make_status(StatusCode::invalid_argument,
                     "unknown direct kernel ISA '" + std::string(name) + "' (best, avx2, portable)");
}

std::string_view direct_isa_name(DirectIsa isa) {
  switch (isa) {
    case DirectIsa::avx2:
      return "avx2";
    case DirectIsa::portable:
      return "portable";
    case DirectIsa::best:
      break;
  }
  return "best";
}

std::string_view direct_kernel_isa(DirectIsa cap) { return select_direct_gemm(cap).isa; }

Backend default_backend() {
  return direct_kernel_isa(DirectIsa::best) != "portable" ? Backend::direct : Backend::xnnpack;
}

Result<Backend> resolve_backend(std::string_view name) {
  if (name == "auto") return default_backend();
  return parse_backend(name);
}

ComputeContext::ComputeContext(Backend backend, bool fell_back, std::size_t threads, DirectIsa direct_isa,
                               std::unique_ptr<ThreadPool> pool)
    : backend_(backend), fell_back_(fell_back), threads_(threads), direct_isa_(direct_isa), pool_(std::move(pool)) {}

ComputeContext::~ComputeContext() = default;

Result<std::unique_ptr<ComputeContext>> ComputeContext::create(Backend requested, std::size_t threads,
                                                                DirectIsa direct_isa) {
  if (threads < 1 || threads > 256) {
    return make_status(StatusCode::out_of_range,
                       "compute threads must be in [1, 256], got " + std::to_string(threads));
  }
  auto pool = std::make_unique<ThreadPool>();
  if (requested == Backend::reference) {
    return std::unique_ptr<ComputeContext>(new ComputeContext(Backend::reference, false, 1, direct_isa, std::move(pool)));
  }
#ifdef EDGEFL_HAVE_XNNPACK
  // XNNPACK and the direct kernels share one pthreadpool (none for one thread: they run on the
  // caller's).
  const bool xnnpack_ok = requested == Backend::direct || initialize_xnnpack();
  if (xnnpack_ok && threads > 1) {
    pool->pool = pthreadpool_create(threads);
    if (pool->pool == nullptr) {
      return make_status(StatusCode::resource_exhausted,
                         "cannot create a thread pool of " + std::to_string(threads) + " threads");
    }
  }
  if (xnnpack_ok) {
    return std::unique_ptr<ComputeContext>(new ComputeContext(requested, false, threads, direct_isa, std::move(pool)));
  }
#else
  // Without pthreadpool (a build without XNNPACK) the direct kernels run on one thread.
  if (requested == Backend::direct) {
    return std::unique_ptr<ComputeContext>(new ComputeContext(Backend::direct, false, 1, direct_isa, std::move(pool)));
  }
#endif
  return std::unique_ptr<ComputeContext>(new ComputeContext(Backend::reference, true, 1, direct_isa, std::move(pool)));
}

std::unique_ptr<DenseKernels> ComputeContext::make_kernels() const {
#ifdef EDGEFL_HAVE_XNNPACK
  if (backend_ == Backend::direct) return std::make_unique<DirectKernels>(pool_->pool, select_direct_gemm(direct_isa_));
#else
  if (backend_ == Backend::direct) return std::make_unique<DirectKernels>(nullptr, select_direct_gemm(direct_isa_));
#endif
#ifdef EDGEFL_HAVE_XNNPACK
  if (backend_ == Backend::xnnpack) {
    return std::make_unique<XnnpackKernels>(pool_->pool, select_direct_gemm(direct_isa_));
  }
#endif
  return std::make_unique<ReferenceKernels>();
}

}  // namespace edgefl
