#include "edgefl/nn/network.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "dense_kernels.hpp"
#include "loss.hpp"

namespace edgefl {

namespace {

// Each arena region is rounded to whole cache lines plus one line of slack, which also covers
// XNNPACK's reads of up to XNN_EXTRA_BYTES past an input.
constexpr std::size_t kLineFloats = 16;
std::size_t region(std::size_t floats) {
  return (floats + kLineFloats - 1) / kLineFloats * kLineFloats + kLineFloats;
}

void add_bias_relu(float* y, const float* bias, std::size_t n, std::size_t b, bool relu) {
  for (std::size_t i = 0; i < n; ++i) {
    float* row = y + i * b;
    const float bi = bias != nullptr ? bias[i] : 0.0f;
    if (relu) {
      for (std::size_t s = 0; s < b; ++s) row[s] = std::max(row[s] + bi, 0.0f);
    } else if (bias != nullptr) {
      for (std::size_t s = 0; s < b; ++s) row[s] += bi;
    }
  }
}

// Bias gradient db[n] = sum over the batch of dy[n][s]. Each row is summed serially from s = 0
// (the summation order every result and test was established with), but eight rows at a time,
// so eight independent add chains overlap instead of one latency-bound chain.
void bias_grad(const float* dy, float* db, std::size_t rows, std::size_t batch) {
  constexpr std::size_t kRows = 8;
  std::size_t n = 0;
  for (; n + kRows <= rows; n += kRows) {
    float sums[kRows] = {};
    for (std::size_t s = 0; s < batch; ++s) {
      for (std::size_t l = 0; l < kRows; ++l) sums[l] += dy[(n + l) * batch + s];
    }
    for (std::size_t l = 0; l < kRows; ++l) db[n + l] = sums[l];
  }
  for (; n < rows; ++n) {
    float sum = 0.0f;
    for (std::size_t s = 0; s < batch; ++s) sum += dy[n * batch + s];
    db[n] = sum;
  }
}

// The fused optimizer step over weight rows as the kernels finish them.
class RowUpdate final : public GradientRowsSink {
 public:
  RowUpdate(Optimizer& optimizer, std::span<float> params, std::span<const float> grads, std::size_t offset,
            std::size_t row_floats)
      : optimizer_(optimizer), params_(params), grads_(grads), offset_(offset), row_floats_(row_floats) {}
  void rows_ready(std::size_t begin, std::size_t end) override {
    optimizer_.update(params_, grads_, offset_ + begin * row_floats_, offset_ + end * row_floats_);
  }

 private:
  Optimizer& optimizer_;
  std::span<float> params_;
  std::span<const float> grads_;
  std::size_t offset_, row_floats_;
};

}  // namespace

Network::Network(ModelSpec spec, NetworkOptions options, std::unique_ptr<DenseKernels> kernels)
    : spec_(std::move(spec)), options_(options), layouts_(spec_.dense_layouts()),
      parameters_(spec_.parameter_count()),
      kernels_(std::move(kernels)) {}

Network::~Network() = default;

Result<std::unique_ptr<Network>> Network::create(const ModelSpec& spec, const ComputeContext& ctx,
                                                 NetworkOptions options) {
  if (options.max_micro_batch == 0 || options.max_micro_batch > (1u << 20)) {
    return make_status(StatusCode::out_of_range,
                       "max micro-batch must be in [1, 2^20], got " + std::to_string(options.max_micro_batch));
  }
  std::unique_ptr<Network> net(new Network(spec, options, ctx.make_kernels()));
  const std::size_t b = options.max_micro_batch;
  std::size_t widest_act = 0, widest_weight = 0, widest_inner_weight = 0;
  for (std::size_t i = 1; i < spec.widths.size(); ++i) widest_act = std::max(widest_act, spec.widths[i]);
  for (std::size_t i = 0; i < net->layouts_.size(); ++i) {
    const DenseLayout& l = net->layouts_[i];
    widest_weight = std::max(widest_weight, l.inputs * l.outputs + l.outputs);
    if (i > 0) widest_inner_weight = std::max(widest_inner_weight, l.inputs * l.outputs);
  }
  std::size_t total = 0;
  for (std::size_t w : spec.widths) total += region(w * b);
  total += 2 * region(widest_act * b) + region(b);
  if (widest_inner_weight > 0) total += region(widest_inner_weight);
  if (options.accumulation) total += region(widest_weight);

  net->arena_ = FloatBuffer(total);
  float* cursor = net->arena_.data();
  auto take = [&cursor](std::size_t floats) {
    float* p = cursor;
    cursor += region(floats);
    return p;
  };
  for (std::size_t w : spec.widths) net->acts_.push_back(take(w * b));
  net->grad_a_ = take(widest_act * b);
  net->grad_b_ = take(widest_act * b);
  net->targets_ = take(b);
  if (widest_inner_weight > 0) net->wt_scratch_ = take(widest_inner_weight);
  if (options.accumulation) net->acc_scratch_ = take(widest_weight);

  EDGEFL_RETURN_IF_ERROR(net->kernels_->prepare(net->layouts_, b).with_context("planning kernels"));
  return net;
}

std::size_t Network::workspace_bytes() const { return arena_.size_bytes() + kernels_->arena_bytes(); }

Status Network::check(std::span<const float> params, std::size_t batch) const {
  if (params.size() != parameters_) {
    return make_status(StatusCode::shape_mismatch,
                       "parameters have " + std::to_string(params.size()) + " floats, model " +
                           spec_.to_string() + " has " + std::to_string(parameters_));
  }
  if (batch == 0 || batch > options_.max_micro_batch) {
    return make_status(StatusCode::out_of_range,
                       "batch " + std::to_string(batch) + " outside [1, " +
                           std::to_string(options_.max_micro_batch) + "]");
  }
  return Status();
}

Status Network::run_forward(const float* params, std::size_t batch) {
  const bool relu = spec_.kind == ModelKind::mlp;
  for (std::size_t i = 0; i < layouts_.size(); ++i) {
    const DenseLayout& l = layouts_[i];
    EDGEFL_RETURN_IF_ERROR(kernels_->forward(params + l.weight_offset, acts_[i], acts_[i + 1],
                                             l.outputs, l.inputs, batch));
    add_bias_relu(acts_[i + 1], l.has_bias ? params + l.bias_offset : nullptr, l.outputs, batch,
                  relu && i + 1 < layouts_.size());
  }
  return Status();
}

Result<BatchStats> Network::forward(std::span<const float> params, std::size_t batch) {
  EDGEFL_RETURN_IF_ERROR(check(params, batch));
  EDGEFL_RETURN_IF_ERROR(run_forward(params.data(), batch));
  LossResult loss = compute_loss(spec_.loss, acts_.back(), targets_, spec_.output_size(), batch, 0.0f, nullptr);
  return BatchStats{loss.loss_sum, loss.correct};
}

Result<BatchStats> Network::forward_backward(std::span<const float> params, std::span<float> grads,
                                             std::size_t batch, float grad_scale, bool accumulate) {
  return run_backward(params, grads, batch, grad_scale, accumulate, nullptr);
}

Result<BatchStats> Network::train_step(std::span<float> params, std::span<float> grads, std::size_t batch,
                                       float grad_scale, Optimizer& optimizer) {
  // Every refusal before the optimizer counts a step.
  EDGEFL_RETURN_IF_ERROR(check_backward(params, grads, batch, false));
  EDGEFL_RETURN_IF_ERROR(optimizer.begin_step(params, grads));
  const FusedUpdate update{optimizer, params};
  return run_backward(params, grads, batch, grad_scale, false, &update);
}

Status Network::check_backward(std::span<const float> params, std::span<const float> grads, std::size_t batch,
                               bool accumulate) const {
  EDGEFL_RETURN_IF_ERROR(check(params, batch));
  if (grads.size() != params.size()) {
    return make_status(StatusCode::shape_mismatch, "gradient buffer size differs from parameters");
  }
  if (accumulate && acc_scratch_ == nullptr) {
    return make_status(StatusCode::failed_precondition,
                       "gradient accumulation needs NetworkOptions.accumulation");
  }
  return Status();
}

Result<BatchStats> Network::run_backward(std::span<const float> params, std::span<float> grads, std::size_t batch,
                                         float grad_scale, bool accumulate, const FusedUpdate* update) {
  EDGEFL_RETURN_IF_ERROR(check_backward(params, grads, batch, accumulate));
  EDGEFL_RETURN_IF_ERROR(run_forward(params.data(), batch));
  LossResult loss = compute_loss(spec_.loss, acts_.back(), targets_, spec_.output_size(), batch,
                                 grad_scale, grad_a_);
  float* dy = grad_a_;
  float* dx = grad_b_;
  for (std::size_t i = layouts_.size(); i-- > 0;) {
    const DenseLayout& l = layouts_[i];
    const std::size_t weights = l.inputs * l.outputs;
    // Fused: the input gradient first, while the weights are still this step's.
    if (update != nullptr && i > 0) {
      EDGEFL_RETURN_IF_ERROR(input_grad(params.data(), i, dy, dx, batch));
    }
    float* dw = accumulate ? acc_scratch_ : grads.data() + l.weight_offset;
    std::optional<RowUpdate> rows;
    if (update != nullptr) rows.emplace(update->optimizer, update->params, grads, l.weight_offset, l.inputs);
    EDGEFL_RETURN_IF_ERROR(kernels_->weight_grad(dy, acts_[i], dw, l.outputs, l.inputs, batch,
                                                 rows ? &*rows : nullptr));
    if (l.has_bias) {
      float* db = accumulate ? acc_scratch_ + weights : grads.data() + l.bias_offset;
      bias_grad(dy, db, l.outputs, batch);
      if (update != nullptr) {
        update->optimizer.update(update->params, grads, l.bias_offset, l.bias_offset + l.outputs);
      }
    }
    if (observer_ != nullptr) observer_->on_dense_backward(i, l, acts_[i], dy, batch);
    if (accumulate) {
      // Weights and bias are adjacent in the flat layout and in the scratch.
      const std::size_t count = weights + (l.has_bias ? l.outputs : 0);
      float* g = grads.data() + l.weight_offset;
      for (std::size_t j = 0; j < count; ++j) g[j] += acc_scratch_[j];
    }
    if (i == 0) break;
    if (update == nullptr) EDGEFL_RETURN_IF_ERROR(input_grad(params.data(), i, dy, dx, batch));
    std::swap(dy, dx);
  }
  return BatchStats{loss.loss_sum, loss.correct};
}

Status Network::input_grad(const float* params, std::size_t layer, const float* dy, float* dx,
                           std::size_t batch) {
  const DenseLayout& l = layouts_[layer];
  EDGEFL_RETURN_IF_ERROR(kernels_->input_grad(params + l.weight_offset, dy, dx, wt_scratch_, l.outputs,
                                              l.inputs, batch));
  // ReLU backward: the stored activation is post-ReLU, and relu(z) > 0 exactly when z > 0.
  const float* a = acts_[layer];
  for (std::size_t j = 0; j < l.inputs * batch; ++j) dx[j] = a[j] > 0.0f ? dx[j] : 0.0f;
  return Status();
}

}  // namespace edgefl
