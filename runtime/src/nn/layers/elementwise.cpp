// ReLU, ReLU6 and Flatten: in place on the activation they follow.
#include <algorithm>

#include "layers.hpp"

namespace edgefl {

namespace {

class Elementwise final : public Layer {
 public:
  Elementwise(LayerGeometry g, bool fused_forward, bool fused_backward)
      : Layer(std::move(g)), fused_forward_(fused_forward), fused_backward_(fused_backward) {}

  bool in_place() const override { return true; }

  Status forward(const LayerContext&, const LayerForward& a) override {
    const std::size_t n = g_.in.size() * a.batch;
    float* y = a.y;
    if (g_.spec.kind == LayerKind::relu && !fused_forward_) {
      for (std::size_t j = 0; j < n; ++j) y[j] = std::max(y[j], 0.0f);
    } else if (g_.spec.kind == LayerKind::relu6) {
      for (std::size_t j = 0; j < n; ++j) y[j] = std::min(std::max(y[j], 0.0f), 6.0f);
    }
    return Status();
  }

  // From the output: relu(z) > 0 exactly when z > 0, and 0 < relu6(z) < 6 when 0 < z < 6.
  Status backward(const LayerContext&, const LayerBackward& a) override {
    if (a.dx == nullptr || fused_backward_) return Status();
    const std::size_t n = g_.in.size() * a.batch;
    const float* y = a.y;
    float* dx = a.dx;
    if (g_.spec.kind == LayerKind::relu) {
      for (std::size_t j = 0; j < n; ++j) dx[j] = y[j] > 0.0f ? dx[j] : 0.0f;
    } else if (g_.spec.kind == LayerKind::relu6) {
      for (std::size_t j = 0; j < n; ++j) dx[j] = y[j] > 0.0f && y[j] < 6.0f ? dx[j] : 0.0f;
    }
    return Status();
  }

 private:
  bool fused_forward_, fused_backward_;
};

}  // namespace

std::unique_ptr<Layer> make_elementwise(LayerGeometry g, bool fused_forward, bool fused_backward) {
  return std::make_unique<Elementwise>(std::move(g), fused_forward, fused_backward);
}

}  // namespace edgefl
