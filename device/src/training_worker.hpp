// TrainingWorker: runs a device's local training on its own thread, so the agent's thread
// keeps answering heartbeats and acks while a task trains (minutes on a slow board).
//
//   auto worker = TrainingWorker::create(std::move(trainer));    // a TaskTrainer
//   (task_trainer.hpp) worker->submit(task_id, std::move(task_message_bytes));      // an encoded
//   Task
//   ... later, from the agent loop:
//   if (auto done = worker->take_result()) send(done->update_message);
//
// The trainer is called only on the worker thread, so thread-bound state it builds stays there.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "edgefl/base/status.hpp"
#include "task_trainer.hpp"

namespace edgefl::device {

class TrainingWorker {
 public:
  static Result<std::unique_ptr<TrainingWorker>> create(std::unique_ptr<TaskTrainer> trainer);
  ~TrainingWorker();

  // Starts training `task_message` (an encoded Task). failed_precondition while busy.
  Status submit(uint64_t task_id, std::vector<uint8_t> task_message);
  // The task being trained, until its result is taken (0 when idle).
  uint64_t working_on() const { return working_on_.load(); }
  std::optional<TrainingResult> take_result();

 private:
  explicit TrainingWorker(std::unique_ptr<TaskTrainer> trainer) : trainer_(std::move(trainer)) {}
  void run();

  std::unique_ptr<TaskTrainer> trainer_;
  StopSignal stop_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<std::pair<uint64_t, std::vector<uint8_t>>> job_;
  std::optional<TrainingResult> result_;
  std::atomic<uint64_t> working_on_{0};
  std::thread thread_;
};

}  // namespace edgefl::device
