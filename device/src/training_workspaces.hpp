// TrainingWorkspaces: what training a model takes besides a device's own state (the compute
// context, the trainer with its network, gradients and optimizer state, the global and local
// parameters), lent to one task at a time. Devices that share a TrainingPool (the simulator)
// train a few at a time: borrowing these for the task instead of each keeping a set between
// tasks, 1000 devices hold a few sets instead of 1000 (about 5 MB a device for
// mlp:784-256-128-10).
//
//   TrainingWorkspaces& lent = pool.workspaces();
//   std::unique_ptr<TrainingWorkspace> ws = lent.take(key);   // nullptr: none free, build one
//   ... train with ws ...
//   lent.give_back(std::move(ws));
//
// A workspace is lent only for tasks whose result does not depend on what an earlier task
// left in it (the optimizer is reset, no adaptive batch or PALSGD state, no frozen prefix
// with its per-device feature cache): the trainer decides (task_trainer.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/train/trainer.hpp"

namespace edgefl::device {

// What a workspace was built for: a trainer for another model, other frozen layers, another
// micro-batch (which sets the order of a batch's sums) or other kernels cannot stand in.
struct WorkspaceKey {
  std::string model_spec;
  std::vector<uint32_t> trainable_layers;
  std::size_t micro_batch = 0;
  Backend backend = Backend::xnnpack;
  uint32_t threads = 1;
  DirectIsa direct_isa = DirectIsa::best;
  bool operator==(const WorkspaceKey&) const = default;
};

struct TrainingWorkspace {
  WorkspaceKey key;
  std::unique_ptr<ComputeContext> compute;
  std::unique_ptr<LocalTrainer> trainer;
  FloatBuffer global;
  FloatBuffer local;
  FloatBuffer trained_part;  // the trainable slice of the delta when layers are frozen
};

class TrainingWorkspaces {
 public:
  // A free workspace built for `key`, or nullptr.
  std::unique_ptr<TrainingWorkspace> take(const WorkspaceKey& key);
  void give_back(std::unique_ptr<TrainingWorkspace> workspace);
  // Workspaces waiting to be lent.
  std::size_t free_count() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<TrainingWorkspace>> free_;
};

}  // namespace edgefl::device
