// Dropout: while training, each element is kept with probability 1 - rate and scaled by
// 1 / (1 - rate); in evaluation it is copied. The mask is a hash of (seed, pass, layer,
// element), so backward recomputes it instead of storing it, and a run is reproducible from
// the task seed and the step.
#include <algorithm>

#include "layers.hpp"

namespace edgefl {

namespace {

uint64_t mix(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Dropout final : public Layer {
 public:
  Dropout(LayerGeometry g, std::size_t index) : Layer(std::move(g)), index_(index) {}

  Status forward(const LayerContext& ctx, const LayerForward& a) override {
    const std::size_t n = g_.in.size() * a.batch;
    if (!ctx.training || g_.spec.rate == 0.0f) {
      std::copy(a.x, a.x + n, a.y);
      return Status();
    }
    apply(ctx, a.x, a.y, n);
    return Status();
  }

  Status backward(const LayerContext& ctx, const LayerBackward& a) override {
    if (a.dx == nullptr) return Status();
    const std::size_t n = g_.in.size() * a.batch;
    if (g_.spec.rate == 0.0f) {
      std::copy(a.dy, a.dy + n, a.dx);
      return Status();
    }
    apply(ctx, a.dy, a.dx, n);
    return Status();
  }

 private:
  // out = in * mask / (1 - rate): the same mask in both directions.
  void apply(const LayerContext& ctx, const float* in, float* out, std::size_t n) const {
    const uint64_t key = mix(mix(mix(ctx.dropout_seed ^ 0x64726f706f7574ULL) + ctx.pass) + index_);
    // Keep when the top 32 bits of the hash are at or above rate * 2^32.
    const uint64_t threshold = static_cast<uint64_t>(double(g_.spec.rate) * 4294967296.0);
    const float scale = 1.0f / (1.0f - g_.spec.rate);
    for (std::size_t j = 0; j < n; ++j) {
      const bool keep = (mix(key + j) >> 32) >= threshold;
      out[j] = keep ? in[j] * scale : 0.0f;
    }
  }

  std::size_t index_;
};

}  // namespace

std::unique_ptr<Layer> make_dropout(LayerGeometry g, std::size_t index) {
  return std::make_unique<Dropout>(std::move(g), index);
}

}  // namespace edgefl
