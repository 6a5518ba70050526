// One sample's parameter gradient of a conv layer, for the per-sample gradient statistics:
// the batch weight gradient's sums restricted to sample s (strided reads, one sample at a time,
// into a scratch the size of one tensor).
#include <algorithm>

#include "conv.hpp"

namespace edgefl {

void Conv2D::sample_gradient(std::size_t tensor, const float* x, const float* dy, std::size_t b, std::size_t s,
                             float* out) const {
  const Window& k = win_;
  const std::size_t c = k.channels, taps = k.kh * k.kw * c;
  if (tensor == 1) {  // bias
    for (std::size_t o = 0; o < filters_; ++o) {
      float sum = 0.0f;
      for (std::size_t p = 0; p < k.out_h * k.out_w; ++p) sum += dy[(p * filters_ + o) * b + s];
      out[o] = sum;
    }
    return;
  }
  std::fill_n(out, filters_ * taps, 0.0f);
  k.for_each_window_tap([&](std::size_t p, std::size_t q, std::size_t t) {
    const float* dyp = dy + p * filters_ * b + s;
    const float* xq = x + q * c * b + s;
    for (std::size_t o = 0; o < filters_; ++o) {
      const float d = dyp[o * b];
      float* g = out + o * taps + t * c;
      for (std::size_t i = 0; i < c; ++i) g[i] += d * xq[i * b];
    }
  });
}

void DepthwiseConv2D::sample_gradient(std::size_t tensor, const float* x, const float* dy, std::size_t b,
                                      std::size_t s, float* out) const {
  const Window& k = win_;
  const std::size_t c = k.channels;
  if (tensor == 1) {  // bias
    for (std::size_t i = 0; i < c; ++i) {
      float sum = 0.0f;
      for (std::size_t p = 0; p < k.out_h * k.out_w; ++p) sum += dy[(p * c + i) * b + s];
      out[i] = sum;
    }
    return;
  }
  std::fill_n(out, k.kh * k.kw * c, 0.0f);
  k.for_each_window_tap([&](std::size_t p, std::size_t q, std::size_t t) {
    const float* dyp = dy + p * c * b + s;
    const float* xq = x + q * c * b + s;
    float* g = out + t * c;
    for (std::size_t i = 0; i < c; ++i) g[i] += dyp[i * b] * xq[i * b];
  });
}

}  // namespace edgefl
