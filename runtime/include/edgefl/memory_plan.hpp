// Memory planning numbers: what a training step needs, before the first step runs.
//
//   std::size_t fixed = edgefl::fixed_state_bytes(spec, edgefl::OptimizerKind::momentum);
//   std::size_t per_sample = edgefl::activation_bytes_per_sample(spec, edgefl::Backend::xnnpack);
//   std::size_t micro = edgefl::max_micro_batch(budget, spec, backend, kind);
//
// fixed_state_bytes: parameters + gradients + optimizer state (+ the weight-gradient scratch
// used for gradient accumulation and the transposed-weight scratch of the input gradient).
// activation_bytes_per_sample: activations, their gradients, the float copy of the input and
// target, and (XNNPACK) the per-sample part of the packed operands. Upper bounds: the
// Network's real arena never exceeds fixed + per_sample * micro_batch + workspace_base_bytes.
#pragma once

#include <cstddef>

#include "edgefl/compute.hpp"
#include "edgefl/model_spec.hpp"
#include "edgefl/optimizer.hpp"

namespace edgefl {

std::size_t fixed_state_bytes(const ModelSpec& spec, OptimizerKind kind);
std::size_t activation_bytes_per_sample(const ModelSpec& spec, Backend backend);
// Per-network bytes independent of the batch: scratch matrices, alignment padding, and
// XNNPACK's padding of packed operands.
std::size_t workspace_base_bytes(const ModelSpec& spec, Backend backend, bool accumulation);
// Largest micro-batch that fits `budget_bytes` (0 if even one sample does not fit).
std::size_t max_micro_batch(std::size_t budget_bytes, const ModelSpec& spec, Backend backend,
                            OptimizerKind kind);

}  // namespace edgefl
