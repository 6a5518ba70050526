// direct_gemm's tiles for AVX-512 (Skylake-SP and later, Zen 4/5): this file alone is built with
// -mavx512f -mfma -ffp-contract=fast. 12 x 32 tiles: 24 of the 32 registers accumulate, and each
// step of the inner dimension is 2 loads and 12 broadcasts for 24 fused multiply-adds.
#include "conv_grad_tiles.hpp"
#include "pool_tiles.hpp"

namespace edgefl {

#if defined(__x86_64__)
void direct_gemm_avx512(const GemmOperands& g, std::size_t begin, std::size_t end) {
  gemm_rows<Vec16, kAvx512Rows, 2>(g, begin, end);
}
// 8 filters x 3 columns: 24 accumulators, 8 + 3 loads per 24 multiply-adds.
void conv_grad_avx512(const ConvGradOperands& g, std::size_t begin, std::size_t end) {
  conv_grad_rows<Vec16, kAvx512GradFilters, kAvx512GradColumns>(g, begin, end);
}
void max_pool_avx512(const float* const* cells, std::size_t n, float* y, std::size_t m) {
  max_pool_cells<Vec16>(cells, n, y, m);
}
void max_pool_backward_avx512(const float* const* cells, std::size_t n, const float* x, const float* dy, float* dx,
                          std::size_t m, bool relu) {
  max_pool_cells_backward<Vec16>(cells, n, x, dy, dx, m, relu);
}
#endif

}  // namespace edgefl
