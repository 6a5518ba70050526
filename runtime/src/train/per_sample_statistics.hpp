// PerSampleStatistics: the BackwardObserver that accumulates the adaptive-batch statistics of
// one logical batch (edgefl/train/adaptive_batch.hpp) while the trainer's backward passes run.
//
//   stats.begin(batch, mode, mean_gradient);       // per logical batch
//   stats.begin_micro_batch(grad_scale);           // before each forward_backward
//   network.forward_backward(...);                 // calls on_dense_backward per Dense layer,
//                                                  // on_tensor_backward per other tensor
//   stats.end_micro_batch(count);
//
// Mode sq_norms sums ‖g_i‖² = Σ_layers (‖x_i‖² + [bias])·‖δ_i‖²; mode inner sums ⟨g_i, ḡ⟩ and
// its square, with ḡ the logical batch's finished mean gradient (so it is a second pass).
// Buffers are sized once by reserve(); the passes do not allocate.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "edgefl/train/adaptive_batch.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/nn/network.hpp"

namespace edgefl {

class PerSampleStatistics final : public BackwardObserver {
 public:
  enum class Mode { sq_norms, inner };

  // Sizes the per-sample scratch for micro-batches up to `micro` (inner mode needs a
  // [widest Dense output][micro] product buffer too) and one sample's gradient of the largest
  // non-Dense parameter tensor.
  void reserve(const ModelSpec& spec, std::size_t micro, bool inner);
  void begin(Mode mode, std::span<const float> mean_gradient);
  void begin_micro_batch(float grad_scale);
  void end_micro_batch(std::size_t batch);
  void on_dense_backward(std::size_t dense_index, const DenseLayout& layout, const float* x, const float* dy,
                         std::size_t batch) override;
  // Conv and depthwise tensors: each sample's gradient materialised in turn (exact).
  void on_tensor_backward(const TensorBackward& tensor) override;

  double sum_sq_norms() const { return sum_sq_norms_; }
  double sum_inner() const { return sum_inner_; }
  double sum_inner_sq() const { return sum_inner_sq_; }

 private:
  Mode mode_ = Mode::sq_norms;
  std::span<const float> mean_gradient_;
  double inv_scale_ = 1.0;
  double sum_sq_norms_ = 0.0;
  double sum_inner_ = 0.0;
  double sum_inner_sq_ = 0.0;
  std::vector<double> per_sample_;  // [micro]: ⟨g_i, ḡ⟩ across layers, or ‖x_i‖² scratch
  std::vector<float> product_;      // [outputs][micro]: Ḡ_W x for the inner mode
  std::vector<float> sample_grad_;
  std::size_t reserved_micro_ = 0;
  bool reserved_inner_ = false;  // one sample's gradient of one non-Dense tensor
};

}  // namespace edgefl
