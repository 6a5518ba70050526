// TrainingWorker: runs a device's local training on its own thread, so the agent's thread
// keeps answering heartbeats and acks while a task trains (minutes on a slow board).
//
//   auto worker = TrainingWorker::create(options);
//   worker->submit(std::move(task_message_bytes));   // an encoded Task, decoded on the worker
//   ... later, from the agent loop:
//   if (auto done = worker->take_result()) send(done->update_message);
//
// The worker owns everything training needs (compute context, trainer, buffers, the update
// encoder with its error-feedback residual) and builds it on its own thread when the first
// task for a model arrives, so thread-bound XNNPACK state never crosses threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "edgefl/compute.hpp"
#include "edgefl/dataset.hpp"
#include "edgefl/memory_plan.hpp"
#include "edgefl/messages.hpp"
#include "edgefl/status.hpp"

namespace edgefl::device {

// The memory plan for training `task` on `data` within `budget` bytes (0: what the system has
// available). resource_exhausted, naming the bytes needed, when not even one sample fits.
Result<MemoryPlan> plan_device_memory(const ModelSpec& spec, Backend backend, const TaskConfig& task,
                                      std::size_t receive_bytes, const Dataset& data, uint64_t budget,
                                      uint64_t process_bytes);

struct WorkerOptions {
  const Dataset* data = nullptr;   // the device's shard; outlives the worker
  uint64_t memory_budget = 0;      // bytes training may use (0: no limit)
  uint32_t threads = 1;
  Backend backend = Backend::xnnpack;
  std::string direct_isa = "best"; // parse_direct_isa: the widest kernel of the direct backend
  uint64_t device_seed = 0;        // mixed into every task seed so devices shuffle differently
  double slowdown = 1.0;           // simulated slow board: total time = slowdown x compute time
  uint64_t process_bytes = 0;      // resident size before training state (for the memory plan)
};

struct TrainingResult {
  uint64_t task_id = 0;
  Status status;                     // why no update was made
  std::vector<uint8_t> update_message;  // the encoded Update
  double train_loss = 0;
  double seconds = 0;
};

class TrainingWorker {
 public:
  static Result<std::unique_ptr<TrainingWorker>> create(const WorkerOptions& options);
  ~TrainingWorker();

  // Starts training `task_message` (an encoded Task). failed_precondition while busy.
  Status submit(uint64_t task_id, std::vector<uint8_t> task_message);
  // The task being trained, until its result is taken (0 when idle).
  uint64_t working_on() const { return working_on_.load(); }
  std::optional<TrainingResult> take_result();

 private:
  explicit TrainingWorker(const WorkerOptions& options);
  void run();
  TrainingResult train(uint64_t task_id, std::vector<uint8_t> message);

  struct State;  // trainer, buffers, encoder: created on the worker thread
  WorkerOptions options_;
  std::unique_ptr<State> state_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::optional<std::pair<uint64_t, std::vector<uint8_t>>> job_;
  std::optional<TrainingResult> result_;
  std::atomic<uint64_t> working_on_{0};
  std::thread thread_;
};

}  // namespace edgefl::device
