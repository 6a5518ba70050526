#include <algorithm>

#include "conv.hpp"

namespace edgefl {

DepthwiseConv2D::DepthwiseConv2D(LayerGeometry g) : Layer(std::move(g)), win_(Window::of(g_)) {}

Status DepthwiseConv2D::forward(const LayerContext&, const LayerForward& a) {
  const Window& k = win_;
  const std::size_t b = a.batch, c = k.channels;
  const float* w = a.params + g_.param_offset;
  const float* bias = g_.spec.bias ? w + k.kh * k.kw * c : nullptr;
  for (std::size_t oy = 0; oy < k.out_h; ++oy) {
    for (std::size_t ox = 0; ox < k.out_w; ++ox) {
      float* yp = a.y + (oy * k.out_w + ox) * c * b;
      for (std::size_t i = 0; i < c; ++i) std::fill_n(yp + i * b, b, bias != nullptr ? bias[i] : 0.0f);
      k.for_each_tap(oy, ox, [&](std::size_t q, std::size_t t) {
        const float* xq = a.x + q * c * b;
        const float* wr = w + t * c;
        for (std::size_t i = 0; i < c; ++i) batch_axpy(wr[i], xq + i * b, yp + i * b, b);
      });
    }
  }
  return Status();
}

Status DepthwiseConv2D::backward(const LayerContext&, const LayerBackward& a) {
  const Window& k = win_;
  const std::size_t b = a.batch, c = k.channels, taps = k.kh * k.kw * c;
  const float* w = a.params + g_.param_offset;
  if (a.dx != nullptr) {
    std::fill_n(a.dx, g_.in.size() * b, 0.0f);
    k.for_each_window_tap([&](std::size_t p, std::size_t q, std::size_t t) {
      const float* dyp = a.dy + p * c * b;
      float* dxq = a.dx + q * c * b;
      const float* wr = w + t * c;
      for (std::size_t i = 0; i < c; ++i) batch_axpy(wr[i], dyp + i * b, dxq + i * b, b);
    });
  }
  if (a.param_grads == nullptr) return Status();  // frozen
  for (std::size_t ky = 0; ky < k.kh; ++ky) {
    for (std::size_t kx = 0; kx < k.kw; ++kx) {
      for (std::size_t i = 0; i < c; ++i) {
        LaneSum sum;
        k.for_each_pixel_at_tap(ky, kx, [&](std::size_t p, std::size_t q) {
          sum.add_products(a.dy + (p * c + i) * b, a.x + (q * c + i) * b, b);
        });
        a.param_grads[(ky * k.kw + kx) * c + i] = sum.total();
      }
    }
  }
  if (g_.spec.bias) {
    const std::size_t pixels = k.out_h * k.out_w;
    for (std::size_t i = 0; i < c; ++i) {
      LaneSum sum;
      for (std::size_t p = 0; p < pixels; ++p) sum.add(a.dy + (p * c + i) * b, b);
      a.param_grads[taps + i] = sum.total();
    }
  }
  if (a.sink != nullptr) a.sink->ready(g_.param_offset, g_.param_offset + g_.param_count);
  return Status();
}

std::unique_ptr<Layer> make_depthwise_conv2d(LayerGeometry g) {
  return std::make_unique<DepthwiseConv2D>(std::move(g));
}

}  // namespace edgefl
