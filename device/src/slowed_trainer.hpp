// SlowedTaskTrainer: a simulated slow board (simulate.slowdown). Each successful task takes
// `slowdown` times its compute time: the wrapped trainer's time, then a wait for the rest,
// cut short when the worker stops. The result reports the compute time.
//
//   trainer = std::make_unique<SlowedTaskTrainer>(std::move(trainer), 4.0);
#pragma once

#include <memory>

#include "task_trainer.hpp"

namespace edgefl::device {

class SlowedTaskTrainer final : public TaskTrainer {
 public:
  SlowedTaskTrainer(std::unique_ptr<TaskTrainer> inner, double slowdown)
      : inner_(std::move(inner)), slowdown_(slowdown) {}

  TrainingResult train(uint64_t task_id, std::vector<uint8_t> task_message,
                       StopSignal& stop) override {
    TrainingResult result = inner_->train(task_id, std::move(task_message), stop);
    if (result.status.ok() && slowdown_ > 1.0) {
      (void)stop.wait_for(std::chrono::duration<double>(result.seconds * (slowdown_ - 1.0)));
    }
    return result;
  }

 private:
  std::unique_ptr<TaskTrainer> inner_;
  double slowdown_;
};

}  // namespace edgefl::device
