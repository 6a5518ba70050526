// Memory planning: what a device needs, before the first step runs, and how much it has.
//
//   auto budget = edgefl::available_memory_bytes();      // MemAvailable / cgroup, minus a margin
//   edgefl::MemoryPlanRequest req{.spec = spec, .backend = ctx->backend(),
//                                 .optimizer = OptimizerKind::adamw, .global_copy = true,
//                                 .codec_bytes = codec_work, .receive_bytes = max_message};
//   auto plan = edgefl::plan_memory(req, flags.memory_budget ? flags.memory_budget : *budget);
//   if (!plan) return plan.status();   // resource_exhausted: "budget X MB is too small: ..."
//   LocalTrainer::create(spec, *ctx, {.max_micro_batch = plan->max_micro_batch});
//
// The plan itemises the fixed bytes (parameters, gradients, optimizer state, the global copy
// PALSGD/DiLoCo keep, the adaptive test's second-pass gradient, codec buffers, receive buffer,
// the dataset, the network's batch-independent workspace) and the bytes per sample
// (activations, their gradients, per backend, plus per-sample statistics scratch); the largest
// micro-batch is (budget - fixed) / per_sample. Larger logical batches use accumulation.
//
//   std::size_t fixed = edgefl::fixed_state_bytes(spec, edgefl::OptimizerKind::momentum);
//   std::size_t per_sample = edgefl::activation_bytes_per_sample(spec, edgefl::Backend::xnnpack);
//   std::size_t micro = edgefl::max_micro_batch(budget, spec, backend, kind);
//
// fixed_state_bytes: parameters + gradients + optimizer state (+ the weight-gradient scratch
// used for gradient accumulation and the transposed-weight scratch of the input gradient).
// activation_bytes_per_sample: activations, their gradients, the float copy of the input and
// target, (XNNPACK) the per-sample part of the packed operands, and (direct, XNNPACK) of the
// conv layers' GEMM scratch. Upper bounds: the
// Network's real arena never exceeds fixed + per_sample * micro_batch + workspace_base_bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "edgefl/train/adaptive_batch.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/optim/optimizer.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl {

std::size_t fixed_state_bytes(const ModelSpec& spec, OptimizerKind kind);
std::size_t activation_bytes_per_sample(const ModelSpec& spec, Backend backend);
// Per-network bytes independent of the batch: scratch matrices, alignment padding, and
// XNNPACK's padding of packed operands.
std::size_t workspace_base_bytes(const ModelSpec& spec, Backend backend, bool accumulation);
// Largest micro-batch that fits `budget_bytes` (0 if even one sample does not fit).
std::size_t max_micro_batch(std::size_t budget_bytes, const ModelSpec& spec, Backend backend,
                            OptimizerKind kind);

struct MemoryPlanRequest {
  ModelSpec spec;
  Backend backend = Backend::xnnpack;
  OptimizerKind optimizer = OptimizerKind::sgd;
  std::size_t trainable_parameters = 0;  // optimizer state is kept for these only (0: all)
  bool global_copy = false;              // keep the received global model (PALSGD z, DiLoCo delta base)
  BatchTest batch_test = BatchTest::none;  // per-sample statistics scratch (+ a gradient for the IP test)
  std::size_t codec_bytes = 0;           // upload codec: error-feedback residual + encode work
  std::size_t receive_bytes = 0;         // receive buffer: the largest message accepted
  std::size_t dataset_bytes = 0;         // the local shard, when it counts against the budget
  std::size_t send_bytes = 0;            // an outgoing update while it is encoded (builder + copy)
  std::size_t process_bytes = 0;         // the process itself: code, libraries, runtime (measured)
  std::size_t batch_limit = std::size_t{1} << 20;  // never plan a micro-batch above this
};

struct MemoryPlan {
  std::size_t parameter_bytes = 0;
  std::size_t gradient_bytes = 0;
  std::size_t optimizer_bytes = 0;
  std::size_t global_copy_bytes = 0;
  std::size_t statistics_bytes = 0;
  std::size_t codec_bytes = 0;
  std::size_t receive_bytes = 0;
  std::size_t dataset_bytes = 0;
  std::size_t send_bytes = 0;
  std::size_t process_bytes = 0;
  std::size_t workspace_bytes = 0;   // batch-independent network workspace
  std::size_t fixed_bytes = 0;       // sum of the above
  std::size_t per_sample_bytes = 0;
  std::size_t budget_bytes = 0;
  std::size_t reserve_bytes = 0;     // 1/12 of the budget kept back for what the items miss
  std::size_t max_micro_batch = 0;   // >= 1
  // One line, e.g. "budget 64.0 MB: fixed 3.3 MB (params 0.8, grads 0.8, ...), 5.1 KB/sample -> micro-batch 12000".
  std::string describe() const;
};

// The request for a federated task: the received model is kept (delta base, PALSGD's z),
// lossy upload codecs keep a residual and a work buffer, messages arrive whole.
// Device and server both plan with it, so the server never assigns work that cannot fit.
// `process_bytes` is what the process holds before training state exists (its resident size
// at start, without the dataset); the request adds the measured growth of a running device
// (kernel code pages, thread stacks, allocator arenas) to it.
// trainable_parameters: the task's trainable count (frozen layers; 0: all), which sizes the
// optimizer state, the codec's buffers and the outgoing update.
MemoryPlanRequest task_memory_request(const ModelSpec& spec, Backend backend, OptimizerKind optimizer,
                                      BatchTest batch_test, std::size_t batch_cap, bool lossy_codec,
                                      std::size_t receive_bytes, std::size_t dataset_bytes,
                                      std::size_t process_bytes, std::size_t trainable_parameters = 0);

// resource_exhausted "memory budget X MB is too small: need at least Y MB for one sample" when
// not even one sample fits; invalid_argument for a zero batch_limit.
Result<MemoryPlan> plan_memory(const MemoryPlanRequest& request, std::size_t budget_bytes);

// Where the memory numbers come from (injectable for tests).
struct MemoryProbe {
  std::string meminfo = "/proc/meminfo";
  std::string self_cgroup = "/proc/self/cgroup";
  std::string cgroup_root = "/sys/fs/cgroup";
  double safety_fraction = 0.10;                 // keep this fraction of what is available free
  uint64_t safety_min_bytes = uint64_t{32} << 20;  // and at least this much
};

// Bytes the process may still use: min(MemAvailable, the tightest cgroup headroom (limit −
// usage) on the process's cgroup path and its ancestors; v2 memory.max/memory.current, v1
// memory.limit_in_bytes/memory.usage_in_bytes), minus max(fraction · that, min bytes), floored
// at 0. Errors: not_found / io_error (no meminfo), corrupt (no MemAvailable line, bad numbers).
Result<uint64_t> available_memory_bytes(const MemoryProbe& probe = {});

// This process's resident set (VmRSS of /proc/self/status, or `status_path`), and its peak
// (VmHWM). Errors: not_found / io_error, corrupt (no such line).
Result<uint64_t> resident_memory_bytes(const std::string& status_path = "/proc/self/status");
Result<uint64_t> peak_resident_memory_bytes(const std::string& status_path = "/proc/self/status");

}  // namespace edgefl
