// Conv2D on the direct GEMM tiles, taps = kh*kw*in_c in the weights' OHWI order:
//   forward      Y[p][filters][b] = relu?(bias + W[filters][taps] X_p[taps][b]) per output
//                pixel p, X_p its window's rows of X read in place through a table of row
//                pointers (a row of zeros off the edge): no gather, bias and a following ReLU
//                applied in the GEMM's registers
//   input grad   dX[run] += W^T[run taps][filters] dY[p][filters][b] per run of window taps
//                on consecutive input pixels (a whole undilated window row): those taps are
//                consecutive rows of dX, updated in place
//   weight grad  dW^T[taps][filters] += col_P[taps][P*b] dY_P^T[P*b][filters] over blocks of P
//                pixels, then one transpose into dW (rows of taps tile better than filters);
//                with fewer filters than a GEMM vector, sums over batch lanes instead
//                (conv_grad_tiles.hpp), reading X and dY in place
// Threads: the forward pass splits the output pixels, the input gradient the input channels
// (each thread owns those rows of dX, so the overlapping windows never race), the weight
// gradient each block's GEMM rows or the lane kernel's tiles (pooled_gemm.hpp; small passes
// stay on the calling thread). Each output is computed the same way on any number of threads,
// so the bits do not depend on it.
#include <algorithm>
#include <cstring>

#include "../transpose.hpp"
#include "conv.hpp"

namespace edgefl {

namespace {

// Inner length of a weight-gradient GEMM to aim for: long enough that each register tile's
// load and store of dW is amortised, short enough that the block stays in L2.
constexpr std::size_t kWeightGradInner = 256;

// Window rows one forward GEMM reads through its table of row pointers (on the stack; a larger
// window takes several GEMMs, each adding to the last).
constexpr std::size_t kIndirectRows = 512;

// f(ky, kx, count, iy, ix) for each run of in-bounds taps of window (oy, ox) that lie on
// consecutive input pixels: taps (ky, kx .. kx+count) read input row iy, columns ix .. ix+count.
template <typename F>
void for_each_run(const Window& k, std::size_t oy, std::size_t ox, const F& f) {
  for (std::size_t ky = 0; ky < k.kh; ++ky) {
    std::size_t iy;
    if (!k.row(oy, ky, iy)) continue;
    std::size_t kx = 0, ix = 0;
    while (kx < k.kw) {
      if (!k.col(ox, kx, ix)) {
        ++kx;
        continue;
      }
      std::size_t count = 1, next;
      while (k.dw == 1 && kx + count < k.kw && k.col(ox, kx + count, next)) ++count;
      f(ky, kx, count, iy, ix);
      kx += count;
    }
  }
}

}  // namespace

std::size_t Conv2D::block_pixels(std::size_t batch) const {
  return std::clamp<std::size_t>(kWeightGradInner / batch, 1, win_.out_h * win_.out_w);
}

Layer::ScratchFloats Conv2D::scratch_floats() const {
  // Weight gradient: block_pixels(b) * b <= kWeightGradInner + b columns of col and dY^T, and
  // dW^T; the forward pass and the batch-lane weight gradient need a row of b zeros.
  const std::size_t t = taps(), f = filters_;
  return {kWeightGradInner * (f + t) + t * f, f + t};
}

void Conv2D::forward_gemm(const PooledGemm& gemm, const LayerForward& a, float* zeros) const {
  const Window& k = win_;
  const std::size_t b = a.batch, t = taps(), c = k.channels, pixels = k.out_h * k.out_w;
  const float* w = a.params + g_.param_offset;
  const float* bias = g_.spec.bias ? w + filters_ * t : nullptr;
  const DirectGemm& kernel = gemm.kernel();
  std::fill_n(zeros, b, 0.0f);  // the window rows off the edge
  gemm.for_each_share(pixels, gemm.tasks_for(multiply_adds(b)), [&](std::size_t p0, std::size_t count) {
    const float* rows[kIndirectRows];
    for (std::size_t p = p0; p < p0 + count; ++p) {
      const std::size_t oy = p / k.out_w, ox = p % k.out_w;
      float* yp = a.y + p * filters_ * b;
      // Window rows [r0, r) per GEMM, up to kIndirectRows: the bias in the first, the ReLU in the last.
      std::size_t r0 = 0, r = 0;
      auto flush = [&] {
        kernel.run({.rows = filters_, .cols = b, .inner = r - r0, .a = w + r0, .a_row = t, .a_inner = 1, .c = yp,
                    .ldc = b, .accumulate = r0 > 0, .b_rows = rows, .bias = r0 == 0 ? bias : nullptr,
                    .relu = fuse_relu_ && r == t},
                   0, filters_);
        r0 = r;
      };
      for (std::size_t ky = 0; ky < k.kh; ++ky) {
        std::size_t iy = 0;
        const bool row_in = k.row(oy, ky, iy);
        for (std::size_t kx = 0; kx < k.kw; ++kx) {
          std::size_t ix = 0;
          const float* pixel = row_in && k.col(ox, kx, ix) ? a.x + (iy * k.in_w + ix) * c * b : nullptr;
          for (std::size_t i = 0; i < c; ++i, ++r) {
            if (r - r0 == kIndirectRows) flush();
            rows[r - r0] = pixel != nullptr ? pixel + i * b : zeros;
          }
        }
      }
      flush();
    }
  });
}

void Conv2D::input_grad_gemm(const PooledGemm& gemm, const LayerBackward& a) const {
  const Window& k = win_;
  const std::size_t b = a.batch, t = taps(), c = k.channels, pixels = k.out_h * k.out_w;
  const float* w = a.params + g_.param_offset;
  const DirectGemm& kernel = gemm.kernel();
  std::fill_n(a.dx, g_.in.size() * b, 0.0f);
  // Channels [i0, i0 + n) of every input pixel belong to one task.
  gemm.for_each_share(c, gemm.tasks_for(multiply_adds(b)), [&](std::size_t i0, std::size_t n) {
    for (std::size_t p = 0; p < pixels; ++p) {
      const std::size_t oy = p / k.out_w, ox = p % k.out_w;
      const float* dyp = a.dy + p * filters_ * b;
      for_each_run(k, oy, ox, [&](std::size_t ky, std::size_t kx, std::size_t taps_run, std::size_t iy,
                                  std::size_t ix) {
        // Rows (tap j, channel i) of the run: all of them as one GEMM, or the task's channels tap by tap.
        const GemmOperands g{.rows = taps_run * c, .cols = b, .inner = filters_, .a = w + (ky * k.kw + kx) * c,
                             .a_row = 1, .a_inner = t, .b = dyp, .ldb = b, .c = a.dx + (iy * k.in_w + ix) * c * b,
                             .ldc = b, .accumulate = true};
        if (n == c) {
          kernel.run(g, 0, g.rows);
          return;
        }
        for (std::size_t j = 0; j < taps_run; ++j) kernel.run(g, j * c + i0, j * c + i0 + n);
      });
    }
  });
}

void Conv2D::weight_grad_gemm(const PooledGemm& gemm, const LayerBackward& a, float* scratch) const {
  const Window& k = win_;
  const std::size_t b = a.batch, t = taps(), pixels = k.out_h * k.out_w;
  // Fewer filters than a vector of the GEMM: its dW^T would run in scalar code (and its window
  // gathers and transposes cost as much as the multiply-adds), so sum over batch lanes instead
  // (conv_grad_tiles.hpp). From one vector up the GEMM is faster (measured at 16 filters).
  if (filters_ < gemm.kernel().column_lanes) {
    weight_grad_lanes(gemm, a, scratch);
    return;
  }
  const std::size_t run = k.channels * b, block = block_pixels(b);
  float* col = scratch;                            // [taps][n*b]: the block's windows side by side
  float* dy_t = col + t * block * b;               // [n*b][filters]
  float* dw_t = dy_t + block * b * filters_;       // [taps][filters]
  for (std::size_t p0 = 0; p0 < pixels; p0 += block) {
    const std::size_t n = std::min(block, pixels - p0), inner = n * b;
    for (std::size_t l = 0; l < n; ++l) {
      const std::size_t p = p0 + l, oy = p / k.out_w, ox = p % k.out_w;
      for (std::size_t ky = 0; ky < k.kh; ++ky) {
        std::size_t iy = 0;
        const bool row_in = k.row(oy, ky, iy);
        for (std::size_t kx = 0; kx < k.kw; ++kx) {
          float* dst = col + (ky * k.kw + kx) * k.channels * inner + l * b;
          std::size_t ix = 0;
          const bool in = row_in && k.col(ox, kx, ix);
          const float* src = in ? a.x + (iy * k.in_w + ix) * run : nullptr;
          for (std::size_t i = 0; i < k.channels; ++i) {
            if (in) {
              std::memcpy(dst + i * inner, src + i * b, b * sizeof(float));
            } else {
              std::fill_n(dst + i * inner, b, 0.0f);
            }
          }
        }
      }
      transpose(a.dy + p * filters_ * b, dy_t + l * b * filters_, filters_, b);
    }
    gemm.run({.rows = t, .cols = filters_, .inner = inner, .a = col, .a_row = inner, .a_inner = 1, .b = dy_t,
              .ldb = filters_, .c = dw_t, .ldc = filters_, .accumulate = p0 > 0});
  }
  transpose(dw_t, a.param_grads, t, filters_);
}

void Conv2D::weight_grad_lanes(const PooledGemm& gemm, const LayerBackward& a, float* zeros) const {
  const Window& k = win_;
  std::fill_n(zeros, a.batch, 0.0f);
  const ConvGradOperands g{.in_h = k.in_h, .in_w = k.in_w, .channels = k.channels, .out_h = k.out_h,
                           .out_w = k.out_w, .kh = k.kh, .kw = k.kw, .sh = k.sh, .sw = k.sw, .dh = k.dh,
                           .dw = k.dw, .pad_top = k.pad_top, .pad_left = k.pad_left, .filters = filters_,
                           .batch = a.batch, .x = a.x, .dy = a.dy, .zeros = zeros, .grad = a.param_grads};
  const DirectGemm& kernel = gemm.kernel();
  gemm.for_each_share(kernel.conv_grad_tiles(g), gemm.tasks_for(multiply_adds(a.batch)),
                      [&](std::size_t begin, std::size_t count) { kernel.conv_grad(g, begin, begin + count); });
}

}  // namespace edgefl
