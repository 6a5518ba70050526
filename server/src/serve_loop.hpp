// serve: the one loop that drives a Coordinator — used by edgefl-server, the simulation and
// the benches.
//
//   ServeOptions options;
//   options.stop = [&] { return stop_requested.load(); };     // a signal, a test's condition
//   options.deadline = steady_clock::now() + 5min;             // optional
//   Status end = serve(*coordinator, channel, options);
//
// Returns OK when the run finished (every known device was then told Bye, and confirmed it or
// the coordinator's farewell_s passed; resent updates are acknowledged meanwhile) or when `stop` said
// so (no Bye: the devices keep their state for a resumed server); timeout when the deadline
// passed first; the coordinator's error otherwise (state is safe: resume).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include "coordinator.hpp"
#include "fleet_snapshot.hpp"

namespace edgefl::server {

struct ServeOptions {
  std::chrono::milliseconds poll_wait{20};     // longest wait for one message
  std::optional<SteadyTime> deadline = {};     // give up (timeout) after this
  std::function<bool()> stop = {};             // checked before every poll
  std::mutex* poll_lock = nullptr;             // held around each poll (for inspecting threads)
  // When set, the coordinator's snapshot is published here every snapshot_interval and as soon
  // as a round closes (the status endpoint reads it; polls never wait on it).
  SnapshotBoard* snapshots = nullptr;
  std::chrono::milliseconds snapshot_interval{250};
};

Status serve(Coordinator& coordinator, ServerChannel& channel, const ServeOptions& options);

}  // namespace edgefl::server
