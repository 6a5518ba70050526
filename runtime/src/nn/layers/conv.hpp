// Conv2D and DepthwiseConv2D on feature-major HWC activations ([h*w*c][batch]). Private.
// Conv2D weights [filters][kh][kw][in_c] then bias [filters]; depthwise [kh][kw][c] then
// bias [c]. Padding cells read as zero. sample_gradient lives in conv_sample_gradient.cpp.
#pragma once

#include <vector>

#include "batch_loops.hpp"
#include "layers.hpp"
#include "window.hpp"

namespace edgefl {

class Conv2D final : public Layer {
 public:
  explicit Conv2D(LayerGeometry g);
  Status forward(const LayerContext& ctx, const LayerForward& a) override;
  Status backward(const LayerContext& ctx, const LayerBackward& a) override;
  void sample_gradient(std::size_t tensor, const float* x, const float* dy, std::size_t batch, std::size_t s,
                       float* out) const override;

 private:
  Window win_;
  std::size_t filters_;
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
