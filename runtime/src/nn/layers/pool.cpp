// MaxPool2D, AvgPool2D and GlobalAvgPool on feature-major HWC activations. Padding cells
// (padding same) take no part: a max ignores them, a mean divides by the cells inside.
// MaxPool's backward finds each window's maximum again (the first in window order) instead of
// storing where it was.
#include <algorithm>
#include <cstring>
#include <limits>

#include "batch_loops.hpp"
#include "layers.hpp"
#include "window.hpp"

namespace edgefl {

namespace {

class Pool final : public Layer {
 public:
  explicit Pool(LayerGeometry g) : Layer(std::move(g)), win_(Window::of(g_)) {
    if (g_.spec.kind == LayerKind::global_avg_pool) {
      // One window over the whole input.
      win_ = Window{g_.in.h, g_.in.w, g_.in.c, 1, 1, g_.in.h, g_.in.w, 1, 1, 1, 1, 0, 0};
    }
  }

  Status forward(const LayerContext&, const LayerForward& a) override {
    const Window& k = win_;
    const std::size_t b = a.batch, c = k.channels;
    const bool max = g_.spec.kind == LayerKind::max_pool2d;
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
};

}  // namespace

std::unique_ptr<Layer> make_pool(LayerGeometry g) { return std::make_unique<Pool>(std::move(g)); }

}  // namespace edgefl
