// TaskTrainer: turns one encoded Task into an encoded Update; what a TrainingWorker runs on its
// thread. LocalTaskTrainer trains on the device's data; a StepPacer (step_pacer.hpp) paces its
// steps.
//
//   std::unique_ptr<TaskTrainer> trainer = std::make_unique<LocalTaskTrainer>(options);
//   TrainingResult done = trainer->train(task_id, std::move(task_message), stop);
//
// LocalTaskTrainer owns everything training needs (compute context, trainer, buffers, the
// update encoder with its error-feedback residual) and builds it on the calling thread when
// the first task for a model arrives, so thread-bound XNNPACK state never crosses threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgefl/nn/compute.hpp"
#include "edgefl/data/dataset.hpp"
#include "edgefl/train/memory_plan.hpp"
#include "edgefl/proto/messages.hpp"
#include "edgefl/base/status.hpp"
#include "training_workspaces.hpp"

namespace edgefl::device {

// The memory plan for training `task` on `data` within `budget` bytes (0: what the system has
// available). resource_exhausted, naming the bytes needed, when not even one sample fits.
// trainable_parameters: the task's trainable count when it freezes layers (0: all).
// data_bytes: what the local samples occupy (DatasetView::memory_bytes); cache_bytes: a frozen
// prefix's cached features (feature_cache.hpp), planned as more data.
Result<MemoryPlan> plan_device_memory(const ModelSpec& spec, Backend backend,
                                      const TaskConfig& task, std::size_t receive_bytes,
                                      uint64_t data_bytes, uint64_t budget, uint64_t process_bytes,
                                      std::size_t trainable_parameters = 0,
                                      std::size_t cache_bytes = 0);

struct TrainingResult {
  uint64_t task_id = 0;
  Status status;                        // why no update was made
  std::vector<uint8_t> update_message;  // the encoded Update
  double train_loss = 0;
  double seconds = 0;  // compute time
};

// Set once, when the worker shuts down; waits inside training end early on it.
class StopSignal {
 public:
  void request();
  bool requested() const;
  // Waits up to `duration`; false when a stop was requested first.
  bool wait_for(std::chrono::duration<double> duration);

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
};

class TaskTrainer {
 public:
  virtual ~TaskTrainer() = default;
  virtual TrainingResult train(uint64_t task_id, std::vector<uint8_t> task_message,
                               StopSignal& stop) = 0;
};

struct LocalTrainingOptions {
  const Dataset* data = nullptr;  // the device's shard; outlives the trainer
  // Its rows of `data` when several devices share one dataset (empty: every row); outlives
  // the trainer too.
  std::span<const uint32_t> rows;
  uint64_t memory_budget = 0;     // bytes training may use (0: no limit)
  uint32_t threads = 1;
  Backend backend = Backend::xnnpack;
  DirectIsa direct_isa = DirectIsa::best;  // the widest kernel of the direct backend
  uint64_t device_seed = 0;         // mixed into every task seed so devices shuffle differently
  uint64_t process_bytes = 0;       // resident size before training state (for the memory plan)
  double slowdown = 1.0;  // simulate.slowdown: every step takes this many times its compute
  double deadline_reserve = 0.25;  // share of a Task's deadline_ms left when local steps stop
  // Borrow the trainer and parameter buffers for each task instead of keeping them (the
  // simulator's pool lends them); nullptr: this device keeps its own.
  TrainingWorkspaces* workspaces = nullptr;
};

class LocalTaskTrainer final : public TaskTrainer {
 public:
  // invalid_argument without local data.
  static Result<std::unique_ptr<LocalTaskTrainer>> create(const LocalTrainingOptions& options);
  ~LocalTaskTrainer() override;
  TrainingResult train(uint64_t task_id, std::vector<uint8_t> task_message,
                       StopSignal& stop) override;

 private:
  explicit LocalTaskTrainer(const LocalTrainingOptions& options);
  DatasetView local_data() const;
  struct State;  // trainer, buffers, encoder: created on the training thread
  LocalTrainingOptions options_;
  std::unique_ptr<State> state_;
};

}  // namespace edgefl::device
