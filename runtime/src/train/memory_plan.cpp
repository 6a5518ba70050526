#include "edgefl/memory_plan.hpp"

#include <algorithm>

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

}  // namespace edgefl
