#include "serve_loop.hpp"

#include <string>

namespace edgefl::server {

namespace {

// Publishes the coordinator's snapshot on a timer, and whenever a round has closed or opened
// since (rounds shorter than the interval would otherwise always be seen between rounds).
class SnapshotTimer {
 public:
  SnapshotTimer(SnapshotBoard* board, std::chrono::milliseconds interval) : board_(board), interval_(interval) {}

  void tick(const Coordinator& coordinator, bool force = false) {
    if (board_ == nullptr) return;
    const auto at = std::chrono::steady_clock::now();
    // No deadline is min(): a plain time point, which GCC 12 does not misread as uninitialised.
    const Clock::time_point deadline = coordinator.round_deadline().value_or(Clock::time_point::min());
    const bool changed = coordinator.rounds_closed() != rounds_ || deadline != deadline_;
    if (!force && !changed && at - published_at_ < interval_) return;
    board_->publish(coordinator.snapshot());
    published_at_ = at;
    rounds_ = coordinator.rounds_closed();
    deadline_ = deadline;
  }

 private:
  SnapshotBoard* board_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point published_at_{};
  uint64_t rounds_ = 0;
  Clock::time_point deadline_ = Clock::time_point::min();
};

}  // namespace

Status serve(Coordinator& coordinator, ServerChannel& channel, const ServeOptions& options) {
  std::unique_lock<std::mutex> lock;
  if (options.poll_lock != nullptr) lock = std::unique_lock<std::mutex>(*options.poll_lock, std::defer_lock);
  SnapshotTimer snapshots(options.snapshots, options.snapshot_interval);
  bool farewell = false;
  for (;;) {
    if (options.stop && options.stop()) return Status();
    if (options.deadline && std::chrono::steady_clock::now() >= *options.deadline) {
      return make_status(StatusCode::timeout, "the run did not finish in time (" +
                                                  std::to_string(coordinator.rounds_closed()) + " done)");
    }
    if (lock.mutex() != nullptr) lock.lock();
    if (coordinator.finished()) {
      if (!farewell) {
        snapshots.tick(coordinator, true);
        coordinator.say_goodbye(channel);
        farewell = true;
      }
      if (coordinator.farewell_over()) return Status();
    }
    Status polled = coordinator.poll(channel, options.poll_wait);
    if (polled.ok()) snapshots.tick(coordinator);
    if (lock.mutex() != nullptr) lock.unlock();
    if (!polled.ok()) return polled;
  }
}

}  // namespace edgefl::server
