// The register tiles of direct_gemm, as templates over the vector type and tile shape. Included
// by direct_gemm.cpp (portable build), direct_gemm_avx2.cpp (-mavx2 -mfma) and
// direct_gemm_avx512.cpp (-mavx512f -mfma): GCC lowers vector code to the ISA of the translation
// unit, so each ISA needs its own unit, and the unnamed namespace keeps the instantiations apart.
#pragma once

#include <cstring>
#include <utility>

#include "direct_gemm.hpp"

namespace edgefl {

// Tile rows of the x86 kernels (direct_gemm_avx2.cpp, direct_gemm_avx512.cpp).
inline constexpr int kAvx2Rows = 6;
inline constexpr int kAvx512Rows = 12;
// Filters x columns of their conv weight-gradient tiles (conv_grad_tiles.hpp).
inline constexpr int kAvx2GradFilters = 4, kAvx2GradColumns = 2;
inline constexpr int kAvx512GradFilters = 8, kAvx512GradColumns = 3;

namespace {

// Floats in GCC's vector extension. Vec8: one AVX register, two SSE or NEON registers;
// Vec16: one AVX-512 register.
typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));

template <typename V>
constexpr int kLanes = sizeof(V) / sizeof(float);

template <typename V>
[[gnu::always_inline]] inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename V>
[[gnu::always_inline]] inline void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}
// V{x, x, ..., x}: GCC turns that initialiser into one broadcast (V{} + x would add 0.0 and
// shuffle, and a loop over the lanes becomes masked broadcasts).
template <typename V, std::size_t... I>
[[gnu::always_inline]] inline V splat_lanes(float x, std::index_sequence<I...>) {
  return V{((void)I, x)...};
}
template <typename V>
[[gnu::always_inline]] inline V splat(float x) {
  return splat_lanes<V>(x, std::make_index_sequence<kLanes<V>>{});
}

// Row p of B: at b + p * ldb, or at b_rows[p] (Indirect).
template <bool Indirect>
[[gnu::always_inline]] inline const float* b_row(const GemmOperands& g, std::size_t p, std::size_t j0) {
  if constexpr (Indirect) {
    return g.b_rows[p] + j0;
  } else {
    return g.b + p * g.ldb + j0;
  }
}

// max(x, 0) as std::max(x, 0.0f) (a NaN stays a NaN).
template <typename V>
[[gnu::always_inline]] inline V relu(V x) {
  return x < V{} ? V{} : x;
}

// One MR x (lanes * NV) tile of C: per step of the inner dimension, NV vector loads of a B row and MR
// broadcasts of A, MR * NV multiply-adds into accumulators that stay in registers.
template <typename V, int MR, int NV, bool Indirect>
[[gnu::always_inline]] inline void tile(const GemmOperands& g, std::size_t m0, std::size_t j0) {
  V acc[MR][NV] = {};
  if (g.bias != nullptr) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V bias = splat<V>(g.bias[m0 + i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = bias;
    }
  } else if (g.accumulate) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = load<V>(g.c + (m0 + i) * g.ldc + j0 + kLanes<V> * v);
    }
  }
  const float* a = g.a + m0 * g.a_row;
  for (std::size_t p = 0; p < g.inner; ++p) {
    const float* b = b_row<Indirect>(g, p, j0);
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = load<V>(b + kLanes<V> * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V ai = splat<V>(a[i * g.a_row]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
    }
    a += g.a_inner;
  }
  if (g.relu) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = relu(acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* c = g.c + (m0 + i) * g.ldc + j0;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) store<V>(c + kLanes<V> * v, acc[i][v]);
  }
}

// The last width < 16 columns of MR rows, in scalar code.
template <int MR, bool Indirect>
[[gnu::always_inline]] inline void column_tail(const GemmOperands& g, std::size_t m0, std::size_t j0,
                                               std::size_t width) {
  float acc[MR][16] = {};
  if (g.bias != nullptr) {
    for (int i = 0; i < MR; ++i) {
      for (std::size_t j = 0; j < width; ++j) acc[i][j] = g.bias[m0 + i];
    }
  } else if (g.accumulate) {
    for (int i = 0; i < MR; ++i) std::memcpy(acc[i], g.c + (m0 + i) * g.ldc + j0, width * sizeof(float));
  }
  const float* a = g.a + m0 * g.a_row;
  for (std::size_t p = 0; p < g.inner; ++p) {
    const float* b = b_row<Indirect>(g, p, j0);
    for (int i = 0; i < MR; ++i) {
      const float ai = a[i * g.a_row];
      for (std::size_t j = 0; j < width; ++j) acc[i][j] += ai * b[j];
    }
    a += g.a_inner;
  }
  for (int i = 0; i < MR; ++i) {
    float* c = g.c + (m0 + i) * g.ldc + j0;
    for (std::size_t j = 0; j < width; ++j) c[j] = g.relu && acc[i][j] < 0.0f ? 0.0f : acc[i][j];
  }
}

// MR rows of C, all columns.
template <typename V, int MR, int NV, bool Indirect>
[[gnu::always_inline]] inline void row_block(const GemmOperands& g, std::size_t m0) {
  constexpr int L = kLanes<V>;
  std::size_t j = 0;
  for (; j + L * NV <= g.cols; j += L * NV) tile<V, MR, NV, Indirect>(g, m0, j);
  if constexpr (NV > 1) {
    for (; j + L <= g.cols; j += L) tile<V, MR, 1, Indirect>(g, m0, j);
  }
  if (j < g.cols) column_tail<MR, Indirect>(g, m0, j, g.cols - j);
}

// The last count < MR rows.
template <typename V, int R, int NV, bool Indirect>
[[gnu::always_inline]] inline void row_tail(const GemmOperands& g, std::size_t m0, std::size_t count) {
  if constexpr (R > 0) {
    if (count == R) {
      row_block<V, R, NV, Indirect>(g, m0);
    } else {
      row_tail<V, R - 1, NV, Indirect>(g, m0, count);
    }
  }
}

template <typename V, int MR, int NV, bool Indirect>
[[gnu::always_inline]] inline void gemm_rows_of(const GemmOperands& g, std::size_t begin, std::size_t end) {
  std::size_t m = begin;
  for (; m + MR <= end; m += MR) row_block<V, MR, NV, Indirect>(g, m);
  if (m < end) row_tail<V, MR - 1, NV, Indirect>(g, m, end - m);
}

template <typename V, int MR, int NV>
[[gnu::always_inline]] inline void gemm_rows(const GemmOperands& g, std::size_t begin, std::size_t end) {
  if (g.b_rows != nullptr) {
    gemm_rows_of<V, MR, NV, true>(g, begin, end);
  } else {
    gemm_rows_of<V, MR, NV, false>(g, begin, end);
  }
}

}  // namespace
}  // namespace edgefl
