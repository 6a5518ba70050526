// TaskFactory: the run's training settings, mapped once from ServerConfig to the wire's
// TaskConfig, and the Tasks built from them.
//
//   Result<TaskFactory> tasks = TaskFactory::create(config, spec);
//   Result<Bytes> task = tasks->encode(task_id, round, version, global_params);
//
// Every Task of a run carries the same settings; only the ids, the model, the seed and the
// round's global start step differ (seed = splitmix64(run seed ^ task_id * golden ratio), so a
// resent Task trains identically). A gradient round's Task (is_gradient_round) asks for one
// batch gradient instead (gradient_only, one step).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "edgefl/proto/messages.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"
#include "server_config.hpp"

namespace edgefl::server {

class TaskFactory {
 public:
  static Result<TaskFactory> create(const ServerConfig& config, const ModelSpec& spec);

  // A Task on `params` (model version `model_version`, whose model_hash is `base_hash`),
  // optionally with an inner optimizer state for the devices to start from.
  Result<std::vector<uint8_t>> encode(uint64_t task_id, uint64_t round, uint64_t model_version,
                                      std::span<const float> params, uint32_t base_hash,
                                      std::span<const float> optimizer_state = {},
                                      uint64_t optimizer_steps = 0) const;
  void set_run_id(uint64_t run_id) { run_id_ = run_id; }
  // What every Task from now on tells the devices to apply to their data (docs/standardization.md).
  void set_standardization(Standardization standardization) {
    standardization_ = std::move(standardization);
  }
  const TaskConfig& settings() const { return settings_; }
  // The layers devices train (train.trainable_layers; empty: all).
  const std::vector<uint32_t>& trainable_layers() const { return trainable_layers_; }

 private:
  TaskFactory(TaskConfig settings, std::string model_spec, std::vector<uint32_t> trainable_layers,
              const ServerConfig& config)
      : settings_(std::move(settings)),
        model_spec_(std::move(model_spec)),
        trainable_layers_(std::move(trainable_layers)),
        seed_(config.seed),
        config_(config) {}

  TaskConfig settings_;  // seed and start step left 0: set per task
  std::string model_spec_;
  std::vector<uint32_t> trainable_layers_;
  uint64_t seed_;
  ServerConfig config_;  // which rounds are gradient rounds, and their global steps
  uint64_t run_id_ = 0;
  Standardization standardization_;
};

}  // namespace edgefl::server
