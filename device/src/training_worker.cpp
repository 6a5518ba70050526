#include "training_worker.hpp"

namespace edgefl::device {

Result<std::unique_ptr<TrainingWorker>> TrainingWorker::create(
    std::unique_ptr<TaskTrainer> trainer) {
  if (trainer == nullptr)
    return make_status(StatusCode::invalid_argument, "training worker: no trainer");
  std::unique_ptr<TrainingWorker> worker(new TrainingWorker(std::move(trainer)));
  worker->thread_ = std::thread([w = worker.get()] { w->run(); });
  return worker;
}

TrainingWorker::~TrainingWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_.request();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status TrainingWorker::submit(uint64_t task_id, std::vector<uint8_t> task_message) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (job_ || working_on_.load() != 0) {
    return make_status(StatusCode::failed_precondition, "training worker is busy");
  }
  working_on_.store(task_id);
  job_.emplace(task_id, std::move(task_message));
  wake_.notify_all();
  return Status();
}

std::optional<TrainingResult> TrainingWorker::take_result() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<TrainingResult> result = std::move(result_);
  result_.reset();
  if (result) working_on_.store(0);
  return result;
}

void TrainingWorker::run() {
  while (true) {
    std::pair<uint64_t, std::vector<uint8_t>> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || job_.has_value(); });
      if (stopping_) return;
      job = std::move(*job_);
      job_.reset();
    }
    TrainingResult result = trainer_->train(job.first, std::move(job.second), stop_);
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    result_ = std::move(result);  // working_on_ stays set until the agent takes the result
  }
}

}  // namespace edgefl::device
