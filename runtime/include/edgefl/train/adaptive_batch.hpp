// Adaptive local batch sizes (docs/algorithms.md §5): the norm test and the augmented inner-product
// test, from per-sample gradient statistics of one batch.
//
//   edgefl::TrainConfig cfg;  cfg.batch_size = 16;
//   cfg.adaptive = {.test = edgefl::BatchTest::norm, .eta = 0.5, .cap = 1024};
//   auto m = trainer->train(params, data, cfg);   // m->batch_sizes: the batch of every step
//   cfg.batch_size = m->next_batch_size;           // carry the grown batch into the next round
//
//   auto s = trainer->gradient_statistics(params, data, positions, BatchTest::norm);
//   auto b = edgefl::propose_batch_size(*s, cfg.adaptive);   // the test on its own
//
// Statistics (g_i = gradient of sample i's loss, ḡ their mean over the batch of b samples):
//   norm test          V = (Σ‖g_i‖² − b‖ḡ‖²)/(b−1);  passes when V/b ≤ η²‖ḡ‖²;
//                      proposal ceil(V / (η²‖ḡ‖²))
//   inner product      V_ip = Var_i⟨g_i, ḡ⟩ (Bessel);  proposal ceil(V_ip / (θ²‖ḡ‖⁴))
//   orthogonality      V_or = Σ_i(‖g_i‖² − ⟨g_i,ḡ⟩²/‖ḡ‖²)/(b−1);  proposal ceil(V_or / (ν²‖ḡ‖²))
//   augmented IP test  max of the inner-product and orthogonality proposals
// New batch = min(cap, max(b, proposal)): batches only grow. A batch of one sample has no
// variance estimate and keeps its size. Dense layers give the per-sample values without
// per-sample gradients: ‖g_i‖² = Σ_layers (‖x_i‖² + 1)·‖δ_i‖² (the 1 for the bias) and
// ⟨g_i, ḡ⟩ = Σ_layers δ_iᵀ(Ḡ_W x_i + ḡ_b).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class BatchTest : uint8_t { none, norm, augmented_inner_product };

std::string_view batch_test_name(BatchTest test);
Result<BatchTest> parse_batch_test(std::string_view name);  // "none", "norm", "augmented_inner_product"

struct AdaptiveBatchConfig {
  BatchTest test = BatchTest::none;
  double eta = 0.1;            // norm test η (> 0)
  double theta = 0.5;          // inner-product test θ (> 0)
  double nu = 1.0;             // orthogonality test ν (> 0)
  std::size_t cap = 1024;      // largest batch the test may propose (>= the starting batch)
  std::size_t interval = 0;    // test every `interval` local steps; 0: the last step of each train()
};

Status validate(const AdaptiveBatchConfig& config);

struct GradientStatistics {
  std::size_t batch = 0;        // b
  double sum_sq_norms = 0.0;    // Σ_i ‖g_i‖²
  double mean_sq_norm = 0.0;    // ‖ḡ‖²
  bool has_inner = false;       // the two sums below were computed
  double sum_inner = 0.0;       // Σ_i ⟨g_i, ḡ⟩  (= b‖ḡ‖² up to rounding)
  double sum_inner_sq = 0.0;    // Σ_i ⟨g_i, ḡ⟩²
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
