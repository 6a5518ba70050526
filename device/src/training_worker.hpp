// TrainingWorker: runs a device's local training off the agent's thread, so the agent keeps
// answering heartbeats and acks while a task trains (minutes on a slow board): on a thread
// of its own, or on a TrainingPool shared by many agents in one process (the simulator).
//
//   auto worker = TrainingWorker::create(std::move(trainer));          // a TaskTrainer
//   auto worker = TrainingWorker::create(std::move(trainer), &pool);   // training_pool.hpp
//   worker->submit(task_id, std::move(task_message_bytes));            // an encoded Task
//   ... later, from the agent loop:
//   if (auto done = worker->take_result()) send(done->update_message);
//
// The trainer runs one task at a time. Destroying the worker stops a running task, waits for
// it, and cancels one still queued on the pool.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "edgefl/base/status.hpp"
#include "task_trainer.hpp"
#include "training_pool.hpp"

namespace edgefl::device {

class TrainingWorker {
 public:
  // pool: nullptr gives the worker a thread of its own; else the pool outlives the worker.
  static Result<std::unique_ptr<TrainingWorker>> create(std::unique_ptr<TaskTrainer> trainer,
                                                        TrainingPool* pool = nullptr);
  ~TrainingWorker();

  // Starts training `task_message` (an encoded Task). failed_precondition while busy.
  Status submit(uint64_t task_id, std::vector<uint8_t> task_message);
  // The task being trained, until its result is taken (0 when idle).
  uint64_t working_on() const;
  std::optional<TrainingResult> take_result();

 private:
  struct Core;  // shared with a queued pool job, which may outlive the worker
  TrainingWorker(std::shared_ptr<Core> core, TrainingPool* pool)
      : core_(std::move(core)), pool_(pool) {}
  static void run_thread(Core& core);
  // Trains the pending job, if any and not cancelled; false once the worker is stopping.
  static bool run_job(Core& core);

  std::shared_ptr<Core> core_;
  TrainingPool* pool_;
  std::thread thread_;  // without a pool
};

}  // namespace edgefl::device
