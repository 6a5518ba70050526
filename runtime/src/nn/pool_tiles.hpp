// A max pool's disjoint windows (stride >= window) over feature-major cells, as templates over
// the vector type; included by pool.cpp (4 lanes, the reference backend's path) and by the
// direct kernels' translation units (direct_gemm_tiles.hpp says why one per ISA). Each window
// is `n` cells, each m = channels * batch floats, given as pointers in window order.
//   forward   y[j] = the largest cells[q][j] (a running max from -inf, as the general path)
//   backward  the first cell in window order equal to the maximum takes dy[j], the others 0;
//             written once per cell (windows share none) as 0 + what it takes, so -0 becomes
//             +0 as in the general path's zeroed dx plus its share; with `relu`, 0 where the
//             ReLU before would mask it (the cell, its output, is not > 0)
// Nothing from the standard library is called here (see direct_gemm_tiles.hpp).
#pragma once

#include <cstddef>
#include <cstring>

namespace edgefl {

namespace {

template <typename V>
[[gnu::always_inline]] inline V pool_load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// N: the number of cells when known at compile time (a whole 2x2 window), else 0 and n.
template <typename V, std::size_t N>
void max_cells(const float* const* cells, std::size_t n_cells, float* y, std::size_t m) {
  constexpr std::size_t L = sizeof(V) / sizeof(float);
  const std::size_t n = N != 0 ? N : n_cells;
  const float lowest = -__builtin_inff();
  std::size_t j = 0;
  for (; j + L <= m; j += L) {
    V best = lowest + V{};
#pragma GCC unroll 16
    for (std::size_t q = 0; q < n; ++q) {
      const V v = pool_load<V>(cells[q] + j);
      best = v > best ? v : best;
    }
    std::memcpy(y + j, &best, sizeof best);
  }
  for (; j < m; ++j) {
    float best = lowest;
    for (std::size_t q = 0; q < n; ++q) best = cells[q][j] > best ? cells[q][j] : best;
    y[j] = best;
  }
}

template <typename V, std::size_t N, bool Relu>
void max_cells_backward(const float* const* cells, std::size_t n_cells, const float* x, const float* dy, float* dx,
                        std::size_t m) {
  constexpr std::size_t L = sizeof(V) / sizeof(float);
  const std::size_t n = N != 0 ? N : n_cells;
  const float lowest = -__builtin_inff();
  const V zero{};
  std::size_t j = 0;
  for (; j + L <= m; j += L) {
    V best = lowest + zero;
#pragma GCC unroll 16
    for (std::size_t q = 0; q < n; ++q) {
      const V v = pool_load<V>(cells[q] + j);
      best = v > best ? v : best;
    }
    V left = pool_load<V>(dy + j);
#pragma GCC unroll 16
    for (std::size_t q = 0; q < n; ++q) {
      const V v = pool_load<V>(cells[q] + j);
      const V taken = v == best ? left : zero;
      left -= taken;
      V d = zero + taken;
      if constexpr (Relu) d = v > zero ? d : zero;
      std::memcpy(dx + (cells[q] - x) + j, &d, sizeof d);
    }
  }
  for (; j < m; ++j) {
    float best = lowest, left = dy[j];
    for (std::size_t q = 0; q < n; ++q) best = cells[q][j] > best ? cells[q][j] : best;
    for (std::size_t q = 0; q < n; ++q) {
      const float v = cells[q][j], taken = v < best ? 0.0f : left;
      left -= taken;
      dx[(cells[q] - x) + j] = Relu && !(v > 0.0f) ? 0.0f : 0.0f + taken;
    }
  }
}

template <typename V>
void max_pool_cells(const float* const* cells, std::size_t n, float* y, std::size_t m) {
  if (n == 4) {
    max_cells<V, 4>(cells, n, y, m);
  } else {
    max_cells<V, 0>(cells, n, y, m);
  }
}

template <typename V>
void max_pool_cells_backward(const float* const* cells, std::size_t n, const float* x, const float* dy, float* dx,
                             std::size_t m, bool relu) {
  if (n == 4 && relu) {
    max_cells_backward<V, 4, true>(cells, n, x, dy, dx, m);
  } else if (n == 4) {
    max_cells_backward<V, 4, false>(cells, n, x, dy, dx, m);
  } else if (relu) {
    max_cells_backward<V, 0, true>(cells, n, x, dy, dx, m);
  } else {
    max_cells_backward<V, 0, false>(cells, n, x, dy, dx, m);
  }
}

}  // namespace
}  // namespace edgefl
