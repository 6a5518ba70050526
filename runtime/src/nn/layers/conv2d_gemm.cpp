// Conv2D on the direct GEMM tiles. Per output pixel p, its window gathered into a scratch
// col[taps][batch] (taps = kh*kw*in_c, in the weights' OHWI order) makes each pass one GEMM:
//   forward      Y[p][filters][b]  = bias + W[filters][taps] col_p[taps][b]
//   input grad   col[taps][b]      = W^T[taps][filters] dY[p][filters][b], added back onto the window
// With many input channels, forward and input gradient skip the gather: the in-bounds taps of
// one window row with consecutive input columns (all of them, undilated) are kw*in_c
// consecutive rows of X, so X and dX serve as the GEMM operands in place, one GEMM per run.
//   weight grad  dW^T[taps][filters] += col_P[taps][P*b] dY_P^T[P*b][filters] over blocks of P
//                pixels, then one transpose into dW (rows of taps tile better than rows of filters)
// The gathers and transposes move taps*b floats per pixel against filters*taps*b multiply-adds. Each GEMM's
// rows are spread over the pool (pooled_gemm.hpp), so results do not depend on the thread count.
#include <algorithm>
#include <cstring>

#include "../transpose.hpp"
#include "conv.hpp"

namespace edgefl {

namespace {

// Inner length of a weight-gradient GEMM to aim for: long enough that each register tile's
// load and store of dW is amortised, short enough that the block stays in L2.
constexpr std::size_t kWeightGradInner = 256;

// Input channels from which a window run is long enough a GEMM inner dimension (or row count)
// to beat gathering the whole window into one GEMM.
constexpr std::size_t kRunChannels = 16;

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

std::size_t Conv2D::scratch_floats(std::size_t max_batch) const {
  // block_pixels(b) * b over every b <= max_batch: at most kWeightGradInner while a block has
  // several pixels, else one pixel's b <= max_batch.
  const std::size_t pixels = win_.out_h * win_.out_w;
  const std::size_t block = std::max(max_batch, std::min(kWeightGradInner, pixels * max_batch));
  return std::max(taps() * max_batch, block * (filters_ + taps()) + taps() * filters_);
}

void Conv2D::gather_window(std::size_t oy, std::size_t ox, const float* x, std::size_t b, float* col) const {
  const Window& k = win_;
  const std::size_t run = k.channels * b;  // one input pixel: in_c rows of the batch
  for (std::size_t ky = 0; ky < k.kh; ++ky) {
    std::size_t iy = 0;
    const bool row_in = k.row(oy, ky, iy);
    for (std::size_t kx = 0; kx < k.kw; ++kx) {
      float* dst = col + (ky * k.kw + kx) * run;
      std::size_t ix = 0;
      if (row_in && k.col(ox, kx, ix)) {
        std::memcpy(dst, x + (iy * k.in_w + ix) * run, run * sizeof(float));
      } else {
        std::fill_n(dst, run, 0.0f);
      }
    }
  }
}

void Conv2D::forward_gemm(const PooledGemm& gemm, const LayerForward& a, float* col) const {
  const std::size_t b = a.batch, t = taps();
  const float* w = a.params + g_.param_offset;
  const float* bias = g_.spec.bias ? w + filters_ * t : nullptr;
  for (std::size_t oy = 0; oy < win_.out_h; ++oy) {
    for (std::size_t ox = 0; ox < win_.out_w; ++ox) {
      float* yp = a.y + (oy * win_.out_w + ox) * filters_ * b;
      for (std::size_t o = 0; o < filters_; ++o) std::fill_n(yp + o * b, b, bias != nullptr ? bias[o] : 0.0f);
      if (win_.channels >= kRunChannels) {
        for_each_run(win_, oy, ox, [&](std::size_t ky, std::size_t kx, std::size_t count, std::size_t iy, std::size_t ix) {
          gemm.run({.rows = filters_, .cols = b, .inner = count * win_.channels,
                    .a = w + (ky * win_.kw + kx) * win_.channels, .a_row = t, .a_inner = 1,
                    .b = a.x + (iy * win_.in_w + ix) * win_.channels * b, .ldb = b, .c = yp, .ldc = b,
                    .accumulate = true});
        });
        continue;
      }
      gather_window(oy, ox, a.x, b, col);
      gemm.run({.rows = filters_, .cols = b, .inner = t, .a = w, .a_row = t, .a_inner = 1, .b = col, .ldb = b,
                .c = yp, .ldc = b, .accumulate = true});
    }
  }
}

void Conv2D::input_grad_gemm(const PooledGemm& gemm, const LayerBackward& a, float* col) const {
  const Window& k = win_;
  const std::size_t b = a.batch, t = taps(), run = k.channels * b;
  const float* w = a.params + g_.param_offset;
  std::fill_n(a.dx, g_.in.size() * b, 0.0f);
  for (std::size_t oy = 0; oy < k.out_h; ++oy) {
    for (std::size_t ox = 0; ox < k.out_w; ++ox) {
      const float* dyp = a.dy + (oy * k.out_w + ox) * filters_ * b;
      if (k.channels >= kRunChannels) {
        for_each_run(k, oy, ox, [&](std::size_t ky, std::size_t kx, std::size_t count, std::size_t iy, std::size_t ix) {
          gemm.run({.rows = count * k.channels, .cols = b, .inner = filters_, .a = w + (ky * k.kw + kx) * k.channels,
                    .a_row = 1, .a_inner = t, .b = dyp, .ldb = b, .c = a.dx + (iy * k.in_w + ix) * run, .ldc = b,
                    .accumulate = true});
        });
        continue;
      }
      gemm.run({.rows = t, .cols = b, .inner = filters_, .a = w, .a_row = 1, .a_inner = t, .b = dyp, .ldb = b,
                .c = col, .ldc = b});
      for (std::size_t ky = 0; ky < k.kh; ++ky) {
        std::size_t iy;
        if (!k.row(oy, ky, iy)) continue;
        for (std::size_t kx = 0; kx < k.kw; ++kx) {
          std::size_t ix;
          if (!k.col(ox, kx, ix)) continue;
          float* dxq = a.dx + (iy * k.in_w + ix) * run;
          const float* src = col + (ky * k.kw + kx) * run;
          for (std::size_t j = 0; j < run; ++j) dxq[j] += src[j];
        }
      }
    }
  }
}

void Conv2D::weight_grad_gemm(const PooledGemm& gemm, const LayerBackward& a, float* scratch) const {
  const Window& k = win_;
  const std::size_t b = a.batch, t = taps(), run = k.channels * b, pixels = k.out_h * k.out_w;
  const std::size_t block = block_pixels(b);
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

}  // namespace edgefl
