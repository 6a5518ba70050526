// Conv2D and DepthwiseConv2D on feature-major HWC activations ([h*w*c][batch]). Private.
// Conv2D weights [filters][kh][kw][in_c] then bias [filters]; depthwise [kh][kw][c] then
// bias [c]. Padding cells read as zero. sample_gradient lives in conv_sample_gradient.cpp;
// Conv2D's GEMM path (kernels with a conv GEMM) in conv2d_gemm.cpp, its loops in conv2d.cpp.
#pragma once

#include <vector>

#include "../pooled_gemm.hpp"
#include "batch_loops.hpp"
#include "layers.hpp"
#include "window.hpp"

namespace edgefl {

class Conv2D final : public Layer {
 public:
  Conv2D(LayerGeometry g, bool fuse_relu);
  Status forward(const LayerContext& ctx, const LayerForward& a) override;
  Status backward(const LayerContext& ctx, const LayerBackward& a) override;
  void sample_gradient(std::size_t tensor, const float* x, const float* dy, std::size_t batch, std::size_t s,
                       float* out) const override;
  ScratchFloats scratch_floats() const override;

 private:
  std::size_t taps() const { return win_.kh * win_.kw * win_.channels; }
  // Of one pass (forward, input or weight gradient), whole windows counted.
  double multiply_adds(std::size_t batch) const {
    return double(filters_) * double(taps()) * double(win_.out_h * win_.out_w) * double(batch);
  }
  // Output pixels whose windows one weight-gradient GEMM sums over.
  std::size_t block_pixels(std::size_t batch) const;
  void forward_gemm(const PooledGemm& gemm, const LayerForward& a, float* zeros) const;
  void input_grad_gemm(const PooledGemm& gemm, const LayerBackward& a) const;
  void weight_grad_gemm(const PooledGemm& gemm, const LayerBackward& a, float* scratch) const;
  void weight_grad_lanes(const PooledGemm& gemm, const LayerBackward& a, float* zeros) const;
  void weight_grad_loops(const LayerBackward& a) const;

  Window win_;
  std::size_t filters_;
  bool fuse_relu_;  // the ReLU after this layer is applied here (make_layers)
};

class DepthwiseConv2D final : public Layer {
 public:
  explicit DepthwiseConv2D(LayerGeometry g);
  Status forward(const LayerContext& ctx, const LayerForward& a) override;
  Status backward(const LayerContext& ctx, const LayerBackward& a) override;
  void sample_gradient(std::size_t tensor, const float* x, const float* dy, std::size_t batch, std::size_t s,
                       float* out) const override;

 private:
  Window win_;
};

}  // namespace edgefl
