#include "direct_gemm.hpp"

#include "conv_grad_tiles.hpp"
#include "pool_tiles.hpp"
#include "edgefl/nn/compute.hpp"

namespace edgefl {

#if defined(__x86_64__)
// direct_gemm_avx2.cpp, direct_gemm_avx512.cpp: the tiles compiled for those ISAs; call only
// when the CPU has them.
void direct_gemm_avx2(const GemmOperands& g, std::size_t begin, std::size_t end);
void direct_gemm_avx512(const GemmOperands& g, std::size_t begin, std::size_t end);
void conv_grad_avx2(const ConvGradOperands& g, std::size_t begin, std::size_t end);
void conv_grad_avx512(const ConvGradOperands& g, std::size_t begin, std::size_t end);
void max_pool_avx2(const float* const* cells, std::size_t n, float* y, std::size_t m);
void max_pool_avx512(const float* const* cells, std::size_t n, float* y, std::size_t m);
void max_pool_backward_avx2(const float* const* cells, std::size_t n, const float* x, const float* dy, float* dx,
                            std::size_t m, bool relu);
void max_pool_backward_avx512(const float* const* cells, std::size_t n, const float* x, const float* dy, float* dx,
                              std::size_t m, bool relu);
#endif

namespace {

// Tiles fit the register file: 6x16 is 12 accumulators of 16 AVX or 24 of 32 AArch64 NEON
// registers; 4x8 fits the 16 registers of SSE and 32-bit NEON (as 8 of them).
// The conv weight-gradient tiles likewise: 4x2 Vec8 accumulators are 16 of AArch64's 32
// registers, 2x2 are 8 of the 16 of SSE and 32-bit NEON.
#if defined(__aarch64__)
constexpr int kPortableRows = 6, kPortableVectors = 2;
constexpr int kPortableGradFilters = 4, kPortableGradColumns = 2;
#else
constexpr int kPortableRows = 4, kPortableVectors = 1;
constexpr int kPortableGradFilters = 2, kPortableGradColumns = 2;
#endif

void gemm_portable(const GemmOperands& g, std::size_t begin, std::size_t end) {
  gemm_rows<Vec8, kPortableRows, kPortableVectors>(g, begin, end);
}
void conv_grad_portable(const ConvGradOperands& g, std::size_t begin, std::size_t end) {
  conv_grad_rows<Vec8, kPortableGradFilters, kPortableGradColumns>(g, begin, end);
}

}  // namespace

DirectGemm select_direct_gemm(DirectIsa cap) {
  const DirectGemm portable{gemm_portable,        kPortableRows,         kLanes<Vec8>,
                            "portable",           conv_grad_portable,    kPortableGradFilters,
                            kPortableGradColumns, max_pool_cells<Vec8>, max_pool_cells_backward<Vec8>};
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (cap == DirectIsa::portable) return portable;
  if (cap == DirectIsa::best && __builtin_cpu_supports("avx512f")) {
    return {direct_gemm_avx512, kAvx512Rows,        kLanes<Vec16>,      "avx512f",
            conv_grad_avx512,   kAvx512GradFilters, kAvx512GradColumns, max_pool_avx512,
            max_pool_backward_avx512};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {direct_gemm_avx2, kAvx2Rows,        kLanes<Vec8>,      "avx2+fma",   conv_grad_avx2,
            kAvx2GradFilters, kAvx2GradColumns, max_pool_avx2, max_pool_backward_avx2};
  }
#else
  (void)cap;
#endif
  return portable;
}

}  // namespace edgefl
