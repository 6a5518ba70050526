#include "per_sample_statistics.hpp"

#include <algorithm>

namespace edgefl {

void PerSampleStatistics::reserve(const ModelSpec& spec, std::size_t micro, bool inner) {
  // Called before every measured step: once sized, nothing to do (and nothing allocated).
  if (micro <= reserved_micro_ && (!inner || reserved_inner_)) return;
  reserved_micro_ = std::max(reserved_micro_, micro);
  reserved_inner_ = reserved_inner_ || inner;
  if (per_sample_.size() < micro) per_sample_.resize(micro);
  if (inner) {
    std::size_t widest = 0;
    for (const DenseLayout& l : spec.dense_layouts()) widest = std::max(widest, l.outputs);
    if (product_.size() < widest * micro) product_.resize(widest * micro);
  }
  std::size_t largest = 0;
  for (const LayerGeometry& g : spec.geometry()) {
    if (g.spec.kind == LayerKind::dense) continue;
    for (const ParamTensor& t : g.params) largest = std::max(largest, t.size());
  }
  if (sample_grad_.size() < largest) sample_grad_.resize(largest);
}

void PerSampleStatistics::begin(Mode mode, std::span<const float> mean_gradient) {
  mode_ = mode;
  mean_gradient_ = mean_gradient;
  sum_sq_norms_ = sum_inner_ = sum_inner_sq_ = 0.0;
}

void PerSampleStatistics::begin_micro_batch(float grad_scale) {
  inv_scale_ = 1.0 / static_cast<double>(grad_scale);
  std::fill(per_sample_.begin(), per_sample_.end(), 0.0);
}

void PerSampleStatistics::end_micro_batch(std::size_t batch) {
  if (mode_ != Mode::inner) return;
  for (std::size_t s = 0; s < batch; ++s) {
    sum_inner_ += per_sample_[s];
    sum_inner_sq_ += per_sample_[s] * per_sample_[s];
  }
}

void PerSampleStatistics::on_dense_backward(std::size_t, const DenseLayout& l, const float* x, const float* dy,
                                            std::size_t b) {
  if (mode_ == Mode::sq_norms) {
    // per_sample_ holds ‖x_s‖² (+1 for the bias) for this layer only.
    const double bias = l.has_bias ? 1.0 : 0.0;
    std::fill(per_sample_.begin(), per_sample_.begin() + b, bias);
    for (std::size_t j = 0; j < l.inputs; ++j) {
      const float* row = x + j * b;
      for (std::size_t s = 0; s < b; ++s) per_sample_[s] += double(row[s]) * row[s];
    }
    double layer = 0.0;
    for (std::size_t s = 0; s < b; ++s) {
      double d2 = 0.0;
      for (std::size_t o = 0; o < l.outputs; ++o) d2 += double(dy[o * b + s]) * dy[o * b + s];
      layer += per_sample_[s] * d2;
    }
    sum_sq_norms_ += layer * inv_scale_ * inv_scale_;
    return;
  }
  // Inner mode: per_sample_[s] += δ_sᵀ (Ḡ_W x_s + ḡ_b), with δ = dy / grad_scale.
  const float* gw = mean_gradient_.data() + l.weight_offset;
  const float* gb = l.has_bias ? mean_gradient_.data() + l.bias_offset : nullptr;
  float* u = product_.data();
  for (std::size_t o = 0; o < l.outputs; ++o) {
    float* urow = u + o * b;
    const float bias = gb != nullptr ? gb[o] : 0.0f;
    std::fill(urow, urow + b, bias);
    const float* grow = gw + o * l.inputs;
    for (std::size_t j = 0; j < l.inputs; ++j) {
      const float g = grow[j];
      const float* xrow = x + j * b;
      for (std::size_t s = 0; s < b; ++s) urow[s] += g * xrow[s];
    }
  }
  for (std::size_t o = 0; o < l.outputs; ++o) {
    for (std::size_t s = 0; s < b; ++s) per_sample_[s] += double(dy[o * b + s]) * u[o * b + s] * inv_scale_;
  }
}

void PerSampleStatistics::on_tensor_backward(const TensorBackward& t) {
  const std::size_t n = t.param().size();
  float* g = sample_grad_.data();
  const float* mean = mode_ == Mode::inner ? mean_gradient_.data() + t.param().offset : nullptr;
  double tensor_sum = 0.0;
  for (std::size_t s = 0; s < t.batch; ++s) {
    t.sample_gradient(s, g);
    double value = 0.0;
    if (mode_ == Mode::sq_norms) {
      for (std::size_t j = 0; j < n; ++j) value += double(g[j]) * g[j];
      tensor_sum += value;
    } else {
      for (std::size_t j = 0; j < n; ++j) value += double(g[j]) * mean[j];
      per_sample_[s] += value * inv_scale_;
    }
  }
  if (mode_ == Mode::sq_norms) sum_sq_norms_ += tensor_sum * inv_scale_ * inv_scale_;
}

}  // namespace edgefl
