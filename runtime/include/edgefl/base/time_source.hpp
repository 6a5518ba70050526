// TimeSource: where protocol-state code reads the time, so tests can drive it.
//
//   edgefl::TimeSource& clock = edgefl::steady_time_source();   // the real monotonic clock
//   auto now = clock.now();
//
//   edgefl::ManualTimeSource fake;                               // tests: time moves only
//   fake.advance(std::chrono::milliseconds(250));                // when they say so
//
// The coordinator and the device session take a TimeSource&; in-memory channels advance a
// ManualTimeSource by the time a receive() would have waited, so a whole round runs in
// microseconds without a sleep.
#pragma once

#include <atomic>
#include <chrono>

namespace edgefl {

using SteadyTime = std::chrono::steady_clock::time_point;

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual SteadyTime now() const = 0;
};

// std::chrono::steady_clock. Stateless; safe to share between threads.
TimeSource& steady_time_source();

// A clock that stands still until advanced. Starts at an arbitrary fixed point.
class ManualTimeSource final : public TimeSource {
 public:
  SteadyTime now() const override { return SteadyTime(std::chrono::nanoseconds(nanos_.load())); }
  void advance(std::chrono::nanoseconds by) { nanos_ += by.count(); }

 private:
  std::atomic<std::chrono::nanoseconds::rep> nanos_{std::chrono::hours(1).count() * 1000 * 1000 * 1000};
};

}  // namespace edgefl
