#include "per_sample_statistics.hpp"

#include <algorithm>

namespace edgefl {

std::vector<ParameterTensor> parameter_tensors(const ModelSpec& spec) {
  std::vector<ParameterTensor> tensors;
  for (const LayerGeometry& g : spec.geometry()) {
    for (const ParamTensor& t : g.params) tensors.push_back({t.offset, t.size()});
  }
  return tensors;
}

void PerSampleStatistics::reserve(const ModelSpec& spec, std::size_t micro, bool inner) {
  // Called before every measured step: the model's shapes are read once (that allocates).
  if (layout_.empty()) {
    layout_ = parameter_tensors(spec);
    tensors_.resize(layout_.size());
    std::size_t largest = 0;
    for (const LayerGeometry& g : spec.geometry()) {
      if (g.spec.kind == LayerKind::dense) continue;
      for (const ParamTensor& t : g.params) largest = std::max(largest, t.size());
    }
    sample_grad_.resize(largest);
    for (const DenseLayout& l : spec.dense_layouts()) widest_dense_ = std::max(widest_dense_, l.outputs);
  }
  if (x_norms_.size() < micro) x_norms_.resize(micro);
  if (values_.size() < micro) values_.resize(micro);
  if (inner && product_.size() < widest_dense_ * micro) product_.resize(widest_dense_ * micro);
}

void PerSampleStatistics::begin(Mode mode, std::span<const float> mean_gradient) {
  mode_ = mode;
  mean_gradient_ = mean_gradient;
  unknown_tensor_ = false;
  for (TensorStatistics& t : tensors_) {
    if (mode == Mode::sq_norms) t = TensorStatistics{};  // the first pass of a batch
    t.sum_inner = t.sum_inner_sq = 0.0;
  }
}

void PerSampleStatistics::begin_micro_batch(float grad_scale) { inv_scale_ = 1.0 / static_cast<double>(grad_scale); }

TensorStatistics* PerSampleStatistics::tensor_at(std::size_t offset) {
  for (std::size_t i = 0; i < layout_.size(); ++i) {
    if (layout_[i].offset == offset) return &tensors_[i];
  }
  unknown_tensor_ = true;
  return nullptr;
}

void PerSampleStatistics::add_norms(std::size_t offset, std::span<const double> per_sample) {
  TensorStatistics* t = tensor_at(offset);
  if (t == nullptr) return;
  for (double v : per_sample) t->sum_sq_norms += v * inv_scale_ * inv_scale_;
}

void PerSampleStatistics::add_inner(std::size_t offset, std::span<const double> per_sample) {
  TensorStatistics* t = tensor_at(offset);
  if (t == nullptr) return;
  for (double v : per_sample) {
    const double ip = v * inv_scale_;
    t->sum_inner += ip;
    t->sum_inner_sq += ip * ip;
  }
}

void PerSampleStatistics::on_dense_backward(std::size_t, const DenseLayout& l, const float* x, const float* dy,
                                            std::size_t b) {
  // Sample s's gradients: δ_s x_sᵀ for the weights, δ_s for the bias (δ_s = dy[:, s] / grad_scale).
  const std::span<double> values(values_.data(), b);
  if (mode_ == Mode::sq_norms) {
    // ‖δ_s x_sᵀ‖² = ‖x_s‖²·‖δ_s‖².
    std::fill(x_norms_.begin(), x_norms_.begin() + b, 0.0);
    for (std::size_t j = 0; j < l.inputs; ++j) {
      const float* row = x + j * b;
      for (std::size_t s = 0; s < b; ++s) x_norms_[s] += double(row[s]) * row[s];
    }
    std::fill(values.begin(), values.end(), 0.0);
    for (std::size_t o = 0; o < l.outputs; ++o) {
      for (std::size_t s = 0; s < b; ++s) values[s] += double(dy[o * b + s]) * dy[o * b + s];
    }
    if (l.has_bias) add_norms(l.bias_offset, values);
    for (std::size_t s = 0; s < b; ++s) values[s] *= x_norms_[s];
    add_norms(l.weight_offset, values);
    return;
  }
  // ⟨δ_s x_sᵀ, Ḡ_W⟩ = δ_sᵀ (Ḡ_W x_s), with u = Ḡ_W x as [outputs][b].
  const float* gw = mean_gradient_.data() + l.weight_offset;
  float* u = product_.data();
  for (std::size_t o = 0; o < l.outputs; ++o) {
    float* urow = u + o * b;
    std::fill(urow, urow + b, 0.0f);
    const float* grow = gw + o * l.inputs;
    for (std::size_t j = 0; j < l.inputs; ++j) {
      const float g = grow[j];
      const float* xrow = x + j * b;
      for (std::size_t s = 0; s < b; ++s) urow[s] += g * xrow[s];
    }
  }
  std::fill(values.begin(), values.end(), 0.0);
  for (std::size_t o = 0; o < l.outputs; ++o) {
    for (std::size_t s = 0; s < b; ++s) values[s] += double(dy[o * b + s]) * u[o * b + s];
  }
  add_inner(l.weight_offset, values);
  if (!l.has_bias) return;
  // ⟨δ_s, ḡ_b⟩.
  const float* gb = mean_gradient_.data() + l.bias_offset;
  std::fill(values.begin(), values.end(), 0.0);
  for (std::size_t o = 0; o < l.outputs; ++o) {
    for (std::size_t s = 0; s < b; ++s) values[s] += double(dy[o * b + s]) * gb[o];
  }
  add_inner(l.bias_offset, values);
}

void PerSampleStatistics::on_tensor_backward(const TensorBackward& t) {
  const std::size_t n = t.param().size();
  const std::span<double> values(values_.data(), t.batch);
  const float* mean = mode_ == Mode::inner ? mean_gradient_.data() + t.param().offset : nullptr;
  float* g = sample_grad_.data();
  for (std::size_t s = 0; s < t.batch; ++s) {
    t.sample_gradient(s, g);
    double value = 0.0;
    if (mode_ == Mode::sq_norms) {
      for (std::size_t j = 0; j < n; ++j) value += double(g[j]) * g[j];
    } else {
      for (std::size_t j = 0; j < n; ++j) value += double(g[j]) * mean[j];
    }
    values[s] = value;
  }
  if (mode_ == Mode::sq_norms) {
    add_norms(t.param().offset, values);
  } else {
    add_inner(t.param().offset, values);
  }
}

Status PerSampleStatistics::finish(std::span<const float> mean_gradient, GradientStatistics& out) const {
  if (unknown_tensor_) {
    return make_status(StatusCode::internal, "adaptive batch: a layer reported a tensor the model does not have");
  }
  out.tensors.resize(tensors_.size());
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    TensorStatistics t = tensors_[i];
    t.mean_sq_norm = 0.0;
    for (float g : mean_gradient.subspan(layout_[i].offset, layout_[i].size)) t.mean_sq_norm += double(g) * g;
    out.tensors[i] = t;
  }
  return Status();
}

}  // namespace edgefl
