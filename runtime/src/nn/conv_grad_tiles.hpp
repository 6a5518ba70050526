// The register tiles of the Conv2D weight gradient over batch lanes (direct_gemm.hpp,
// ConvGradOperands), as templates over the vector type and tile shape; included by the same
// translation units as direct_gemm_tiles.hpp, for the same reason.
//
// A tile is MO filters x NJ columns (tap, channel) of dW. Per output pixel, each of its NJ
// input rows (or the zero row, off the edge) and MO rows of dy are loaded a vector of samples
// at a time, and MO x NJ multiply-adds go into accumulators that stay in registers for the
// whole pass. Lane l of an accumulator sums samples s = l (mod lanes) over pixels in order;
// the lanes are added up once at the end, in order, so a tile's result does not depend on
// which thread runs it. Nothing from the standard library is called here (see
// direct_gemm_tiles.hpp).
#pragma once

#include <cstddef>
#include <cstring>

#include "direct_gemm_tiles.hpp"

namespace edgefl {

namespace {

// The n < lanes samples left at the end of a row, the rest of the vector zero.
template <typename V>
[[gnu::always_inline]] inline V load_partial(const float* p, std::size_t n) {
  float lanes[kLanes<V>] = {};
  std::memcpy(lanes, p, n * sizeof(float));
  return load<V>(lanes);
}

template <typename V>
[[gnu::always_inline]] inline float lane_total(V v) {
  float sum = 0.0f;
#pragma GCC unroll 16
  for (int l = 0; l < kLanes<V>; ++l) sum += v[l];
  return sum;
}

// acc[i][j] += the products of dy rows dyp + i * b and input rows xr[j] over one pixel's batch.
template <typename V, int MO, int NJ>
[[gnu::always_inline]] inline void grad_pixel(V (&acc)[MO][NJ], const float* dyp, const float* const (&xr)[NJ],
                                              std::size_t b) {
  constexpr std::size_t L = kLanes<V>;
  const std::size_t full = b / L * L;
  for (std::size_t s = 0; s < full; s += L) {
    V d[MO];
#pragma GCC unroll 16
    for (int i = 0; i < MO; ++i) d[i] = load<V>(dyp + i * b + s);
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j) {
      const V xv = load<V>(xr[j] + s);
#pragma GCC unroll 16
      for (int i = 0; i < MO; ++i) acc[i][j] += d[i] * xv;
    }
  }
  if (full < b) {
    V d[MO];
#pragma GCC unroll 16
    for (int i = 0; i < MO; ++i) d[i] = load_partial<V>(dyp + i * b + full, b - full);
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j) {
      const V xv = load_partial<V>(xr[j] + full, b - full);
#pragma GCC unroll 16
      for (int i = 0; i < MO; ++i) acc[i][j] += d[i] * xv;
    }
  }
}

template <typename V, int MO, int NJ>
void grad_tile(const ConvGradOperands& g, std::size_t o0, std::size_t n0) {
  const std::size_t b = g.batch, c = g.channels, pixel = c * b;
  const std::size_t columns = g.kh * g.kw * c, dy_pixel = g.filters * b;
  // Per column: its tap's row offset, and the output columns [lo, hi) whose tap is inside the
  // input; [lo_all, hi_all) is where all NJ are.
  std::size_t ky[NJ], channel[NJ], lo[NJ], hi[NJ], lo_all = 0, hi_all = g.out_w;
  std::ptrdiff_t column_offset[NJ];
  for (int j = 0; j < NJ; ++j) {
    const std::size_t n = n0 + j, t = n / c, kx = t % g.kw;
    channel[j] = (n % c) * b;
    ky[j] = t / g.kw;
    const std::size_t shift = kx * g.dw;  // ix = ox * sw + shift - pad_left
    lo[j] = shift >= g.pad_left ? 0 : (g.pad_left - shift + g.sw - 1) / g.sw;
    hi[j] = shift >= g.pad_left + g.in_w ? 0 : (g.pad_left + g.in_w - shift + g.sw - 1) / g.sw;
    hi[j] = hi[j] < g.out_w ? hi[j] : g.out_w;
    hi[j] = hi[j] > lo[j] ? hi[j] : lo[j];
    column_offset[j] = (std::ptrdiff_t(shift) - std::ptrdiff_t(g.pad_left)) * std::ptrdiff_t(pixel);
    lo_all = lo[j] > lo_all ? lo[j] : lo_all;
    hi_all = hi[j] < hi_all ? hi[j] : hi_all;
  }
  hi_all = hi_all > lo_all ? hi_all : lo_all;
  const std::size_t step = g.sw * pixel;
  V acc[MO][NJ] = {};
  for (std::size_t oy = 0; oy < g.out_h; ++oy) {
    // Each column's input row (its channel at input column 0), unless it is a padding row.
    const float* row[NJ];
    bool row_in[NJ];
    for (int j = 0; j < NJ; ++j) {
      const std::size_t at = oy * g.sh + ky[j] * g.dh;
      row_in[j] = at >= g.pad_top && at - g.pad_top < g.in_h;
      row[j] = row_in[j] ? g.x + (at - g.pad_top) * g.in_w * pixel + channel[j] : g.zeros;
    }
    // Column j's input at output column ox, for ox in [lo[j], hi[j]).
    auto input = [&](int j, std::size_t ox) { return row[j] + (std::ptrdiff_t(ox * step) + column_offset[j]); };
    const float* dy_row = g.dy + oy * g.out_w * dy_pixel + o0 * b;
    auto edge = [&](std::size_t ox) {
      const float* xr[NJ];
      for (int j = 0; j < NJ; ++j) xr[j] = row_in[j] && ox >= lo[j] && ox < hi[j] ? input(j, ox) : g.zeros;
      grad_pixel<V, MO, NJ>(acc, dy_row + ox * dy_pixel, xr, b);
    };
    for (std::size_t ox = 0; ox < lo_all; ++ox) edge(ox);
    // Inside: every column's row moves by one stride per pixel (a padding row stays on zeros).
    const float* xr[NJ];
    std::size_t advance[NJ];
    for (int j = 0; j < NJ; ++j) {
      xr[j] = row_in[j] && lo_all < hi_all ? input(j, lo_all) : g.zeros;
      advance[j] = row_in[j] ? step : 0;
    }
    for (std::size_t ox = lo_all; ox < hi_all; ++ox) {
      grad_pixel<V, MO, NJ>(acc, dy_row + ox * dy_pixel, xr, b);
#pragma GCC unroll 8
      for (int j = 0; j < NJ; ++j) xr[j] += advance[j];
    }
    for (std::size_t ox = hi_all; ox < g.out_w; ++ox) edge(ox);
  }
  // Every index into acc is a constant once unrolled, so the accumulators stay in registers.
#pragma GCC unroll 16
  for (int i = 0; i < MO; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NJ; ++j) g.grad[(o0 + i) * columns + n0 + j] = lane_total(acc[i][j]);
  }
}

// A tile of mo <= MO filters and nj <= NJ columns (the remainders at the edges of dW).
template <typename V, int MO, int NJ>
void grad_tile_columns(const ConvGradOperands& g, std::size_t o0, std::size_t n0, std::size_t nj) {
  if (nj == NJ) {
    grad_tile<V, MO, NJ>(g, o0, n0);
  } else if constexpr (NJ > 1) {
    grad_tile_columns<V, MO, NJ - 1>(g, o0, n0, nj);
  }
}
template <typename V, int MO, int NJ>
void grad_tile_any(const ConvGradOperands& g, std::size_t o0, std::size_t n0, std::size_t mo, std::size_t nj) {
  if (mo == MO) {
    grad_tile_columns<V, MO, NJ>(g, o0, n0, nj);
  } else if constexpr (MO > 1) {
    grad_tile_any<V, MO - 1, NJ>(g, o0, n0, mo, nj);
  }
}

// Tiles [begin, end), filter blocks outer, column blocks inner.
template <typename V, int MO, int NJ>
void conv_grad_rows(const ConvGradOperands& g, std::size_t begin, std::size_t end) {
  const std::size_t columns = g.kh * g.kw * g.channels, column_tiles = (columns + NJ - 1) / NJ;
  for (std::size_t tile = begin; tile < end; ++tile) {
    const std::size_t o0 = tile / column_tiles * MO, n0 = tile % column_tiles * NJ;
    const std::size_t filters = g.filters - o0, rest = columns - n0;
    grad_tile_any<V, MO, NJ>(g, o0, n0, filters < MO ? filters : MO, rest < NJ ? rest : NJ);
  }
}

}  // namespace
}  // namespace edgefl
