// TrainingPool: a few threads that train for many agents in one process (the simulator), in
// place of one training thread per agent. Jobs run in the order they were posted.
//
//   TrainingPool pool(2);                                  // typically one per core
//   auto worker = TrainingWorker::create(std::move(trainer), &pool);
//
// A trainer may run on any of the pool's threads, one task at a time: the XNNPACK state it
// builds is not tied to a thread (operators live within each call, in a per-network arena).
// The pool also lends training workspaces (training_workspaces.hpp): as many tasks train at
// once as it has threads, so that many workspaces serve all of its agents; and the Tasks that
// wait for a thread are held once when they are the same bytes (shared_messages.hpp).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "shared_messages.hpp"
#include "training_workspaces.hpp"

namespace edgefl::device {

class TrainingPool {
 public:
  explicit TrainingPool(std::size_t threads);
  // Jobs not started yet are dropped; running ones are waited for.
  ~TrainingPool();
  TrainingPool(const TrainingPool&) = delete;
  TrainingPool& operator=(const TrainingPool&) = delete;

  void post(std::function<void()> job);
  std::size_t threads() const { return threads_.size(); }
  TrainingWorkspaces& workspaces() { return workspaces_; }
  SharedMessages& messages() { return messages_; }

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  TrainingWorkspaces workspaces_;  // before the threads: they may use these until joined
  SharedMessages messages_;
  std::vector<std::thread> threads_;
};

}  // namespace edgefl::device
