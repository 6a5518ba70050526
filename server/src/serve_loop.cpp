#include "serve_loop.hpp"

#include <string>

namespace edgefl::server {

Status serve(Coordinator& coordinator, ServerChannel& channel, const ServeOptions& options) {
  std::unique_lock<std::mutex> lock;
  if (options.poll_lock != nullptr) lock = std::unique_lock<std::mutex>(*options.poll_lock, std::defer_lock);
  for (;;) {
    if (options.stop && options.stop()) return Status();
    if (options.deadline && std::chrono::steady_clock::now() >= *options.deadline) {
      return make_status(StatusCode::timeout, "the run did not finish in time (" +
                                                  std::to_string(coordinator.rounds_closed()) + " done)");
    }
    if (lock.mutex() != nullptr) lock.lock();
    if (coordinator.finished()) {
      coordinator.say_goodbye(channel);
      return Status();
    }
    Status polled = coordinator.poll(channel, options.poll_wait);
    if (lock.mutex() != nullptr) lock.unlock();
    if (!polled.ok()) return polled;
  }
}

}  // namespace edgefl::server
