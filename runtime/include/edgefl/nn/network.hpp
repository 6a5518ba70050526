// Network: runs forward and backward passes of a spec's layers (edgefl/nn/layer.hpp) over
// planned memory.
//
//   auto net = edgefl::Network::create(spec, *ctx, {.max_micro_batch = 32});
//   float* x = net->input();               // fill [inputs][batch] (feature-major; a sample's
//                                          // HWC values in order), and
//   float* y = net->targets();             // targets[batch] (class index or regression value)
//   auto stats = net->forward_backward(params, grads, batch, /*grad_scale=*/1.0f / batch,
//                                      /*accumulate=*/false);
//
// All memory (activations, their gradients, scratch, XNNPACK's packed operands) is allocated by
// create(); forward/backward never allocate. Activations are feature-major ([width][batch]) so
// the operand XNNPACK must pack on every step is the small activation matrix, never the weights
// (weights change every step and packing them would cost more than the GEMM at small batch).
// Gradient accumulation: call forward_backward for each micro-batch with grad_scale =
// 1/logical_batch and accumulate = true after the first (needs options.accumulation).
// A whole batch in one micro-batch: train_step(params, grads, batch, 1.0f / batch, optimizer)
// is forward_backward + optimizer.step fused, bit for bit the same result, faster.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "edgefl/nn/compute.hpp"
#include "edgefl/nn/layer.hpp"
#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/trainable.hpp"
#include "edgefl/optim/optimizer.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

struct NetworkOptions {
  std::size_t max_micro_batch = 32;
  bool accumulation = false;  // reserve the scratch gradient accumulation needs
};

// What per-sample gradients of one parameter tensor of a non-Dense layer need. Sample s's
// gradient of the tensor is materialised on request (layer.sample_gradient), one sample at a
// time, into a scratch of the tensor's size.
struct TensorBackward {
  std::size_t layer_index;
  const Layer& layer;
  std::size_t tensor;  // index into layer.parameters()
  const float* x;      // the layer's input [in][batch]
  const float* dy;     // gradient of (grad_scale * summed loss) w.r.t. its output [out][batch]
  std::size_t batch;

  const ParamTensor& param() const { return layer.parameters()[tensor]; }
  void sample_gradient(std::size_t s, float* out) const { layer.sample_gradient(tensor, x, dy, batch, s, out); }
};

// Sees each parametrised layer's backward pass, so per-sample gradient statistics can be
// computed without materialising per-sample gradients of the whole model. Dense layers come
// with x and dy (sample s's weight gradient is dy[:,s] x[:,s]^T); the others one call per
// parameter tensor (weights, then bias). Called after the layer's gradients are written; the
// pointers are valid only during the call.
class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  // x: layer input [layout.inputs][batch]; dy: gradient of (grad_scale * summed loss) with
  // respect to the layer's pre-activation output, [layout.outputs][batch].
  virtual void on_dense_backward(std::size_t dense_index, const DenseLayout& layout, const float* x,
                                 const float* dy, std::size_t batch) = 0;
  virtual void on_tensor_backward(const TensorBackward& tensor) = 0;
};

struct BatchStats {
  double loss_sum = 0.0;     // sum over the batch of per-sample losses
  std::size_t correct = 0;   // correctly classified samples (0 for squared loss)
};

class Network {
 public:
  static Result<std::unique_ptr<Network>> create(const ModelSpec& spec, const ComputeContext& ctx,
                                                 NetworkOptions options);
  ~Network();

  const ModelSpec& spec() const { return spec_; }
  std::size_t max_micro_batch() const { return options_.max_micro_batch; }
  // Bytes of the planned workspace (activations, gradients, scratch, packing arena).
  std::size_t workspace_bytes() const;

  // Where to write a batch: inputs as [input_size][batch], targets[batch].
  float* input() { return acts_[0]; }
  float* targets() { return targets_; }

  // Loss + accuracy of the batch currently in input()/targets() (evaluation: no dropout).
  Result<BatchStats> forward(std::span<const float> params, std::size_t batch);
  // Forward, loss, and gradients of (grad_scale * summed loss) written to (or added to) grads.
  Result<BatchStats> forward_backward(std::span<const float> params, std::span<float> grads,
                                      std::size_t batch, float grad_scale, bool accumulate);
  // forward_backward (accumulate = false) and optimizer.step in one pass: each layer's
  // parameters are updated as soon as their gradient is final (a layer's input gradient is
  // computed first, from the old weights), in row panels with the direct backend so the update
  // reads each gradient while it is in cache. grads still receives the whole gradient.
  Result<BatchStats> train_step(std::span<float> params, std::span<float> grads, std::size_t batch,
                                float grad_scale, Optimizer& optimizer);
  // The layers whose parameters train (edgefl/base/trainable.hpp; empty: all). A frozen
  // layer's gradient entries are never written, its parameters never updated by train_step,
  // and the observer does not see it; the backward pass stops at the first trainable layer.
  Status set_trainable(const std::vector<uint32_t>& layers);
  // Observer of the following forward_backward and train_step calls (nullptr: none). Not owned.
  void set_backward_observer(BackwardObserver* observer) { observer_ = observer; }
  // Dropout masks follow from this seed and the number of training passes since it was set.
  void set_dropout_seed(uint64_t seed) {
    dropout_seed_ = seed;
    passes_ = 0;
  }
  // The training pass the next forward_backward is; setting it back repeats that pass's masks
  // (a second pass over the same samples).
  uint64_t dropout_pass() const { return passes_; }
  void set_dropout_pass(uint64_t pass) { passes_ = pass; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  // Output of the last forward pass: [output_size][batch].
  const float* logits() const { return acts_.back(); }
  // Input of layer `layer` in the last forward pass, [its input width][batch]; valid until the
  // next pass (a layer with parameters never overwrites its input).
  const float* layer_input(std::size_t layer) const { return acts_[layer]; }

 private:
  Network(ModelSpec spec, NetworkOptions options, std::unique_ptr<DenseKernels> kernels);
  Status check(std::span<const float> params, std::size_t batch) const;
  Status check_backward(std::span<const float> params, std::span<const float> grads, std::size_t batch,
                        bool accumulate) const;
  Status run_forward(const float* params, std::size_t batch, bool training);
  // Loss, its gradient and the backward pass; with an optimizer, the fused update of train_step.
  Result<BatchStats> run_backward(std::span<const float> params, std::span<float> grads, std::size_t batch,
                                  float grad_scale, bool accumulate, Optimizer* optimizer, std::span<float> updated);
  void observe(std::size_t layer, const float* dy, std::size_t batch);

  ModelSpec spec_;
  NetworkOptions options_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::size_t> dense_index_;  // per layer: its index among Dense layers
  std::vector<DenseLayout> dense_layouts_;
  std::vector<bool> frozen_;              // per layer
  std::size_t first_trainable_ = 0;       // layers before it need no input gradient
  std::size_t parameters_;  // cached: ModelSpec::parameter_count() and output_size() build a vector
  std::size_t outputs_;
  std::unique_ptr<DenseKernels> kernels_;
  FloatBuffer arena_;
  std::vector<float*> acts_;   // acts_[0] input, acts_[i+1] output of layer i (in-place: the same)
  float* grad_a_ = nullptr;    // ping-pong activation gradients
  float* grad_b_ = nullptr;
  float* wt_scratch_ = nullptr;
  float* layer_scratch_ = nullptr;
  float* acc_scratch_ = nullptr;
  float* targets_ = nullptr;
  BackwardObserver* observer_ = nullptr;
  uint64_t dropout_seed_ = 0;
  uint64_t passes_ = 0;
};

}  // namespace edgefl
