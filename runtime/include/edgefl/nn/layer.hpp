// Layer: one layer of a Network — its shapes, where its parameters sit in the flat buffer, what
// memory it needs, its initialisation, and its forward and backward passes.
//
//   std::vector<std::unique_ptr<Layer>> layers = make_layers(spec);
//   for (auto& layer : layers) layer->parameters();   // ParamTensor: offset, shape, name
//
// Activations are feature-major: a per-sample HWC tensor of n = h*w*c floats is stored as
// [n][batch], batch innermost, for the whole graph. Dense layers are then plain GEMMs on the
// backend's kernels (nothing is packed per step), Flatten costs nothing, and a convolution is
// a sum over kernel taps of [filters x in_c] by [in_c x batch] products. Dense layers use the
// backend's GEMMs; Conv2D layers use the direct GEMM tiles where the backend offers them
// (direct, XNNPACK), gathering each output pixel's window into a planned scratch, and their
// portable loops on the reference backend. Depthwise, pool and activation layers run portable
// loops on every backend (their innermost loop runs over the batch, so it vectorises).
// Who calls what: Network (forward, backward), init_parameters (init), the memory plan
// (activation_floats, in_place), PerSampleStatistics (sample_gradient). Layers keep no memory
// of their own: everything a pass needs is in the Network's planned arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

class DenseKernels;  // private: runtime/src/nn/dense_kernels.hpp

// What a pass runs with, shared by the layers of one Network.
struct LayerContext {
  DenseKernels* kernels = nullptr;   // the backend's GEMMs, for Dense layers
  float* weight_scratch = nullptr;   // the Dense input gradient's transposed-weight scratch
  float* layer_scratch = nullptr;    // Layer::scratch_floats of the widest layer, when planned
  bool training = false;             // dropout drops only while training
  uint64_t dropout_seed = 0;         // dropout masks: a function of (seed, pass, layer, element)
  uint64_t pass = 0;
};

// Told when parameter gradients [begin, end) (offsets in the flat buffer) are final, so the
// fused optimizer update can use them while they are in cache.
class ParameterGradientSink {
 public:
  virtual void ready(std::size_t begin, std::size_t end) = 0;

 protected:
  ~ParameterGradientSink() = default;
};

struct LayerForward {
  const float* params;  // the whole flat parameter buffer
  const float* x;       // [input size][batch]
  float* y;             // [output size][batch]; == x for in-place layers
  std::size_t batch;
};

struct LayerBackward {
  const float* params;   // the whole flat parameter buffer (this step's values)
  const float* x;        // the layer's input, as in forward
  const float* y;        // the layer's output, as in forward
  const float* dy;       // gradient of the scaled loss with respect to y, [output size][batch]
  float* dx;             // gradient with respect to x, or nullptr when nothing before needs it;
                         // == dy for in-place layers
  float* param_grads;    // gradient of the layer's first tensor; the others follow as in params;
                         // nullptr for a frozen layer: dx only, no weight gradient, no sink report
  ParameterGradientSink* sink;  // nullptr, or the fused update: dx is computed before any report
  std::size_t batch;
};

class Layer {
 public:
  explicit Layer(LayerGeometry geometry) : g_(std::move(geometry)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const LayerSpec& spec() const { return g_.spec; }
  Shape input_shape() const { return g_.in; }
  Shape output_shape() const { return g_.out; }
  const std::vector<ParamTensor>& parameters() const { return g_.params; }
  std::size_t param_offset() const { return g_.param_offset; }
  std::size_t param_count() const { return g_.param_count; }

  // The output overwrites the input (ReLU, ReLU6, Flatten): no activation buffer of its own.
  // Safe because no layer's backward pass reads its own output except these.
  virtual bool in_place() const { return false; }
  // Floats of activation memory per sample this layer adds (its output unless in place).
  std::size_t activation_floats() const { return in_place() ? 0 : g_.out.size(); }
  // Floats of LayerContext::layer_scratch a pass needs on kernels that offer a conv GEMM, as a
  // bound fixed + per_sample * batch that holds at every batch and thread count (the Network
  // plans it for those kernels, and so does the memory plan for the direct and XNNPACK backends).
  struct ScratchFloats {
    std::size_t fixed = 0, per_sample = 0;
  };
  virtual ScratchFloats scratch_floats() const { return {}; }

  // Weights He-uniform U(-sqrt(6/fan_in), sqrt(6/fan_in)) drawn in layout order from `rng`,
  // biases zero (InitKind::zeros: everything zero). `params` is the layer's share.
  void init(std::span<float> params, Rng& rng, InitKind kind) const;

  virtual Status forward(const LayerContext& ctx, const LayerForward& args) = 0;
  virtual Status backward(const LayerContext& ctx, const LayerBackward& args) = 0;

  // Sample s's gradient of parameter tensor `tensor` (an index into parameters()), of the
  // unscaled loss times the scale in dy, into out[tensor size], from the x and dy of a backward
  // pass over `batch` samples. Only layers with parameters.
  virtual void sample_gradient(std::size_t tensor, const float* x, const float* dy, std::size_t batch,
                               std::size_t s, float* out) const;

 protected:
  LayerGeometry g_;
};

// The layers of a validated spec, in order. A Dense or Conv2D layer directly followed by a ReLU
// applies the ReLU in its own output loop (the ReLU layer's forward then does nothing), and a
// max pool with disjoint windows directly after a ReLU applies the ReLU's backward mask as it
// writes its input gradient (the ReLU layer's backward then does nothing).
std::vector<std::unique_ptr<Layer>> make_layers(const ModelSpec& spec);

}  // namespace edgefl
