#include "edgefl/train/memory_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace edgefl {

namespace {

// Mirrors Network::create: every arena region gets up to two cache lines of rounding + slack.
constexpr std::size_t kRegionPadBytes = 2 * 64;
// XNNPACK rounds packed output channels up to its register tile (at most 32 channels on x86 and ARM) and
// the reduction dimension to a small multiple; plus the operator struct.
constexpr std::size_t kXnnChannelPad = 32;
constexpr std::size_t kXnnInnerPad = 16;
constexpr std::size_t kXnnOperatorBytes = 16384;

std::size_t widest_activation(const ModelSpec& spec) {
  return *std::max_element(spec.widths.begin() + 1, spec.widths.end());
}

std::size_t widest_input(const ModelSpec& spec) {
  return *std::max_element(spec.widths.begin(), spec.widths.end() - 1);
}

std::size_t widest_dim(const ModelSpec& spec) {
  return *std::max_element(spec.widths.begin(), spec.widths.end());
}

}  // namespace

std::size_t fixed_state_bytes(const ModelSpec& spec, OptimizerKind kind) {
  const std::size_t p = spec.parameter_count();
  return (2 * p + optimizer_state_floats(kind, p)) * sizeof(float);
}

std::size_t activation_bytes_per_sample(const ModelSpec& spec, Backend backend) {
  std::size_t floats = 0;
  for (std::size_t w : spec.widths) floats += w;   // input copy + each layer's output
  floats += 2 * widest_activation(spec) + 1;       // gradient ping-pong + target
  if (backend == Backend::xnnpack) {
    // One packed operand at a time: an activation (or its gradient) plus one bias per sample.
    floats += widest_dim(spec) + 1;
  }
  if (backend == Backend::direct) floats += widest_input(spec);  // X[B][K] for a weight gradient
  return floats * sizeof(float);
}

std::size_t workspace_base_bytes(const ModelSpec& spec, Backend backend, bool accumulation) {
  std::size_t inner_weight = 0, weight = 0;
  auto layouts = spec.dense_layouts();
  for (std::size_t i = 0; i < layouts.size(); ++i) {
    const std::size_t w = layouts[i].inputs * layouts[i].outputs;
    weight = std::max(weight, w + layouts[i].outputs);
    if (i > 0) inner_weight = std::max(inner_weight, w);
  }
  std::size_t bytes = (spec.widths.size() + 5) * kRegionPadBytes;
  bytes += inner_weight * sizeof(float);
  if (accumulation) bytes += weight * sizeof(float);
  if (backend == Backend::xnnpack) {
    bytes += kXnnChannelPad * (widest_dim(spec) + kXnnInnerPad + 1) * sizeof(float) + kXnnOperatorBytes;
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
                                      std::size_t process_bytes) {
  MemoryPlanRequest request;
  request.spec = spec;
  request.backend = backend;
  request.optimizer = optimizer;
  request.global_copy = true;
  request.batch_test = batch_test;
  request.codec_bytes = lossy_codec ? 2 * spec.parameter_count() * sizeof(float) : 0;
  request.receive_bytes = receive_bytes;
  request.dataset_bytes = dataset_bytes;
  request.send_bytes = 2 * spec.parameter_count() * sizeof(float) + 4096;
  request.process_bytes = process_bytes + kRuntimeGrowthBytes;
  if (batch_test != BatchTest::none && batch_cap > 0) request.batch_limit = batch_cap;
  return request;
}

Result<MemoryPlan> plan_memory(const MemoryPlanRequest& r, std::size_t budget_bytes) {
  if (r.spec.widths.size() < 2) return make_status(StatusCode::invalid_argument, "memory plan: empty model spec");
  if (r.batch_limit == 0) return make_status(StatusCode::invalid_argument, "memory plan: batch limit 0");
  const std::size_t p = r.spec.parameter_count();
  MemoryPlan plan;
  plan.parameter_bytes = p * sizeof(float);
  plan.gradient_bytes = p * sizeof(float);
  plan.optimizer_bytes = optimizer_state_floats(r.optimizer, p) * sizeof(float);
  plan.global_copy_bytes = r.global_copy ? p * sizeof(float) : 0;
  plan.per_sample_bytes = activation_bytes_per_sample(r.spec, r.backend);
  if (r.batch_test != BatchTest::none) {
    plan.per_sample_bytes += sizeof(double);  // one running value per sample
    if (r.batch_test == BatchTest::augmented_inner_product) {
      plan.statistics_bytes = p * sizeof(float);                         // second-pass gradient
      plan.per_sample_bytes += widest_activation(r.spec) * sizeof(float);  // mean-gradient product
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
