// Shared plumbing of the server strategies: shape checks, the sync/async split and generic
// save/restore of named state buffers. Private to runtime/src/aggregate.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/aggregate/server_strategy.hpp"

namespace edgefl::aggregate_detail {

class StrategyBase : public ServerStrategy {
 public:
  StrategyBase(std::string name, std::size_t parameter_count) : name_(std::move(name)), size_(parameter_count) {}
  std::string_view name() const override { return name_; }
  std::size_t parameter_count() const override { return size_; }
  StrategyState save_state() const override;
  Status restore_state(const StrategyState& state) override;

 protected:
  // A state buffer of P zeros named "<strategy>.<suffix>", saved and restored generically.
  FloatBuffer& add_state_buffer(const std::string& suffix);
  // shape_mismatch unless global has P values.
  Status check_global(std::span<const float> global) const;

 private:
  std::string name_;
  std::size_t size_;
  std::vector<std::pair<std::string, std::unique_ptr<FloatBuffer>>> state_;
};

// fedavg, fedavgm, fedadam, nesterov: validate the mean, then step().
class SynchronousStrategy : public StrategyBase {
 public:
  using StrategyBase::StrategyBase;
  bool asynchronous() const final { return false; }
  Status apply(std::span<float> global, std::span<const float> mean_delta) final;
  Result<bool> arrive(std::span<float> global, const Arrival& arrival) final;

 protected:
  // global and d have P finite values.
  virtual void step(std::span<float> global, std::span<const float> d) = 0;
};

class AsynchronousStrategy : public StrategyBase {
 public:
  AsynchronousStrategy(std::string name, std::size_t parameter_count, const StrategySettings& settings)
      : StrategyBase(std::move(name), parameter_count), settings_(settings) {}
  bool asynchronous() const final { return true; }
  Status apply(std::span<float> global, std::span<const float> mean_delta) final;
  Result<bool> arrive(std::span<float> global, const Arrival& arrival) final;

 protected:
  // Shape, finiteness and staleness are checked; for delta-form updates also the norm bound,
  // and `scale` is the clip factor (1 otherwise).
  virtual Result<bool> accept(std::span<float> global, const Arrival& arrival, double scale) = 0;
  const StrategySettings settings_;
};

Status validate_unit_interval(const char* name, double value, bool include_zero, bool include_one);
Status validate_positive(const char* name, double value);

bool is_synchronous_name(std::string_view name);
Result<std::unique_ptr<ServerStrategy>> make_synchronous(std::string_view name, const StrategySettings& settings,
                                                         std::size_t parameter_count);
Result<std::unique_ptr<ServerStrategy>> make_asynchronous(std::string_view name, const StrategySettings& settings,
                                                          std::size_t parameter_count);

}  // namespace edgefl::aggregate_detail
