// MaxPool2D, AvgPool2D and GlobalAvgPool on feature-major HWC activations. Padding cells
// (padding same) take no part: a max ignores them, a mean divides by the cells inside.
// MaxPool's backward finds each window's maximum again (the first in window order) instead of
// storing where it was. When its windows do not overlap (stride >= kernel, as in maxpool2),
// both passes take a window's cells side by side, and the backward pass writes each input
// cell's gradient once instead of zeroing dx and adding; after a ReLU it also applies the
// ReLU's backward mask (make_layers then skips that ReLU's backward pass).
#include <algorithm>
#include <cstring>
#include <limits>

#include "batch_loops.hpp"
#include "layers.hpp"
#include "window.hpp"

namespace edgefl {

namespace {

// Cells of a window that the disjoint max-pool path keeps pointers to.
constexpr std::size_t kMaxCells = 16;

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

  Status forward(const LayerContext&, const LayerForward& a) override {
    const Window& k = win_;
    const std::size_t b = a.batch, c = k.channels;
    const bool max = g_.spec.kind == LayerKind::max_pool2d;
    if (disjoint_) {
      for (std::size_t oy = 0; oy < k.out_h; ++oy) {
        for (std::size_t ox = 0; ox < k.out_w; ++ox) {
          const float* cells[kMaxCells];
          const std::size_t n = window_cells(oy, ox, a.x, b, cells);
          float* y = a.y + (oy * k.out_w + ox) * c * b;
          if (n == 4) {
            max_of_cells<4>(cells, n, y, c * b);
          } else {
            max_of_cells<0>(cells, n, y, c * b);
          }
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

  Status backward(const LayerContext&, const LayerBackward& a) override {
    if (a.dx == nullptr) return Status();
    const Window& k = win_;
    const std::size_t b = a.batch, c = k.channels;
    if (disjoint_) {
      if (!covered_) std::fill_n(a.dx, g_.in.size() * b, 0.0f);
      for (std::size_t oy = 0; oy < k.out_h; ++oy) {
        for (std::size_t ox = 0; ox < k.out_w; ++ox) {
          const float* cells[kMaxCells];
          const std::size_t n = window_cells(oy, ox, a.x, b, cells);
          const float* dyp = a.dy + (oy * k.out_w + ox) * c * b;
          if (n == 4 && relu_before_) {
            disjoint_max_backward<4, true>(cells, n, a.x, dyp, a.dx, c * b);
          } else if (n == 4) {
            disjoint_max_backward<4, false>(cells, n, a.x, dyp, a.dx, c * b);
          } else if (relu_before_) {
            disjoint_max_backward<0, true>(cells, n, a.x, dyp, a.dx, c * b);
          } else {
            disjoint_max_backward<0, false>(cells, n, a.x, dyp, a.dx, c * b);
          }
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
  // y[j] = the largest of cells[.][j], j < m, as the general path (a running max from -inf).
  // N: the number of cells when known at compile time (a whole 2x2 window), else 0 and n.
  template <std::size_t N>
  static void max_of_cells(const float* const* cells, std::size_t n_cells, float* y, std::size_t m) {
    const std::size_t n = N != 0 ? N : n_cells;
    const Vec4 lowest = -std::numeric_limits<float>::infinity() + Vec4{};
    std::size_t j = 0;
    for (; j + 4 <= m; j += 4) {
      Vec4 best = lowest;
#pragma GCC unroll 16
      for (std::size_t q = 0; q < n; ++q) {
        Vec4 v;
        std::memcpy(&v, cells[q] + j, sizeof v);
        best = v > best ? v : best;
      }
      std::memcpy(y + j, &best, sizeof best);
    }
    for (; j < m; ++j) {
      float best = -std::numeric_limits<float>::infinity();
      for (std::size_t q = 0; q < n; ++q) best = std::max(best, cells[q][j]);
      y[j] = best;
    }
  }
  // Windows that share no cell: each cell's gradient is written here once, 0 + what it takes
  // (as the general path's zeroed dx plus its share, so -0 becomes +0 alike), and 0 where the
  // ReLU before would mask it (its output, this layer's input, is not > 0).
  template <std::size_t N, bool Relu>
  static void disjoint_max_backward(const float* const* cells, std::size_t n_cells, const float* x, const float* dyp,
                                    float* dx, std::size_t m) {
    const std::size_t n = N != 0 ? N : n_cells;
    typedef int Vec4i __attribute__((vector_size(16)));
    const Vec4 zero{};
    std::size_t j = 0;
    for (; j + 4 <= m; j += 4) {
      Vec4 best = -std::numeric_limits<float>::infinity() + zero, left;
#pragma GCC unroll 16
      for (std::size_t q = 0; q < n; ++q) {
        Vec4 v;
        std::memcpy(&v, cells[q] + j, sizeof v);
        best = v > best ? v : best;
      }
      std::memcpy(&left, dyp + j, sizeof left);
#pragma GCC unroll 16
      for (std::size_t q = 0; q < n; ++q) {
        Vec4 v;
        std::memcpy(&v, cells[q] + j, sizeof v);
        const Vec4 taken = reinterpret_cast<Vec4>(reinterpret_cast<Vec4i>(left) & (v == best));
        left -= taken;
        Vec4 d = zero + taken;
        if (Relu) d = reinterpret_cast<Vec4>(reinterpret_cast<Vec4i>(d) & (v > zero));
        std::memcpy(dx + (cells[q] - x) + j, &d, sizeof d);
      }
    }
    for (; j < m; ++j) {
      float best = -std::numeric_limits<float>::infinity(), left = dyp[j];
      for (std::size_t q = 0; q < n; ++q) best = std::max(best, cells[q][j]);
      for (std::size_t q = 0; q < n; ++q) {
        const float v = cells[q][j], taken = v < best ? 0.0f : left;
        left -= taken;
        dx[(cells[q] - x) + j] = Relu && !(v > 0.0f) ? 0.0f : 0.0f + taken;
      }
    }
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
