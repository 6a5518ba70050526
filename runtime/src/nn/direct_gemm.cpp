#include "direct_gemm.hpp"

#include <cstdlib>
#include <string_view>

#include "direct_gemm_tiles.hpp"

namespace edgefl {

#if defined(__x86_64__)
// direct_gemm_avx2.cpp, direct_gemm_avx512.cpp: the tiles compiled for those ISAs; call only
// when the CPU has them.
void direct_gemm_avx2(const GemmOperands& g, std::size_t begin, std::size_t end);
void direct_gemm_avx512(const GemmOperands& g, std::size_t begin, std::size_t end);
#endif

namespace {

using GemmFunction = void (*)(const GemmOperands&, std::size_t, std::size_t);

// Tiles fit the register file: 6x16 is 12 accumulators of 16 AVX or 24 of 32 AArch64 NEON
// registers; 4x8 fits the 16 registers of SSE and 32-bit NEON (as 8 of them).
#if defined(__aarch64__)
constexpr int kPortableRows = 6, kPortableVectors = 2;
#else
constexpr int kPortableRows = 4, kPortableVectors = 1;
#endif

void gemm_portable(const GemmOperands& g, std::size_t begin, std::size_t end) {
  gemm_rows<Vec8, kPortableRows, kPortableVectors>(g, begin, end);
}

#if defined(__x86_64__)
// The widest kernel the CPU runs, or a narrower one named by EDGEFL_DIRECT_ISA (avx2, portable):
// how tests cover every kernel on one machine, and how to compare them.
GemmFunction select_x86() {
  __builtin_cpu_init();
  const char* wanted = std::getenv("EDGEFL_DIRECT_ISA");
  const std::string_view cap = wanted != nullptr ? wanted : "";
  if (cap == "portable") return gemm_portable;
  if (cap != "avx2" && __builtin_cpu_supports("avx512f")) return direct_gemm_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return direct_gemm_avx2;
  return gemm_portable;
}
#endif

// Chosen once: the CPU does not change under a running process.
GemmFunction select_gemm() {
#if defined(__x86_64__)
  static const GemmFunction chosen = select_x86();
  return chosen;
#else
  return gemm_portable;
#endif
}

}  // namespace

void direct_gemm(const GemmOperands& g, std::size_t row_begin, std::size_t row_end) {
  select_gemm()(g, row_begin, row_end);
}

std::size_t direct_gemm_row_tile() {
#if defined(__x86_64__)
  if (select_gemm() == direct_gemm_avx512) return kAvx512Rows;
  if (select_gemm() == direct_gemm_avx2) return kAvx2Rows;
#endif
  return kPortableRows;
}

const char* direct_gemm_isa() {
#if defined(__x86_64__)
  if (select_gemm() == direct_gemm_avx512) return "avx512f";
  if (select_gemm() == direct_gemm_avx2) return "avx2+fma";
#endif
  return "portable";
}

}  // namespace edgefl
