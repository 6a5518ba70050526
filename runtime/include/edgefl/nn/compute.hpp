// ComputeContext: which kernels run the Dense layers, and on how many threads.
//
//   auto ctx = edgefl::ComputeContext::create(edgefl::Backend::xnnpack, /*threads=*/1);
//   if (!ctx) return ctx.status();
//   (*ctx)->backend();   // Backend::reference if XNNPACK could not initialise
//
// One context is shared by every Network of a process (the device has one). Backends:
//   direct     edgefl's own packing-free GEMM (AVX-512 / AVX2+FMA / portable vector code), the
//              fastest on x86-64 (bench/train_step).
//   xnnpack    XNNPACK fully-connected operators.
// threads > 1 creates a pthreadpool both use (builds without XNNPACK have no pthreadpool and run
// direct on one thread).
//   reference  plain loops: the test oracle, and the fallback when xnn_initialize fails or the
//              build has no XNNPACK.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class Backend : uint8_t { reference, xnnpack, direct };

std::string_view backend_name(Backend backend);
Result<Backend> parse_backend(std::string_view name);
// What devices and the server use unless told otherwise ("auto"): direct where its vector
// kernels run (x86-64 with AVX2+FMA or AVX-512, where it measured fastest), XNNPACK elsewhere
// (ARM boards: XNNPACK's hand-written NEON kernels, not measurable here against ours).
Backend default_backend();
// A backend name, or "auto" for default_backend().
Result<Backend> resolve_backend(std::string_view name);

// The widest instruction set the direct backend may use: `best` is the widest this CPU runs;
// the caps make a narrower kernel run (to cover or compare every kernel on one machine).
enum class DirectIsa : uint8_t { best, avx2, portable };
// "best", "avx2" or "portable".
Result<DirectIsa> parse_direct_isa(std::string_view name);
std::string_view direct_isa_name(DirectIsa isa);  // "best", "avx2", "portable"
// The instruction set the direct backend's kernels use here under `cap`: "avx512f", "avx2+fma"
// or "portable".
std::string_view direct_kernel_isa(DirectIsa cap = DirectIsa::best);

class DenseKernels;  // private: runtime/src/nn/dense_kernels.hpp

class ComputeContext {
 public:
  // Backend::xnnpack falls back to Backend::reference (fell_back() == true) when XNNPACK cannot
  // initialise; threads must be in [1, 256]. `direct_isa` caps the direct backend's kernels.
  static Result<std::unique_ptr<ComputeContext>> create(Backend requested, std::size_t threads = 1,
                                                        DirectIsa direct_isa = DirectIsa::best);
  ~ComputeContext();
  ComputeContext(const ComputeContext&) = delete;
  ComputeContext& operator=(const ComputeContext&) = delete;

  Backend backend() const { return backend_; }
  bool fell_back() const { return fell_back_; }
  std::size_t threads() const { return threads_; }
  // What the direct backend's kernels run here ("avx512f", "avx2+fma" or "portable").
  std::string_view direct_kernel_isa() const { return edgefl::direct_kernel_isa(direct_isa_); }

  // Kernels for one Network (each owns its own packing arena). Used by Network.
  std::unique_ptr<DenseKernels> make_kernels() const;

 private:
  struct ThreadPool;
  ComputeContext(Backend backend, bool fell_back, std::size_t threads, DirectIsa direct_isa,
                 std::unique_ptr<ThreadPool> pool);

  Backend backend_;
  bool fell_back_;
  std::size_t threads_;
  DirectIsa direct_isa_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace edgefl
