// Packing-free GEMM for Dense layers: reads both operands where they are, so weights that change
// every step are never copied (XNNPACK 2022 must pack one operand per operator, which cost a fifth
// of a training step). Register-tiled: MR rows of A broadcast against 16 contiguous columns of B.
//
//   C[m][j] = sum_p A(m, p) * B[p][j],   A(m, p) = a[m * a_row + p * a_inner]
//   (or C[m][j] += that sum when `accumulate`: the conv layers sum products over pixel blocks;
//   or bias[m] + that sum, then max(., 0) when `relu`: a conv's forward pass)
//
// Strided A covers both W (a_row = K, a_inner = 1) and W^T (a_row = 1, a_inner = K) without a
// transpose. B and C are row-major with leading dimensions ldb, ldc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgefl {

// edgefl/nn/compute.hpp, not included: this header is also compiled with -mavx2 / -mavx512f, where
// inline library code from other headers must not be instantiated.
enum class DirectIsa : uint8_t;

struct GemmOperands {
  std::size_t rows = 0, cols = 0, inner = 0;
  const float* a = nullptr;
  std::size_t a_row = 0, a_inner = 0;
  const float* b = nullptr;
  std::size_t ldb = 0;
  float* c = nullptr;
  std::size_t ldc = 0;
  bool accumulate = false;
  // Optional. b_rows: B's rows where they are (row p at b_rows[p]; b and ldb unused), so a
  // conv's window is read in place. bias: C[m][j] = bias[m] + the sum (instead of C's old
  // value). relu: C = max(C, 0) as it is stored.
  const float* const* b_rows = nullptr;
  const float* bias = nullptr;
  bool relu = false;
};

// Computes rows [row_begin, row_end) of C.
using GemmFunction = void (*)(const GemmOperands& g, std::size_t row_begin, std::size_t row_end);

// A Conv2D weight gradient summed over the batch lanes instead of through a GEMM's inner
// dimension: dW[o][t][i] = sum over output pixels p, samples s of dy[p][o][s] x[q(p, t)][i][s],
// with x, dy feature-major ([pixel][channel][batch]) and t = ky * kw + kx. Rows of dy and x are
// read where they are (no window gather, no transpose), padding taps read `zeros`; each output
// keeps a vector of partial sums (one per lane) in a register over all pixels and is reduced
// once, in a fixed order. For fewer filters than DirectGemm::column_lanes, where a GEMM over
// [taps][pixels*batch] x [pixels*batch][filters] would run in its scalar column tail. The window is
// spelled out here (window.hpp's Window) because this header is compiled with -m flags too.
struct ConvGradOperands {
  std::size_t in_h = 0, in_w = 0, channels = 0, out_h = 0, out_w = 0;
  std::size_t kh = 0, kw = 0, sh = 0, sw = 0, dh = 0, dw = 0, pad_top = 0, pad_left = 0;
  std::size_t filters = 0, batch = 0;
  const float* x = nullptr;      // [in_h * in_w][channels][batch]
  const float* dy = nullptr;     // [out_h * out_w][filters][batch]
  const float* zeros = nullptr;  // batch zeros
  float* grad = nullptr;         // dW: [filters][kh * kw * channels]
};

// Computes the outputs of register tiles [tile_begin, tile_end) (conv_grad_tiles(): how many).
using ConvGradFunction = void (*)(const ConvGradOperands& g, std::size_t tile_begin, std::size_t tile_end);

// A max pool's disjoint windows (pool_tiles.hpp): one window of n cells of m floats each.
using MaxPoolFunction = void (*)(const float* const* cells, std::size_t n, float* y, std::size_t m);
using MaxPoolBackwardFunction = void (*)(const float* const* cells, std::size_t n, const float* x, const float* dy,
                                         float* dx, std::size_t m, bool relu);

// One kernel of direct_gemm: AVX-512, AVX2+FMA or portable vector code.
struct DirectGemm {
  GemmFunction run = nullptr;
  // Rows of C per register tile: row ranges that are multiples of it run without remainder tiles.
  std::size_t row_tile = 0;
  // Columns of C per vector: a C narrower than this runs in scalar code.
  std::size_t column_lanes = 0;
  const char* isa = "";  // "avx512f", "avx2+fma" or "portable"
  ConvGradFunction conv_grad = nullptr;
  // Its register tile: filters x (tap, channel) columns.
  std::size_t grad_filters = 0, grad_columns = 0;
  MaxPoolFunction max_pool = nullptr;
  MaxPoolBackwardFunction max_pool_backward = nullptr;

  std::size_t conv_grad_tiles(const ConvGradOperands& g) const {
    return (g.filters + grad_filters - 1) / grad_filters *
           ((g.kh * g.kw * g.channels + grad_columns - 1) / grad_columns);
  }
};

// The widest kernel this CPU runs, but none wider than `cap`.
DirectGemm select_direct_gemm(DirectIsa cap);

}  // namespace edgefl
