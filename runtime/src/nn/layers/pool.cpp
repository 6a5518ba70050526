// MaxPool2D, AvgPool2D and GlobalAvgPool on feature-major HWC activations. Padding cells
// (padding same) take no part: a max ignores them, a mean divides by the cells inside.
// MaxPool's backward finds each window's maximum again (the first in window order) instead of
// storing where it was. When its windows do not overlap (stride >= kernel, as in maxpool2),
// both passes take a window's cells side by side, and the backward pass writes each input
// cell's gradient once instead of zeroing dx and adding; after a ReLU it also applies the
// ReLU's backward mask (make_layers then skips that ReLU's backward pass). Those passes run on
// the direct kernels' vectors of this CPU where the backend has them (pool_tiles.hpp).
#include <algorithm>
#include <cstring>
#include <limits>

#include "../dense_kernels.hpp"
#include "../pool_tiles.hpp"
#include "../pooled_gemm.hpp"
#include "batch_loops.hpp"
#include "layers.hpp"
#include "window.hpp"

namespace edgefl {

namespace {

// Cells of a window that the disjoint max-pool path keeps pointers to.
constexpr std::size_t kMaxCells = 16;

// The direct kernels of this CPU (wider vectors than pool_tiles.hpp's 4 lanes here), when the
// backend has them.
const DirectGemm* direct_kernel(const LayerContext& ctx) {
  const PooledGemm* gemm = ctx.kernels != nullptr ? ctx.kernels->conv_gemm() : nullptr;
  return gemm != nullptr ? &gemm->kernel() : nullptr;
}

bool disjoint_max_pool(const LayerSpec& l) {
  return l.kind == LayerKind::max_pool2d && l.stride_h >= l.kernel_h && l.stride_w >= l.kernel_w &&
         l.kernel_h * l.kernel_w <= kMaxCells;
}

class Pool final : public Layer {
 public:
  Pool(LayerGeometry g, bool relu_before)
      : Layer(std::move(g)), win_(Window::of(g_)), disjoint_(disjoint_max_pool(g_.spec)), relu_before_(relu_before) {
    if (g_.spec.kind == LayerKind::global_avg_pool) {
      // One window over the whole input.
      win_ = Window{g_.in.h, g_.in.w, g_.in.c, 1, 1, g_.in.h, g_.in.w, 1, 1, 1, 1, 0, 0};
    }
    // Input cells no window reads (valid padding with a remainder) get no gradient written.
    covered_ = win_.pad_top == 0 && win_.pad_left == 0 && win_.out_h * win_.sh == win_.in_h &&
               win_.out_w * win_.sw == win_.in_w && win_.sh == win_.kh && win_.sw == win_.kw;
  }

  Status forward(const LayerContext& ctx, const LayerForward& a) override {
    const Window& k = win_;
    const std::size_t b = a.batch, c = k.channels;
    const bool max = g_.spec.kind == LayerKind::max_pool2d;
    if (disjoint_) {
      const DirectGemm* fast = direct_kernel(ctx);
      const MaxPoolFunction pool = fast != nullptr ? fast->max_pool : max_pool_cells<Vec4>;
      for (std::size_t oy = 0; oy < k.out_h; ++oy) {
        for (std::size_t ox = 0; ox < k.out_w; ++ox) {
          const float* cells[kMaxCells];
          const std::size_t n = window_cells(oy, ox, a.x, b, cells);
          pool(cells, n, a.y + (oy * k.out_w + ox) * c * b, c * b);
        }
      }
      return Status();
    }
    for (std::size_t oy = 0; oy < k.out_h; ++oy) {
      for (std::size_t ox = 0; ox < k.out_w; ++ox) {
        float* yp = a.y + (oy * k.out_w + ox) * c * b;
        std::fill_n(yp, c * b, max ? -std::numeric_limits<float>::infinity() : 0.0f);
        const std::size_t cells = for_each_cell(oy, ox, [&](const float* xq) {
          for (std::size_t j = 0; j < c * b; ++j) yp[j] = max ? std::max(yp[j], xq[j]) : yp[j] + xq[j];
        }, a.x, b);
        if (!max) {
          const float inv = 1.0f / static_cast<float>(cells);
          for (std::size_t j = 0; j < c * b; ++j) yp[j] *= inv;
        }
      }
    }
    return Status();
  }

  Status backward(const LayerContext& ctx, const LayerBackward& a) override {
    if (a.dx == nullptr) return Status();
    const Window& k = win_;
    const std::size_t b = a.batch, c = k.channels;
    if (disjoint_) {
      const DirectGemm* fast = direct_kernel(ctx);
      const MaxPoolBackwardFunction pool = fast != nullptr ? fast->max_pool_backward : max_pool_cells_backward<Vec4>;
      if (!covered_) std::fill_n(a.dx, g_.in.size() * b, 0.0f);
      for (std::size_t oy = 0; oy < k.out_h; ++oy) {
        for (std::size_t ox = 0; ox < k.out_w; ++ox) {
          const float* cells[kMaxCells];
          const std::size_t n = window_cells(oy, ox, a.x, b, cells);
          pool(cells, n, a.x, a.dy + (oy * k.out_w + ox) * c * b, a.dx, c * b, relu_before_);
        }
      }
      return Status();
    }
    std::fill_n(a.dx, g_.in.size() * b, 0.0f);
    for (std::size_t oy = 0; oy < k.out_h; ++oy) {
      for (std::size_t ox = 0; ox < k.out_w; ++ox) {
        const float* dyp = a.dy + (oy * k.out_w + ox) * c * b;
        if (g_.spec.kind == LayerKind::max_pool2d) {
          max_backward(oy, ox, a, dyp);
          continue;
        }
        const std::size_t cells = for_each_cell(oy, ox, [](const float*) {}, a.x, b);
        const float inv = 1.0f / static_cast<float>(cells);
        for_each_cell(oy, ox, [&](const float* xq) {
          float* dxq = a.dx + (xq - a.x);
          for (std::size_t j = 0; j < c * b; ++j) dxq[j] += dyp[j] * inv;
        }, a.x, b);
      }
    }
    return Status();
  }

 private:
  // Calls f(pointer to the cell's [c][batch] block of x) for each in-bounds cell of window
  // (oy, ox), in row-major window order; returns how many.
  template <typename F>
  std::size_t for_each_cell(std::size_t oy, std::size_t ox, const F& f, const float* x, std::size_t b) const {
    return win_.for_each_tap(oy, ox,
                             [&](std::size_t q, std::size_t) { f(x + q * win_.channels * b); });
  }

  // The in-bounds cells of window (oy, ox) in window order (at most kMaxCells: disjoint_).
  std::size_t window_cells(std::size_t oy, std::size_t ox, const float* x, std::size_t b,
                           const float* (&cells)[kMaxCells]) const {
    std::size_t n = 0;
    for_each_cell(oy, ox, [&](const float* xq) { cells[n++] = xq; }, x, b);
    return n;
  }
  // The gradient goes to the first maximum in window order: the maxima found again, then
  // handed out cell by cell, 64 values of the [c][batch] block at a time.
  void max_backward(std::size_t oy, std::size_t ox, const LayerBackward& a, const float* dyp) const {
    constexpr std::size_t kChunk = 64;
    const std::size_t b = a.batch, n = win_.channels * b;
    for (std::size_t j0 = 0; j0 < n; j0 += kChunk) {
      const std::size_t m = std::min(kChunk, n - j0);
      float best[kChunk], left[kChunk];
      std::fill_n(best, m, -std::numeric_limits<float>::infinity());
      std::copy_n(dyp + j0, m, left);
      for_each_cell(oy, ox, [&](const float* xq) { running_max(xq + j0, best, m); }, a.x, b);
      for_each_cell(oy, ox, [&](const float* xq) { hand_out(xq + j0, best, left, a.dx + (xq - a.x) + j0, m); },
                    a.x, b);
    }
  }
  static void running_max(const float* x, float* best, std::size_t m) {
    std::size_t j = 0;
    for (; j + 4 <= m; j += 4) {
      Vec4 v, b;
      std::memcpy(&v, x + j, sizeof v);
      std::memcpy(&b, best + j, sizeof b);
      b = v > b ? v : b;
      std::memcpy(best + j, &b, sizeof b);
    }
    for (; j < m; ++j) best[j] = std::max(best[j], x[j]);
  }
  // The first cell equal to the maximum takes what is left of the gradient (left becomes
  // exactly 0 there, so later equal cells take nothing): a mask, not a branch, per value.
  static void hand_out(const float* x, const float* best, float* left, float* dx, std::size_t m) {
    typedef int Vec4i __attribute__((vector_size(16)));
    std::size_t j = 0;
    for (; j + 4 <= m; j += 4) {
      Vec4 v, b, l, d;
      std::memcpy(&v, x + j, sizeof v);
      std::memcpy(&b, best + j, sizeof b);
      std::memcpy(&l, left + j, sizeof l);
      std::memcpy(&d, dx + j, sizeof d);
      const Vec4 taken = reinterpret_cast<Vec4>(reinterpret_cast<Vec4i>(l) & (v == b));
      d += taken;
      l -= taken;
      std::memcpy(left + j, &l, sizeof l);
      std::memcpy(dx + j, &d, sizeof d);
    }
    for (; j < m; ++j) {
      const float taken = x[j] < best[j] ? 0.0f : left[j];
      dx[j] += taken;
      left[j] -= taken;
    }
  }

  Window win_;
  bool disjoint_, covered_, relu_before_;
};

}  // namespace

bool pool_fuses_relu_backward(const LayerSpec& pool) { return disjoint_max_pool(pool); }

std::unique_ptr<Layer> make_pool(LayerGeometry g, bool relu_before) {
  const bool fuse = relu_before && disjoint_max_pool(g.spec);
  return std::make_unique<Pool>(std::move(g), fuse);
}

}  // namespace edgefl
