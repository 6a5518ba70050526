#include "edgefl/train/memory_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "edgefl/nn/layer.hpp"

namespace edgefl {

namespace {

// Mirrors Network::create: every arena region gets up to two cache lines of rounding + slack.
constexpr std::size_t kRegionPadBytes = 2 * 64;
// XNNPACK rounds packed output channels up to its register tile (at most 32 channels on x86 and ARM) and
// the reduction dimension to a small multiple; plus the operator struct.
constexpr std::size_t kXnnChannelPad = 32;
constexpr std::size_t kXnnInnerPad = 16;
constexpr std::size_t kXnnOperatorBytes = 16384;

// What the Network's layers need: asked of the layers themselves (edgefl/nn/layer.hpp).
struct LayerNeeds {
  std::size_t activations = 0;       // floats per sample: the input and every own output
  std::size_t widest_output = 0;     // the gradient ping-pong buffers, per sample
  std::size_t widest_params = 0;     // the accumulation scratch
  std::size_t inner_weight = 0;      // the Dense input gradient's transposed-weight scratch
  std::size_t dense_widest_dim = 0;  // XNNPACK's packed operand, per sample
  std::size_t dense_widest_input = 0;  // the direct backend's X[B][K], per sample
  std::size_t regions = 0;           // arena regions of the activations, each padded
  Layer::ScratchFloats scratch;      // the conv layers' scratch on the fast backends (widest of each part)
};

LayerNeeds layer_needs(const ModelSpec& spec) {
  LayerNeeds n;
  n.activations = spec.input_size();
  n.regions = 1;
  bool trainable_before = false;
  for (const auto& layer : make_layers(spec)) {
    n.activations += layer->activation_floats();
    n.regions += layer->in_place() ? 0 : 1;
    n.widest_output = std::max(n.widest_output, layer->output_shape().size());
    n.widest_params = std::max(n.widest_params, layer->param_count());
    if (layer->spec().kind == LayerKind::dense) {
      const std::size_t in = layer->input_shape().size(), out = layer->output_shape().size();
      if (trainable_before) n.inner_weight = std::max(n.inner_weight, in * out);
      n.dense_widest_dim = std::max({n.dense_widest_dim, in, out});
      n.dense_widest_input = std::max(n.dense_widest_input, in);
    }
    trainable_before = trainable_before || layer->param_count() > 0;
    const Layer::ScratchFloats scratch = layer->scratch_floats();
    n.scratch.fixed = std::max(n.scratch.fixed, scratch.fixed);
    n.scratch.per_sample = std::max(n.scratch.per_sample, scratch.per_sample);
  }
  return n;
}

}  // namespace

std::size_t fixed_state_bytes(const ModelSpec& spec, OptimizerKind kind) {
  const std::size_t p = spec.parameter_count();
  return (2 * p + optimizer_state_floats(kind, p)) * sizeof(float);
}

std::size_t activation_bytes_per_sample(const ModelSpec& spec, Backend backend) {
  const LayerNeeds n = layer_needs(spec);
  std::size_t floats = n.activations;       // input copy + each layer's own output
  floats += 2 * n.widest_output + 1;        // gradient ping-pong + target
  if (backend == Backend::xnnpack && n.dense_widest_dim > 0) {
    // One packed operand at a time: an activation (or its gradient) plus one bias per sample.
    floats += n.dense_widest_dim + 1;
  }
  if (backend == Backend::direct) floats += n.dense_widest_input;  // X[B][K] for a weight gradient
  if (backend != Backend::reference) floats += n.scratch.per_sample;  // conv layers on the GEMM tiles
  return floats * sizeof(float);
}

std::size_t workspace_base_bytes(const ModelSpec& spec, Backend backend, bool accumulation) {
  const LayerNeeds n = layer_needs(spec);
  // The activation regions, then gradients (2), targets, transposed weights and accumulation.
  std::size_t bytes = (n.regions + 5) * kRegionPadBytes;
  bytes += n.inner_weight * sizeof(float);
  if (accumulation) bytes += n.widest_params * sizeof(float);
  if (backend != Backend::reference && (n.scratch.fixed > 0 || n.scratch.per_sample > 0)) {
    bytes += n.scratch.fixed * sizeof(float) + kRegionPadBytes;
  }
  if (backend == Backend::xnnpack && n.dense_widest_dim > 0) {
    bytes += kXnnChannelPad * (n.dense_widest_dim + kXnnInnerPad + 1) * sizeof(float) + kXnnOperatorBytes;
  }
  return bytes;
}

std::size_t max_micro_batch(std::size_t budget_bytes, const ModelSpec& spec, Backend backend,
                            OptimizerKind kind) {
  const std::size_t fixed = fixed_state_bytes(spec, kind) + workspace_base_bytes(spec, backend, true);
  if (budget_bytes <= fixed) return 0;
  return (budget_bytes - fixed) / activation_bytes_per_sample(spec, backend);
}

namespace {

std::string megabytes(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", double(bytes) / double(1u << 20));
  return text;
}

}  // namespace

std::string MemoryPlan::describe() const {
  std::string out = "budget " + megabytes(budget_bytes) + " MB: fixed " + megabytes(fixed_bytes) + " MB (params " +
                    megabytes(parameter_bytes) + ", grads " + megabytes(gradient_bytes) + ", optimizer " +
                    megabytes(optimizer_bytes) + ", global copy " + megabytes(global_copy_bytes) + ", statistics " +
                    megabytes(statistics_bytes) + ", codec " + megabytes(codec_bytes) + ", receive " +
                    megabytes(receive_bytes) + ", dataset " + megabytes(dataset_bytes) + ", send " +
                    megabytes(send_bytes) + ", process " + megabytes(process_bytes) + ", workspace " +
                    megabytes(workspace_bytes) + "), reserve " + megabytes(reserve_bytes) + " MB, " +
                    std::to_string(per_sample_bytes) +
                    " B/sample -> micro-batch " + std::to_string(max_micro_batch);
  return out;
}

// What a device process gains after its start-up measurement once it trains and talks: code
// pages of the kernels, the worker and ZeroMQ thread stacks, per-thread allocator arenas.
// Measured with tests/integration/memory_budget on x86-64: 3.8 MB.
constexpr std::size_t kRuntimeGrowthBytes = std::size_t{4} << 20;

MemoryPlanRequest task_memory_request(const ModelSpec& spec, Backend backend, OptimizerKind optimizer,
                                      BatchTest batch_test, std::size_t batch_cap, bool lossy_codec,
                                      std::size_t receive_bytes, std::size_t dataset_bytes,
                                      std::size_t process_bytes, std::size_t trainable_parameters) {
  MemoryPlanRequest request;
  request.spec = spec;
  request.backend = backend;
  request.optimizer = optimizer;
  request.trainable_parameters = trainable_parameters;
  const std::size_t uploaded = trainable_parameters > 0 ? trainable_parameters : spec.parameter_count();
  request.global_copy = true;
  request.batch_test = batch_test;
  request.codec_bytes = lossy_codec ? 2 * uploaded * sizeof(float) : 0;
  request.receive_bytes = receive_bytes;
  request.dataset_bytes = dataset_bytes;
  request.send_bytes = 2 * uploaded * sizeof(float) + 4096;
  request.process_bytes = process_bytes + kRuntimeGrowthBytes;
  if (batch_test != BatchTest::none && batch_cap > 0) request.batch_limit = batch_cap;
  return request;
}

Result<MemoryPlan> plan_memory(const MemoryPlanRequest& r, std::size_t budget_bytes) {
  if (r.spec.layers.empty()) return make_status(StatusCode::invalid_argument, "memory plan: empty model spec");
  if (r.batch_limit == 0) return make_status(StatusCode::invalid_argument, "memory plan: batch limit 0");
  const std::size_t p = r.spec.parameter_count();
  MemoryPlan plan;
  plan.parameter_bytes = p * sizeof(float);
  plan.gradient_bytes = p * sizeof(float);
  const std::size_t trained = r.trainable_parameters > 0 ? std::min(r.trainable_parameters, p) : p;
  plan.optimizer_bytes = optimizer_state_floats(r.optimizer, trained) * sizeof(float);
  plan.global_copy_bytes = r.global_copy ? p * sizeof(float) : 0;
  plan.per_sample_bytes = activation_bytes_per_sample(r.spec, r.backend);
  if (r.batch_test != BatchTest::none) {
    plan.per_sample_bytes += sizeof(double);  // one running value per sample
    if (r.batch_test == BatchTest::augmented_inner_product) {
      plan.statistics_bytes = p * sizeof(float);                         // second-pass gradient
      plan.per_sample_bytes += layer_needs(r.spec).widest_output * sizeof(float);  // mean-gradient product
    }
  }
  plan.codec_bytes = r.codec_bytes;
  plan.receive_bytes = r.receive_bytes;
  plan.dataset_bytes = r.dataset_bytes;
  plan.send_bytes = r.send_bytes;
  plan.process_bytes = r.process_bytes;
  plan.workspace_bytes = workspace_base_bytes(r.spec, r.backend, true);
  plan.fixed_bytes = plan.parameter_bytes + plan.gradient_bytes + plan.optimizer_bytes + plan.global_copy_bytes +
                     plan.statistics_bytes + plan.codec_bytes + plan.receive_bytes + plan.dataset_bytes +
                     plan.send_bytes + plan.process_bytes + plan.workspace_bytes;
  plan.budget_bytes = budget_bytes;
  const std::size_t one_sample = plan.fixed_bytes + plan.per_sample_bytes;
  if (budget_bytes < one_sample) {
    return make_status(StatusCode::resource_exhausted,
                       "memory budget " + megabytes(budget_bytes) + " MB is too small: need at least " +
                           megabytes(one_sample) + " MB for one sample (" + plan.describe() + ")");
  }
  // Activations get what is left after a reserve of 1/12 of the budget for what the itemised
  // bytes miss (allocator fragmentation, transient buffers of very large micro-batches):
  // measured, a 4096-sample micro-batch in 64 MB peaked 1.1 MB over the budget without it.
  plan.reserve_bytes = budget_bytes / 12;
  const std::size_t usable = budget_bytes - plan.reserve_bytes;
  const std::size_t for_samples = usable > plan.fixed_bytes ? usable - plan.fixed_bytes : 0;
  plan.max_micro_batch = std::max<std::size_t>(1, std::min(r.batch_limit, for_samples / plan.per_sample_bytes));
  return plan;
}

}  // namespace edgefl
