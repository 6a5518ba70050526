// PerSampleStatistics: the BackwardObserver that accumulates the adaptive-batch statistics of
// one logical batch (edgefl/train/adaptive_batch.hpp), per parameter tensor, while the
// trainer's backward passes run.
//
//   stats.reserve(spec, micro, inner);             // once
//   stats.begin(mode, mean_gradient);              // per pass over the logical batch
//   stats.begin_micro_batch(grad_scale);           // before each forward_backward
//   network.forward_backward(...);                 // calls on_dense_backward per Dense layer,
//                                                  // on_tensor_backward per other tensor
//   stats.finish(mean_gradient, out);              // out.tensors: the sums of both passes
//
// Mode sq_norms sums ‖g_i^p‖² per tensor; mode inner sums ⟨g_i^p, ḡ^p⟩ and its square, with ḡ
// the logical batch's finished mean gradient (so it is a second pass). A layer's hook computes
// each sample's value for each of its tensors and hands it to add_norms/add_inner by the
// tensor's offset in the flat parameters: a new layer kind needs only its hook and its tensors
// in parameter_tensors(). Buffers are sized once by reserve(); the passes do not allocate.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/nn/network.hpp"
#include "edgefl/train/adaptive_batch.hpp"

namespace edgefl {

// Where one parameter tensor sits in the flat parameter vector.
struct ParameterTensor {
  std::size_t offset = 0;
  std::size_t size = 0;
};

// Every parameter tensor of `spec` in parameter order: per layer its weights, then its bias.
std::vector<ParameterTensor> parameter_tensors(const ModelSpec& spec);

class PerSampleStatistics final : public BackwardObserver {
 public:
  enum class Mode { sq_norms, inner };

  // The tensors of `spec` and per-sample scratch for micro-batches up to `micro` (inner mode
  // needs a [widest Dense output][micro] product buffer too), and one sample's gradient of the
  // largest non-Dense parameter tensor.
  void reserve(const ModelSpec& spec, std::size_t micro, bool inner);
  std::size_t tensor_count() const { return tensors_.size(); }
  // Starts a pass: clears the sums of `mode`.
  void begin(Mode mode, std::span<const float> mean_gradient);
  void begin_micro_batch(float grad_scale);
  void on_dense_backward(std::size_t dense_index, const DenseLayout& layout, const float* x, const float* dy,
                         std::size_t batch) override;
  // Conv and depthwise tensors: each sample's gradient materialised in turn (exact).
  void on_tensor_backward(const TensorBackward& tensor) override;
  // Copies the sums into out.tensors (sized to the tensor count) with ‖ḡ^p‖² from
  // `mean_gradient`; internal when a hook named an offset that starts no tensor.
  Status finish(std::span<const float> mean_gradient, GradientStatistics& out) const;

 private:
  // The tensor starting at `offset`; nullptr (and remembered) when there is none.
  TensorStatistics* tensor_at(std::size_t offset);
  // Sample values of one tensor, already divided by the gradient scale: ‖g_s^p‖², ⟨g_s^p, ḡ^p⟩.
  void add_norms(std::size_t offset, std::span<const double> per_sample);
  void add_inner(std::size_t offset, std::span<const double> per_sample);

  Mode mode_ = Mode::sq_norms;
  std::span<const float> mean_gradient_;
  double inv_scale_ = 1.0;
  bool unknown_tensor_ = false;
  std::vector<ParameterTensor> layout_;
  std::vector<TensorStatistics> tensors_;  // parallel to layout_
  std::vector<double> x_norms_;   // [micro]: ‖x_s‖² of the current layer
  std::vector<double> values_;    // [micro]: one tensor's per-sample values
  std::vector<float> product_;    // [outputs][micro]: Ḡ_W x for the inner mode
  std::vector<float> sample_grad_;  // one sample's gradient of one non-Dense tensor
  std::size_t widest_dense_ = 0;    // the most outputs of a Dense layer
};

}  // namespace edgefl
