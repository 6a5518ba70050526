// direct_gemm's tiles for AVX2 + FMA (Haswell and later, Zen): this file alone is built with
// -mavx2 -mfma -ffp-contract=fast, so Vec8 is one register and acc += a * b is one vfmadd.
#include "conv_grad_tiles.hpp"
#include "pool_tiles.hpp"

namespace edgefl {

#if defined(__x86_64__)
void direct_gemm_avx2(const GemmOperands& g, std::size_t begin, std::size_t end) {
  gemm_rows<Vec8, kAvx2Rows, 2>(g, begin, end);
}
// 4 filters x 2 columns: 8 accumulators and 5 operands of the 16 registers.
void conv_grad_avx2(const ConvGradOperands& g, std::size_t begin, std::size_t end) {
  conv_grad_rows<Vec8, kAvx2GradFilters, kAvx2GradColumns>(g, begin, end);
}
void max_pool_avx2(const float* const* cells, std::size_t n, float* y, std::size_t m) {
  max_pool_cells<Vec8>(cells, n, y, m);
}
void max_pool_backward_avx2(const float* const* cells, std::size_t n, const float* x, const float* dy, float* dx,
                          std::size_t m, bool relu) {
  max_pool_cells_backward<Vec8>(cells, n, x, dy, dx, m, relu);
}
#endif

}  // namespace edgefl
