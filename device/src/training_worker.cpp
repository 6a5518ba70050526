#include "training_worker.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace edgefl::device {

struct TrainingWorker::Core {
  std::unique_ptr<TaskTrainer> trainer;
  StopSignal stop;

  std::mutex mutex;
  std::condition_variable wake;  // a job arrived, the worker stops, or a job ended
  bool stopping = false;
  bool running = false;
  struct Job {
    uint64_t task_id = 0;
    std::vector<uint8_t> message;                        // on a thread of its own
    std::shared_ptr<const std::vector<uint8_t>> shared;  // on a pool: held once per distinct Task
  };
  std::optional<Job> job;
  std::optional<TrainingResult> result;
  std::atomic<uint64_t> working_on{0};
};

Result<std::unique_ptr<TrainingWorker>> TrainingWorker::create(std::unique_ptr<TaskTrainer> trainer,
                                                               TrainingPool* pool) {
  if (trainer == nullptr)
    return make_status(StatusCode::invalid_argument, "training worker: no trainer");
  auto core = std::make_shared<Core>();
  core->trainer = std::move(trainer);
  std::unique_ptr<TrainingWorker> worker(new TrainingWorker(core, pool));
  if (pool == nullptr) worker->thread_ = std::thread([core] { run_thread(*core); });
  return worker;
}

TrainingWorker::~TrainingWorker() {
  Core& core = *core_;
  {
    std::unique_lock<std::mutex> lock(core.mutex);
    core.stopping = true;
    core.job.reset();  // a pool job not started yet finds nothing to do
  }
  core.stop.request();
  core.wake.notify_all();
  if (thread_.joinable()) thread_.join();
  std::unique_lock<std::mutex> lock(core.mutex);
  core.wake.wait(lock, [&core] { return !core.running; });
  // The trainer refers to the agent's data: it goes with the worker, not with a late job.
  core.trainer.reset();
}

Status TrainingWorker::submit(uint64_t task_id, std::vector<uint8_t> task_message) {
  Core& core = *core_;
  {
    std::lock_guard<std::mutex> lock(core.mutex);
    if (core.job || core.working_on.load() != 0) {
      return make_status(StatusCode::failed_precondition, "training worker is busy");
    }
    core.working_on.store(task_id);
    Core::Job job{task_id, {}, nullptr};
    if (pool_ != nullptr) {
      job.shared = pool_->messages().share(std::move(task_message));
    } else {
      job.message = std::move(task_message);
    }
    core.job.emplace(std::move(job));
  }
  if (pool_ != nullptr) {
    pool_->post([core = core_] { (void)run_job(*core); });
  } else {
    core.wake.notify_all();
  }
  return Status();
}

uint64_t TrainingWorker::working_on() const {
  return core_->working_on.load();
}

std::optional<TrainingResult> TrainingWorker::take_result() {
  Core& core = *core_;
  std::lock_guard<std::mutex> lock(core.mutex);
  std::optional<TrainingResult> result = std::move(core.result);
  core.result.reset();
  if (result) core.working_on.store(0);
  return result;
}

void TrainingWorker::run_thread(Core& core) {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(core.mutex);
      core.wake.wait(lock, [&core] { return core.stopping || core.job.has_value(); });
    }
    if (!run_job(core)) return;
  }
}

bool TrainingWorker::run_job(Core& core) {
  Core::Job job;
  {
    std::lock_guard<std::mutex> lock(core.mutex);
    if (core.stopping) return false;
    if (!core.job) return true;
    job = std::move(*core.job);
    core.job.reset();
    core.running = true;
  }
  // A shared Task is copied for the trainer, which consumes its message; the copy lives only
  // while this one task trains.
  if (job.shared) {
    job.message.assign(job.shared->begin(), job.shared->end());
    job.shared.reset();
  }
  TrainingResult result = core.trainer->train(job.task_id, std::move(job.message), core.stop);
  {
    std::lock_guard<std::mutex> lock(core.mutex);
    core.running = false;
    // working_on stays set until the agent takes the result
    if (!core.stopping) core.result = std::move(result);
  }
  core.wake.notify_all();
  return true;
}

}  // namespace edgefl::device
