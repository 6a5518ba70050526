// sleep_unless_stopped: a real-time wait that a stop request cuts short (checked every 20 ms).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace edgefl::device {

// False when `stop` was set before `duration` passed.
inline bool sleep_unless_stopped(std::chrono::steady_clock::duration duration,
                                 const std::atomic<bool>& stop) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point until = Clock::now() + duration;
  while (Clock::now() < until) {
    if (stop.load()) return false;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
  }
  return !stop.load();
}

}  // namespace edgefl::device
