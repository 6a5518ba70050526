// direct_gemm's tiles for AVX-512 (Skylake-SP and later, Zen 4/5): this file alone is built with
// -mavx512f -mfma -ffp-contract=fast. 12 x 32 tiles: 24 of the 32 registers accumulate, and each
// step of the inner dimension is 2 loads and 12 broadcasts for 24 fused multiply-adds.
#include "direct_gemm_tiles.hpp"

namespace edgefl {

#if defined(__x86_64__)
void direct_gemm_avx512(const GemmOperands& g, std::size_t begin, std::size_t end) {
  gemm_rows<Vec16, kAvx512Rows, 2>(g, begin, end);
}
#endif

}  // namespace edgefl
