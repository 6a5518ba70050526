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

// The fused optimizer step over parameter ranges as the layers finish their gradients.
class OptimizerSink final : public ParameterGradientSink {
 public:
  OptimizerSink(Optimizer& optimizer, std::span<float> params, std::span<const float> grads)
      : optimizer_(optimizer), params_(params), grads_(grads) {}
  void ready(std::size_t begin, std::size_t end) override { optimizer_.update(params_, grads_, begin, end); }

 private:
  Optimizer& optimizer_;
  std::span<float> params_;
  std::span<const float> grads_;
};

}  // namespace

Network::Network(ModelSpec spec, NetworkOptions options, std::unique_ptr<DenseKernels> kernels)
    : spec_(std::move(spec)), options_(options), layers_(make_layers(spec_)), dense_layouts_(spec_.dense_layouts()),
      parameters_(spec_.parameter_count()), outputs_(spec_.output_size()), kernels_(std::move(kernels)) {
  std::size_t dense = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    dense_index_.push_back(dense);
    if (layers_[i]->spec().kind == LayerKind::dense) ++dense;
  }
  (void)set_trainable({});  // every layer trains; an empty list is always valid
}

Status Network::set_trainable(const std::vector<uint32_t>& layers) {
  EDGEFL_RETURN_IF_ERROR(check_trainable(layers, spec_));
  frozen_.assign(layers_.size(), !layers.empty());
  for (uint32_t i : layers) frozen_[i] = false;
  // create() planned the scratch for every layer after the first with parameters; this one is
  // never earlier.
  first_trainable_ = layers_.size();
  for (std::size_t i = 0; i < layers_.size() && first_trainable_ == layers_.size(); ++i) {
    if (layers_[i]->param_count() > 0 && !frozen_[i]) first_trainable_ = i;
  }
  return Status();
}

Network::~Network() = default;

Result<std::unique_ptr<Network>> Network::create(const ModelSpec& spec, const ComputeContext& ctx,
                                                 NetworkOptions options) {
  if (options.max_micro_batch == 0 || options.max_micro_batch > (1u << 20)) {
    return make_status(StatusCode::out_of_range,
                       "max micro-batch must be in [1, 2^20], got " + std::to_string(options.max_micro_batch));
  }
  if (spec.layers.empty() || spec.geometry().size() != spec.layers.size()) {
    return make_status(StatusCode::invalid_argument, "network: the model spec has not been validated");
  }
  std::unique_ptr<Network> net(new Network(spec, options, ctx.make_kernels()));
  const std::size_t b = options.max_micro_batch;
  std::size_t widest_act = 0, widest_params = 0, widest_inner_weight = 0, widest_scratch = 0;
  const bool conv_gemm = net->kernels_->conv_gemm() != nullptr;
  std::size_t total = region(spec.input_size() * b);
  for (std::size_t i = 0; i < net->layers_.size(); ++i) {
    const Layer& layer = *net->layers_[i];
    widest_act = std::max(widest_act, layer.output_shape().size());
    widest_params = std::max(widest_params, layer.param_count());
    if (layer.spec().kind == LayerKind::dense && i > net->first_trainable_) {
      widest_inner_weight = std::max(widest_inner_weight, layer.input_shape().size() * layer.output_shape().size());
    }
    if (!layer.in_place()) total += region(layer.activation_floats() * b);
    if (conv_gemm) {
      const Layer::ScratchFloats scratch = layer.scratch_floats();
      widest_scratch = std::max(widest_scratch, scratch.fixed + scratch.per_sample * b);
    }
  }
  total += 2 * region(widest_act * b) + region(b);
  if (widest_inner_weight > 0) total += region(widest_inner_weight);
  if (options.accumulation) total += region(widest_params);
  if (widest_scratch > 0) total += region(widest_scratch);

  net->arena_ = FloatBuffer(total);
  float* cursor = net->arena_.data();
  auto take = [&cursor](std::size_t floats) {
    float* p = cursor;
    cursor += region(floats);
    return p;
  };
  net->acts_.push_back(take(spec.input_size() * b));
  for (const auto& layer : net->layers_) {
    net->acts_.push_back(layer->in_place() ? net->acts_.back() : take(layer->activation_floats() * b));
  }
  net->grad_a_ = take(widest_act * b);
  net->grad_b_ = take(widest_act * b);
  net->targets_ = take(b);
  if (widest_inner_weight > 0) net->wt_scratch_ = take(widest_inner_weight);
  if (options.accumulation) net->acc_scratch_ = take(widest_params);
  if (widest_scratch > 0) net->layer_scratch_ = take(widest_scratch);

  EDGEFL_RETURN_IF_ERROR(net->kernels_->prepare(net->dense_layouts_, b).with_context("planning kernels"));
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

Status Network::run_forward(const float* params, std::size_t batch, bool training) {
  const LayerContext ctx{kernels_.get(), wt_scratch_, layer_scratch_, training, dropout_seed_, passes_};
  if (training) ++passes_;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    EDGEFL_RETURN_IF_ERROR(layers_[i]->forward(ctx, {params, acts_[i], acts_[i + 1], batch}));
  }
  return Status();
}

Result<BatchStats> Network::forward(std::span<const float> params, std::size_t batch) {
  EDGEFL_RETURN_IF_ERROR(check(params, batch));
  EDGEFL_RETURN_IF_ERROR(run_forward(params.data(), batch, false));
  LossResult loss = compute_loss(spec_.loss, acts_.back(), targets_, outputs_, batch, 0.0f, nullptr);
  return BatchStats{loss.loss_sum, loss.correct};
}

Result<BatchStats> Network::forward_backward(std::span<const float> params, std::span<float> grads,
                                             std::size_t batch, float grad_scale, bool accumulate) {
  EDGEFL_RETURN_IF_ERROR(check_backward(params, grads, batch, accumulate));
  return run_backward(params, grads, batch, grad_scale, accumulate, nullptr, {});
}

Result<BatchStats> Network::train_step(std::span<float> params, std::span<float> grads, std::size_t batch,
                                       float grad_scale, Optimizer& optimizer) {
  // Every refusal before the optimizer counts a step.
  EDGEFL_RETURN_IF_ERROR(check_backward(params, grads, batch, false));
  EDGEFL_RETURN_IF_ERROR(optimizer.begin_step(params, grads));
  return run_backward(params, grads, batch, grad_scale, false, &optimizer, params);
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
                                         float grad_scale, bool accumulate, Optimizer* optimizer,
                                         std::span<float> updated) {
  EDGEFL_RETURN_IF_ERROR(run_forward(params.data(), batch, true));
  LossResult loss = compute_loss(spec_.loss, acts_.back(), targets_, outputs_, batch,
                                 grad_scale, grad_a_);
  std::optional<OptimizerSink> sink;
  if (optimizer != nullptr) sink.emplace(*optimizer, updated, grads);
  const LayerContext ctx{kernels_.get(), wt_scratch_, layer_scratch_, true, dropout_seed_, passes_ - 1};
  float* dy = grad_a_;
  float* other = grad_b_;
  for (std::size_t i = layers_.size(); i-- > first_trainable_;) {
    Layer& layer = *layers_[i];
    const bool needs_dx = i > first_trainable_;
    float* dx = !needs_dx ? nullptr : layer.in_place() ? dy : other;
    float* param_grads = frozen_[i] ? nullptr : accumulate ? acc_scratch_ : grads.data() + layer.param_offset();
    EDGEFL_RETURN_IF_ERROR(layer.backward(
        ctx, {params.data(), acts_[i], acts_[i + 1], dy, dx, param_grads, sink ? &*sink : nullptr, batch}));
    if (layer.param_count() > 0 && !frozen_[i]) {
      if (observer_ != nullptr) observe(i, dy, batch);
      if (accumulate) {
        float* g = grads.data() + layer.param_offset();
        for (std::size_t j = 0; j < layer.param_count(); ++j) g[j] += acc_scratch_[j];
      }
    }
    if (dx != nullptr && dx != dy) std::swap(dy, other);
  }
  return BatchStats{loss.loss_sum, loss.correct};
}

void Network::observe(std::size_t i, const float* dy, std::size_t batch) {
  const Layer& layer = *layers_[i];
  if (layer.spec().kind == LayerKind::dense) {
    const std::size_t d = dense_index_[i];
    observer_->on_dense_backward(d, dense_layouts_[d], acts_[i], dy, batch);
    return;
  }
  for (std::size_t t = 0; t < layer.parameters().size(); ++t) {
    observer_->on_tensor_backward({i, layer, t, acts_[i], dy, batch});
  }
}

}  // namespace edgefl
