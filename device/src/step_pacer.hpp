// StepPacer: what a device asks between local steps (TrainConfig::keep_going). A slowed board
// (simulate.slowdown) waits out (slowdown - 1) times each step's compute time there, and a
// Task's deadline ends local training there: the device then sends the steps it has done.
//
//   StepPacer pacer(slowdown, stop_at, stop);
//   config.keep_going = [&] { return pacer.keep_going(); };
//   trainer.train(...);
//   pacer.finish();            // the last step's slowdown, cut short at the deadline
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

#include "task_trainer.hpp"

namespace edgefl::device {

class StepPacer {
 public:
  using Clock = std::chrono::steady_clock;

  // stop_at: when local steps must end (none: no deadline); `stop` cuts every wait short.
  StepPacer(double slowdown, std::optional<Clock::time_point> stop_at, StopSignal& stop)
      : slowdown_(slowdown), stop_at_(stop_at), stop_(&stop), mark_(Clock::now()) {}

  // After a step: its slowdown wait, then whether another step may start.
  bool keep_going() {
    pace();
    return !stop_->requested() && (!stop_at_ || Clock::now() < *stop_at_);
  }
  void finish() { pace(); }
  // Time spent in waits, not computing.
  Clock::duration waited() const { return waited_; }

 private:
  void pace() {
    const Clock::time_point now = Clock::now();
    if (slowdown_ > 1.0) {
      Clock::time_point until =
          now + std::chrono::duration_cast<Clock::duration>((now - mark_) * (slowdown_ - 1.0));
      if (stop_at_) until = std::min(until, *stop_at_);
      if (until > now) (void)stop_->wait_for(until - now);
    }
    const Clock::time_point after = Clock::now();
    waited_ += after - now;
    mark_ = after;
  }

  double slowdown_;
  std::optional<Clock::time_point> stop_at_;
  StopSignal* stop_;
  Clock::time_point mark_;  // the end of the last wait: the next step's compute starts here
  Clock::duration waited_{};
};

}  // namespace edgefl::device
