// Adaptive local batch sizes (docs/algorithms.md §5): the norm test and the augmented inner-product
// test, from per-sample gradient statistics of one batch, and the learning rate for a grown batch.
//
//   edgefl::TrainConfig cfg;  cfg.batch_size = 16;
//   cfg.adaptive = {.test = edgefl::BatchTest::norm, .eta = 0.5, .cap = 1024};
//   auto m = trainer->train(params, data, cfg);   // m->batch_sizes: the batch of every step
//   cfg.batch_size = m->next_batch_size;           // carry the grown batch into the next round
//
//   auto s = trainer->gradient_statistics(params, data, positions, BatchTest::norm);
//   auto b = edgefl::propose_batch_size(*s, cfg.adaptive);   // the test on its own
//
// Statistics are kept per parameter tensor p (each weight matrix and each bias vector on its
// own), g_i^p = the part of sample i's loss gradient in tensor p, ḡ^p their mean over the batch
// of b samples, ‖ḡ‖² = Σ_p ‖ḡ^p‖²:
//   norm test          V = Σ_p (Σ_i‖g_i^p‖² − b‖ḡ^p‖²)/(b−1);  passes when V/b ≤ η²‖ḡ‖²;
//                      proposal ceil(V / (η²‖ḡ‖²))  (a sum over coordinates: tensors do not matter)
//   inner product      V_ip = Σ_p Var_i⟨g_i^p, ḡ^p⟩ (Bessel);  proposal ceil(V_ip / (θ²‖ḡ‖⁴))
//   orthogonality      V_or = Σ_p Σ_i(‖g_i^p‖² − ⟨g_i^p,ḡ^p⟩²/‖ḡ^p‖²)/(b−1);  proposal ceil(V_or / (ν²‖ḡ‖²))
//                      (a tensor with ḡ^p = 0 has no direction to project on: all of it counts)
//   augmented IP test  max of the inner-product and orthogonality proposals
// Per tensor, not whole-vector: a whole-vector Var_i⟨g_i, ḡ⟩ would add the covariances between
// tensors. New batch = min(cap, max(b, proposal)): batches only grow. A batch of one sample has
// no variance estimate and keeps its size.
//
// Learning rate at batch b (lr tuned for the starting batch b0): none lr; sqrt lr·sqrt(b/b0);
// linear lr·b/b0; each capped at max_lr when max_lr > 0 (scaled_learning_rate()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class BatchTest : uint8_t { none, norm, augmented_inner_product };

std::string_view batch_test_name(BatchTest test);
Result<BatchTest> parse_batch_test(std::string_view name);  // "none", "norm", "augmented_inner_product"

enum class LrScaling : uint8_t { none, sqrt, linear };

std::string_view lr_scaling_name(LrScaling scaling);
Result<LrScaling> parse_lr_scaling(std::string_view name);  // "none", "sqrt", "linear"

// What the test interval counts: the local steps of the device's life (so an interval that does
// not divide the steps of a task still tests every `interval` steps), or those of each task.
enum class IntervalClock : uint8_t { device, task };

std::string_view interval_clock_name(IntervalClock clock);
Result<IntervalClock> parse_interval_clock(std::string_view name);  // "device", "task"

struct AdaptiveBatchConfig {
  BatchTest test = BatchTest::none;
  double eta = 0.1;            // norm test η (> 0)
  double theta = 0.5;          // inner-product test θ (> 0)
  double nu = 1.0;             // orthogonality test ν (> 0)
  std::size_t cap = 1024;      // largest batch the test may propose (>= the starting batch)
  std::size_t interval = 0;    // test every `interval` local steps; 0: the last step of each train()
  IntervalClock interval_clock = IntervalClock::device;
  LrScaling lr_scaling = LrScaling::none;
  double max_lr = 0.0;         // cap of the scaled learning rate; 0: no cap
};

Status validate(const AdaptiveBatchConfig& config);

// lr · f(batch / base_batch) by the config's scaling rule, capped at max_lr (when > 0).
double scaled_learning_rate(const AdaptiveBatchConfig& config, double lr, std::size_t batch, std::size_t base_batch);

// Sums over one parameter tensor p of a batch's per-sample gradients.
struct TensorStatistics {
  double sum_sq_norms = 0.0;   // Σ_i ‖g_i^p‖²
  double mean_sq_norm = 0.0;   // ‖ḡ^p‖²
  double sum_inner = 0.0;      // Σ_i ⟨g_i^p, ḡ^p⟩  (= b‖ḡ^p‖² up to rounding)
  double sum_inner_sq = 0.0;   // Σ_i ⟨g_i^p, ḡ^p⟩²
};

struct GradientStatistics {
  std::size_t batch = 0;                 // b
  bool has_inner = false;                // the inner-product sums were computed
  std::vector<TensorStatistics> tensors; // one per parameter tensor, in parameter order

  double sum_sq_norms() const;  // Σ_i ‖g_i‖² over all tensors
  double mean_sq_norm() const;  // ‖ḡ‖²
};

struct BatchProposal {
  std::size_t batch = 0;   // the batch size to use from now on
  bool passed = true;      // the test's condition held for the current batch
  double variance = 0.0;   // V (norm) or max(V_ip, V_or) for the augmented test
};

// The test's verdict for `stats`; BatchTest::none keeps the batch. invalid_argument when the
// augmented test lacks the inner-product sums.
Result<BatchProposal> propose_batch_size(const GradientStatistics& stats, const AdaptiveBatchConfig& config);

}  // namespace edgefl
