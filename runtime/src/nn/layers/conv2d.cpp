#include <algorithm>

#include "conv.hpp"

namespace edgefl {

Conv2D::Conv2D(LayerGeometry g) : Layer(std::move(g)), win_(Window::of(g_)), filters_(g_.spec.units) {}

Status Conv2D::forward(const LayerContext&, const LayerForward& a) {
  const Window& k = win_;
  const std::size_t b = a.batch, c = k.channels, taps = k.kh * k.kw * c;
  const float* w = a.params + g_.param_offset;
  const float* bias = g_.spec.bias ? w + filters_ * taps : nullptr;
  for (std::size_t oy = 0; oy < k.out_h; ++oy) {
    for (std::size_t ox = 0; ox < k.out_w; ++ox) {
      float* yp = a.y + (oy * k.out_w + ox) * filters_ * b;
      for (std::size_t o = 0; o < filters_; ++o) std::fill_n(yp + o * b, b, bias != nullptr ? bias[o] : 0.0f);
      for (std::size_t ky = 0; ky < k.kh; ++ky) {
        std::size_t iy;
        if (!k.row(oy, ky, iy)) continue;
        for (std::size_t kx = 0; kx < k.kw; ++kx) {
          std::size_t ix;
          if (!k.col(ox, kx, ix)) continue;
          const float* xq = a.x + (iy * k.in_w + ix) * c * b;
          for (std::size_t o = 0; o < filters_; ++o) {
            const float* wr = w + o * taps + (ky * k.kw + kx) * c;
            float* yr = yp + o * b;
            for (std::size_t i = 0; i < c; ++i) batch_axpy(wr[i], xq + i * b, yr, b);
          }
        }
      }
    }
  }
  return Status();
}

Status Conv2D::backward(const LayerContext&, const LayerBackward& a) {
  const Window& k = win_;
  const std::size_t b = a.batch, c = k.channels, taps = k.kh * k.kw * c;
  const float* w = a.params + g_.param_offset;
  // Input gradient first (the fused update may change w once the weight gradient is reported).
  if (a.dx != nullptr) {
    std::fill_n(a.dx, g_.in.size() * b, 0.0f);
    for (std::size_t oy = 0; oy < k.out_h; ++oy) {
      for (std::size_t ox = 0; ox < k.out_w; ++ox) {
        const float* dyp = a.dy + (oy * k.out_w + ox) * filters_ * b;
        for (std::size_t ky = 0; ky < k.kh; ++ky) {
          std::size_t iy;
          if (!k.row(oy, ky, iy)) continue;
          for (std::size_t kx = 0; kx < k.kw; ++kx) {
            std::size_t ix;
            if (!k.col(ox, kx, ix)) continue;
            float* dxq = a.dx + (iy * k.in_w + ix) * c * b;
            for (std::size_t o = 0; o < filters_; ++o) {
              const float* wr = w + o * taps + (ky * k.kw + kx) * c;
              for (std::size_t i = 0; i < c; ++i) batch_axpy(wr[i], dyp + o * b, dxq + i * b, b);
            }
          }
        }
      }
    }
  }
  // dW[o][ky][kx][i] = sum over output pixels and samples of dy[p][o] x[q(p, ky, kx)][i], one
  // running sum at a time so its lanes stay in registers.
  for (std::size_t o = 0; o < filters_; ++o) {
    for (std::size_t ky = 0; ky < k.kh; ++ky) {
      for (std::size_t kx = 0; kx < k.kw; ++kx) {
        float* dw = a.param_grads + o * taps + (ky * k.kw + kx) * c;
        for (std::size_t i = 0; i < c; ++i) {
          LaneSum sum;
          for (std::size_t oy = 0; oy < k.out_h; ++oy) {
            std::size_t iy;
            if (!k.row(oy, ky, iy)) continue;
            for (std::size_t ox = 0; ox < k.out_w; ++ox) {
              std::size_t ix;
              if (!k.col(ox, kx, ix)) continue;
              sum.add_products(a.dy + ((oy * k.out_w + ox) * filters_ + o) * b,
                               a.x + ((iy * k.in_w + ix) * c + i) * b, b);
            }
          }
          dw[i] = sum.total();
        }
      }
    }
  }
  if (g_.spec.bias) {
    const std::size_t pixels = k.out_h * k.out_w;
    for (std::size_t o = 0; o < filters_; ++o) {
      LaneSum sum;
      for (std::size_t p = 0; p < pixels; ++p) sum.add(a.dy + (p * filters_ + o) * b, b);
      a.param_grads[filters_ * taps + o] = sum.total();
    }
  }
  if (a.sink != nullptr) a.sink->ready(g_.param_offset, g_.param_offset + g_.param_count);
  return Status();
}

std::unique_ptr<Layer> make_conv2d(LayerGeometry g) { return std::make_unique<Conv2D>(std::move(g)); }

}  // namespace edgefl
