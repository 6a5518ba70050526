#include <algorithm>
#include <cstring>

#include "../dense_kernels.hpp"
#include "conv.hpp"

namespace edgefl {

Conv2D::Conv2D(LayerGeometry g, bool fuse_relu)
    : Layer(std::move(g)), win_(Window::of(g_)), filters_(g_.spec.units), fuse_relu_(fuse_relu) {}

namespace {

// Sums over the batch run in chunks of kChunk samples held in Vec4 registers
// (batch_loops.hpp), so each term costs a load and a multiply-add, and the sum is stored once.
constexpr std::size_t kChunk = 16;

// acc += v * row over one chunk: 16 samples (Full) or the n < 16 left at the end of the batch.
template <bool Full>
struct Chunk {
  Vec4 lanes[kChunk / 4];
  float tail[kChunk];
  std::size_t n;

  void load(const float* row) {
    if (Full) {
      std::memcpy(lanes, row, sizeof lanes);
    } else {
      std::copy_n(row, n, tail);
    }
  }
  void fill(float v) {
    if (Full) {
      for (Vec4& l : lanes) l = Vec4{v, v, v, v};
    } else {
      std::fill_n(tail, n, v);
    }
  }
  void madd(float v, const float* row) {
    if (Full) {
      for (std::size_t j = 0; j < kChunk / 4; ++j) {
        Vec4 x;
        std::memcpy(&x, row + 4 * j, sizeof x);
        lanes[j] += v * x;
      }
    } else {
      for (std::size_t l = 0; l < n; ++l) tail[l] += v * row[l];
    }
  }
  void store(float* row) const {
    if (Full) {
      std::memcpy(row, lanes, sizeof lanes);
    } else {
      std::copy_n(tail, n, row);
    }
  }
};

// y[p][o][s0 .. s0+n) = bias[o] + sum over taps and input channels of w x.
template <bool Full>
void forward_chunk(const Window& k, std::size_t filters, const float* w, const float* bias, const float* x,
                   float* y, std::size_t b, std::size_t s0, std::size_t n) {
  const std::size_t c = k.channels, taps = k.kh * k.kw * c;
  for (std::size_t oy = 0; oy < k.out_h; ++oy) {
    for (std::size_t ox = 0; ox < k.out_w; ++ox) {
      float* yp = y + (oy * k.out_w + ox) * filters * b + s0;
      for (std::size_t o = 0; o < filters; ++o) {
        Chunk<Full> acc;
        acc.n = n;
        acc.fill(bias != nullptr ? bias[o] : 0.0f);
        k.for_each_tap(oy, ox, [&](std::size_t q, std::size_t t) {
          const float* xq = x + q * c * b + s0;
          const float* wr = w + o * taps + t * c;
          for (std::size_t i = 0; i < c; ++i) acc.madd(wr[i], xq + i * b);
        });
        acc.store(yp + o * b);
      }
    }
  }
}

// dx[q][i][s0 .. s0+n) += sum over the outputs p that read q and filters o of w dy.
template <bool Full>
void input_grad_chunk(const Window& k, std::size_t filters, const float* w, const float* dy, float* dx,
                      std::size_t b, std::size_t s0, std::size_t n) {
  const std::size_t c = k.channels, taps = k.kh * k.kw * c;
  k.for_each_window_tap([&](std::size_t p, std::size_t q, std::size_t t) {
    const float* dyp = dy + p * filters * b + s0;
    float* dxq = dx + q * c * b + s0;
    const float* wt = w + t * c;
    for (std::size_t i = 0; i < c; ++i) {
      Chunk<Full> acc;
      acc.n = n;
      acc.load(dxq + i * b);
      for (std::size_t o = 0; o < filters; ++o) acc.madd(wt[o * taps + i], dyp + o * b);
      acc.store(dxq + i * b);
    }
  });
}

}  // namespace

// The loops below are the reference backend's path and the oracle of conv2d_gemm.cpp's, which
// runs on kernels that offer a conv GEMM (the Network then plans the scratch it needs).
namespace {
const PooledGemm* gemm_of(const LayerContext& ctx) {
  return ctx.kernels != nullptr && ctx.layer_scratch != nullptr ? ctx.kernels->conv_gemm() : nullptr;
}
}  // namespace

Status Conv2D::forward(const LayerContext& ctx, const LayerForward& a) {
  if (const PooledGemm* gemm = gemm_of(ctx)) {
    forward_gemm(*gemm, a, ctx.layer_scratch);
    return Status();
  }
  const std::size_t b = a.batch, taps = win_.kh * win_.kw * win_.channels;
  const float* w = a.params + g_.param_offset;
  const float* bias = g_.spec.bias ? w + filters_ * taps : nullptr;
  std::size_t s0 = 0;
  for (; s0 + kChunk <= b; s0 += kChunk) forward_chunk<true>(win_, filters_, w, bias, a.x, a.y, b, s0, kChunk);
  if (s0 < b) forward_chunk<false>(win_, filters_, w, bias, a.x, a.y, b, s0, b - s0);
  if (fuse_relu_) {
    for (std::size_t j = 0; j < g_.out.size() * b; ++j) a.y[j] = std::max(a.y[j], 0.0f);
  }
  return Status();
}

void Conv2D::weight_grad_loops(const LayerBackward& a) const {
  const Window& k = win_;
  const std::size_t b = a.batch, c = k.channels, taps = k.kh * k.kw * c;
  // dW[o][ky][kx][i] = sum over output pixels and samples of dy[p][o] x[q(p, ky, kx)][i], one
  // running sum at a time so its lanes stay in registers.
  for (std::size_t o = 0; o < filters_; ++o) {
    for (std::size_t ky = 0; ky < k.kh; ++ky) {
      for (std::size_t kx = 0; kx < k.kw; ++kx) {
        float* dw = a.param_grads + o * taps + (ky * k.kw + kx) * c;
        for (std::size_t i = 0; i < c; ++i) {
          LaneSum sum;
          k.for_each_pixel_at_tap(ky, kx, [&](std::size_t p, std::size_t q) {
            sum.add_products(a.dy + (p * filters_ + o) * b, a.x + (q * c + i) * b, b);
          });
          dw[i] = sum.total();
        }
      }
    }
  }
}

Status Conv2D::backward(const LayerContext& ctx, const LayerBackward& a) {
  const Window& k = win_;
  const std::size_t b = a.batch, c = k.channels, taps = k.kh * k.kw * c;
  const float* w = a.params + g_.param_offset;
  const PooledGemm* gemm = gemm_of(ctx);
  // Input gradient first (the fused update may change w once the weight gradient is reported).
  if (a.dx != nullptr && gemm != nullptr) {
    input_grad_gemm(*gemm, a);
  } else if (a.dx != nullptr) {
    std::fill_n(a.dx, g_.in.size() * b, 0.0f);
    std::size_t s0 = 0;
    for (; s0 + kChunk <= b; s0 += kChunk) input_grad_chunk<true>(k, filters_, w, a.dy, a.dx, b, s0, kChunk);
    if (s0 < b) input_grad_chunk<false>(k, filters_, w, a.dy, a.dx, b, s0, b - s0);
  }
  if (a.param_grads == nullptr) return Status();  // frozen
  if (gemm != nullptr) {
    weight_grad_gemm(*gemm, a, ctx.layer_scratch);
  } else {
    weight_grad_loops(a);
  }
  if (g_.spec.bias) {
    // Each filter's sum in pixel order, 8 filters at a time so their add chains overlap.
    constexpr std::size_t kFilters = 8;
    const std::size_t pixels = k.out_h * k.out_w;
    for (std::size_t o0 = 0; o0 < filters_; o0 += kFilters) {
      const std::size_t n = std::min(kFilters, filters_ - o0);
      LaneSum sums[kFilters];
      for (std::size_t p = 0; p < pixels; ++p) {
        const float* dyp = a.dy + (p * filters_ + o0) * b;
        for (std::size_t o = 0; o < n; ++o) sums[o].add(dyp + o * b, b);
      }
      for (std::size_t o = 0; o < n; ++o) a.param_grads[filters_ * taps + o0 + o] = sums[o].total();
    }
  }
  if (a.sink != nullptr) a.sink->ready(g_.param_offset, g_.param_offset + g_.param_count);
  return Status();
}

std::unique_ptr<Layer> make_conv2d(LayerGeometry g, bool fuse_relu) {
  return std::make_unique<Conv2D>(std::move(g), fuse_relu);
}

}  // namespace edgefl
