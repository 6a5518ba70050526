#include "edgefl/optim/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace edgefl {

double clip_global_norm(std::span<float> grads, float max_norm) {
  double sum = 0.0;
  for (float g : grads) sum += double(g) * g;
  const double norm = std::sqrt(sum);
  if (max_norm > 0.0f && norm > max_norm) {
    const float factor = static_cast<float>(double(max_norm) / (norm + 1e-6));
    for (float& g : grads) g *= factor;
  }
  return norm;
}

namespace {

std::size_t state_floats(OptimizerKind kind, std::size_t parameters) {
  switch (kind) {
    case OptimizerKind::sgd: return 0;
    case OptimizerKind::momentum:
    case OptimizerKind::nesterov: return parameters;
    case OptimizerKind::adamw: return 2 * parameters;
  }
  return 0;
}

Status validate(const OptimizerConfig& c) {
  auto bad = [](std::string what) {
    return make_status(StatusCode::invalid_argument, "optimizer: " + std::move(what));
  };
  if (!std::isfinite(c.lr) || c.lr < 0) return bad("learning rate must be finite and >= 0");
  if (!std::isfinite(c.weight_decay) || c.weight_decay < 0) return bad("weight decay must be finite and >= 0");
  if (!(c.momentum >= 0 && c.momentum < 1)) return bad("momentum must be in [0, 1)");
  if (!(c.beta1 >= 0 && c.beta1 < 1) || !(c.beta2 >= 0 && c.beta2 < 1)) return bad("betas must be in [0, 1)");
  if (!(c.eps > 0) || !std::isfinite(c.eps)) return bad("eps must be finite and > 0");
  if (static_cast<unsigned>(c.kind) > static_cast<unsigned>(OptimizerKind::adamw)) {
    return make_status(StatusCode::unknown_enum, "optimizer: unknown kind");
  }
  return Status();
}

// The update loops: one per rule, on restrict-qualified pointers so that the compiler
// vectorises them (the optimizer pass streams every parameter and is a large share of a step).
void sgd_update(float* __restrict w, const float* __restrict g, std::size_t n, float lr, float wd) {
  for (std::size_t i = 0; i < n; ++i) w[i] -= lr * (g[i] + wd * w[i]);
}

void momentum_update(float* __restrict w, const float* __restrict g, float* __restrict v, std::size_t n,
                     float lr, float wd, float mu) {
  for (std::size_t i = 0; i < n; ++i) {
    const float gi = g[i] + wd * w[i];
    const float vi = mu * v[i] + gi;
    v[i] = vi;
    w[i] -= lr * vi;
  }
}

void nesterov_update(float* __restrict w, const float* __restrict g, float* __restrict v, std::size_t n,
                     float lr, float wd, float mu) {
  for (std::size_t i = 0; i < n; ++i) {
    const float gi = g[i] + wd * w[i];
    const float vi = mu * v[i] + gi;
    v[i] = vi;
    w[i] -= lr * (gi + mu * vi);
  }
}

void adamw_update(float* __restrict w, const float* __restrict g, float* __restrict m, float* __restrict v,
                  std::size_t n, float lr, float wd, float b1, float b2, float c1, float c2, float eps) {
  const float decay = 1.0f - lr * wd;
  for (std::size_t i = 0; i < n; ++i) {
    const float mi = b1 * m[i] + (1.0f - b1) * g[i];
    const float vi = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * decay - lr * (mi * c1) / (std::sqrt(vi * c2) + eps);
  }
}

}  // namespace

std::string_view optimizer_name(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::sgd: return "sgd";
    case OptimizerKind::momentum: return "momentum";
    case OptimizerKind::nesterov: return "nesterov";
    case OptimizerKind::adamw: return "adamw";
  }
  return "unknown";
}

Result<OptimizerKind> parse_optimizer(std::string_view name) {
  for (OptimizerKind k : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::nesterov,
                          OptimizerKind::adamw}) {
    if (optimizer_name(k) == name) return k;
  }
  return make_status(StatusCode::invalid_argument,
                     "unknown optimizer '" + std::string(name) + "' (sgd, momentum, nesterov, adamw)");
}

std::size_t optimizer_state_floats(OptimizerKind kind, std::size_t parameters) {
  return state_floats(kind, parameters);
}

Optimizer::Optimizer(const OptimizerConfig& config, std::size_t parameters,
                     std::vector<TrainableSlices::Slice> slices, std::size_t trained)
    : config_(config), parameters_(parameters), slices_(std::move(slices)), trained_(trained),
      state_(state_floats(config.kind, trained)) {}

Result<Optimizer> Optimizer::create(const OptimizerConfig& config, std::size_t parameters) {
  EDGEFL_RETURN_IF_ERROR(validate(config));
  return Optimizer(config, parameters, {{0, parameters}}, parameters);
}

Result<Optimizer> Optimizer::create(const OptimizerConfig& config, const TrainableSlices& trainable) {
  EDGEFL_RETURN_IF_ERROR(validate(config));
  return Optimizer(config, trainable.total(), trainable.slices(), trainable.count());
}

Status Optimizer::set_config(const OptimizerConfig& config) {
  EDGEFL_RETURN_IF_ERROR(validate(config));
  if (config.kind != config_.kind) {
    return make_status(StatusCode::failed_precondition, "optimizer kind cannot change; create a new optimizer");
  }
  config_ = config;
  return Status();
}

Status Optimizer::begin_step(std::span<float> params, std::span<const float> grads) {
  if (params.size() != parameters_ || grads.size() != parameters_) {
    return make_status(StatusCode::shape_mismatch,
                       "optimizer built for " + std::to_string(parameters_) + " parameters, got " +
                           std::to_string(params.size()) + " parameters and " +
                           std::to_string(grads.size()) + " gradients");
  }
  ++steps_;
  if (config_.kind == OptimizerKind::adamw) {
    const double t = static_cast<double>(steps_);
    correction1_ = static_cast<float>(1.0 / (1.0 - std::pow(double(config_.beta1), t)));
    correction2_ = static_cast<float>(1.0 / (1.0 - std::pow(double(config_.beta2), t)));
  }
  return Status();
}

void Optimizer::update(std::span<float> params, std::span<const float> grads, std::size_t begin,
                       std::size_t end) {
  end = std::min({end, parameters_, params.size(), grads.size()});
  std::size_t state_offset = 0;  // of the slice in the state
  for (const TrainableSlices::Slice& slice : slices_) {
    const std::size_t from = std::max(begin, slice.offset), to = std::min(end, slice.offset + slice.count);
    if (from < to) {
      update_slice(params.data() + from, grads.data() + from, to - from, state_offset + (from - slice.offset));
    }
    state_offset += slice.count;
  }
}

void Optimizer::update_slice(float* w, const float* g, std::size_t n, std::size_t state_offset) {
  const float lr = config_.lr;
  const float wd = config_.weight_decay;
  float* state = state_.empty() ? nullptr : state_.data() + state_offset;  // sgd keeps none
  switch (config_.kind) {
    case OptimizerKind::sgd:
      sgd_update(w, g, n, lr, wd);
      break;
    case OptimizerKind::momentum:
      momentum_update(w, g, state, n, lr, wd, config_.momentum);
      break;
    case OptimizerKind::nesterov:
      nesterov_update(w, g, state, n, lr, wd, config_.momentum);
      break;
    case OptimizerKind::adamw:
      adamw_update(w, g, state, state + trained_, n, lr, wd, config_.beta1, config_.beta2, correction1_,
                   correction2_, config_.eps);
      break;
  }
}

Status Optimizer::step(std::span<float> params, std::span<const float> grads) {
  EDGEFL_RETURN_IF_ERROR(begin_step(params, grads));
  update(params, grads, 0, parameters_);
  return Status();
}

Status Optimizer::restore(std::span<const float> state, uint64_t steps) {
  if (state.size() != state_.size()) {
    return make_status(StatusCode::shape_mismatch,
                       "optimizer state has " + std::to_string(state.size()) + " floats, expected " +
                           std::to_string(state_.size()));
  }
  if (!state.empty()) state_.assign(state);
  steps_ = steps;
  return Status();
}

void Optimizer::reset() {
  state_.fill(0.0f);
  steps_ = 0;
}

}  // namespace edgefl
