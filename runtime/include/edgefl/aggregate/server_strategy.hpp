// ServerStrategy: how the server turns device updates into the next global model.
//
//   edgefl::StrategySettings settings;          // server_lr, momentum, ... (see below)
//   settings.momentum = 0.9; settings.server_lr = 0.7;
//   auto strategy = edgefl::make_server_strategy("nesterov", settings, params.size());
//   if (!strategy) return strategy.status();     // unknown name or bad setting, named
//
//   Synchronous (fedavg, fedavgm, fedadam, nesterov/diloco): per round
//     ExactMean mean(P); mean.add(delta, samples)...; mean.mean_into(mean_delta);
//     EDGEFL_RETURN_IF_ERROR((*strategy)->apply(global, mean_delta));
//   Asynchronous (fedasync, fedbuff): per arriving update
//     Result<bool> changed = (*strategy)->arrive(global, {delta, UpdateForm::delta, staleness});
//     // stale beyond max_staleness -> Status stale; *changed: a new global version exists
//
// Update convention: a device sends delta = local − global (its base model). Pseudo-gradient
// Δ = global − local = −delta (DiLoCo/PALSGD). All rules below are written for `delta`
// (d = the mean delta; for nesterov Δ = −d):
//   fedavg    global += lr·d                                           (lr 1 = McMahan FedAvg)
//   fedavgm   v = β·v + d;  global += lr·v
//   fedadam   m = β1·m + (1−β1)·d;  v = β2·v + (1−β2)·d²;  global += lr·m/(√v + τ)  (Reddi et al.)
//   nesterov  v = μ·v + Δ;  global −= γ·(Δ + μ·v)    (PyTorch SGD nesterov, dampening 0;
//             docs/algorithms.md §2.2; γ = server_lr, μ = momentum; γ=1, μ=0 is fedavg)
//   fedasync  α_t = α·s(τ); model form: x = (1−α_t)·x + α_t·x_new; delta form uses
//             x_new = x + delta, i.e. x += α_t·delta (exact when τ = 0; the server keeps no
//             old versions). s: constant 1, polynomial (1+τ)^−a, hinge 1 if τ ≤ b else
//             1/(a(τ−b)+1) (docs/algorithms.md §4.1).
//   fedbuff   sum += delta/√(1+τ); after K arrivals: buffer_optimizer.apply(global, sum/K),
//             sum = 0 (docs/algorithms.md §4.2; buffer_optimizer is any synchronous rule).
// Every strategy keeps O(P) state (at most two buffers besides FedBuff's sum) and stores no
// update. save_state/restore_state carry that state through a checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "edgefl/base/status.hpp"
#include "edgefl/aggregate/strategy_state.hpp"
#include "edgefl/aggregate/update_checks.hpp"

namespace edgefl {

enum class StalenessFunction { constant, polynomial, hinge };
Result<StalenessFunction> parse_staleness_function(std::string_view name);  // "constant", ...
std::string_view staleness_function_name(StalenessFunction function);

// s(τ) of FedAsync with parameters a, b.
double staleness_factor(StalenessFunction function, std::uint64_t staleness, double a, double b);

struct StrategySettings {
  double server_lr = 1.0;  // lr of fedavg/fedavgm/fedadam, γ of nesterov
  double momentum = 0.9;   // β of fedavgm, μ of nesterov; in [0, 1)
  double beta1 = 0.9;      // fedadam
  double beta2 = 0.99;     // fedadam
  double tau = 1e-3;       // fedadam adaptivity
  double alpha = 0.6;      // fedasync mixing weight, in (0, 1]
  StalenessFunction staleness_function = StalenessFunction::polynomial;  // fedasync
  double staleness_a = 0.5;  // fedasync polynomial exponent / hinge slope, >= 0
  double staleness_b = 4.0;  // fedasync hinge knee, >= 0
  std::uint32_t buffer_size = 10;                // fedbuff K, >= 1
  std::string buffer_optimizer = "fedavg";       // fedbuff: which synchronous rule applies sum/K
  std::uint64_t max_staleness = std::numeric_limits<std::uint64_t>::max();  // async: older -> stale
  UpdateChecks checks;  // async: per-update norm bound or clip (sync: give them to ExactMean)
};

// The form of an asynchronously arriving update.
enum class UpdateForm { delta, model };

struct Arrival {
  std::span<const float> values;        // delta = local − base, or the device's whole model
  UpdateForm form = UpdateForm::delta;
  std::uint64_t staleness = 0;          // current version − the version the device started from
};

class ServerStrategy {
 public:
  virtual ~ServerStrategy() = default;
  virtual std::string_view name() const = 0;
  virtual bool asynchronous() const = 0;
  virtual std::size_t parameter_count() const = 0;

  // Synchronous strategies: one outer step with the round's mean delta. Async strategies
  // return failed_precondition.
  virtual Status apply(std::span<float> global, std::span<const float> mean_delta) = 0;
  // Asynchronous strategies: one arriving update; true when `global` changed (a new version).
  // Synchronous strategies return failed_precondition.
  virtual Result<bool> arrive(std::span<float> global, const Arrival& arrival) = 0;

  virtual StrategyState save_state() const = 0;
  // All-or-nothing: on error the strategy is unchanged.
  virtual Status restore_state(const StrategyState& state) = 0;
};

// Names: fedavg, fedavgm, fedadam, nesterov (alias diloco), fedasync, fedbuff.
Result<std::unique_ptr<ServerStrategy>> make_server_strategy(std::string_view name, const StrategySettings& settings,
                                                             std::size_t parameter_count);

}  // namespace edgefl
