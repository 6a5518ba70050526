// RelayUplink: a relay's side of its upstream link — the UpstreamClient its UpstreamSession
// (device/src/upstream_session.hpp: join, outbox, resend, reconnect) serves on a thread of its
// own, and the mailbox between that thread and the relay's coordinator, which polls on another.
//
//   uplink thread:       session.run(connect, uplink, stop)
//   coordinator thread:  if (auto task = uplink.take_task()) ...open the round...
//                        outbox.put(id, partial_sum_update); checkpoint; uplink.release(id);
//
// The coordinator stores its update in the outbox itself (durable before its round's
// checkpoint); release() only asks the uplink thread to send it now (the session would also
// resend it on its timer and after every rejoin).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "edgefl/store/outbox.hpp"
#include "upstream_session.hpp"

namespace edgefl::server {

// An upstream Task as the relay forwards it: verbatim bytes, and what the relay reads from it.
struct UpstreamTask {
  Task task;                   // decoded; its params view is not kept (points into bytes)
  std::vector<uint8_t> bytes;  // the Task message as the upstream sent it
  std::chrono::steady_clock::time_point received_at;
};

class RelayUplink final : public device::UpstreamClient {
 public:
  explicit RelayUplink(Outbox& outbox) : outbox_(&outbox) {}
  Outbox& outbox() { return *outbox_; }

  // ---- The coordinator's thread ----
  // The newest upstream Task not taken yet.
  std::optional<UpstreamTask> take_task();
  // Sends the outbox entry of `update_id` on the uplink's next turn.
  void release(uint64_t update_id);
  // The upstream task the relay's open round serves (0: none), for heartbeats.
  void set_working_on(uint64_t task_id) { working_on_.store(task_id); }
  // The upstream ended the run (Bye finished), or the uplink gave up (ended() then says why).
  bool ended() const { return ended_.load(); }
  void end(Status why);
  Status end_status() const;

  // ---- UpstreamClient (the uplink's thread) ----
  Status turn(device::UpstreamSession& session) override;
  void on_task(const Task& task, Bytes message) override;
  uint64_t working_on() const override { return working_on_.load(); }
  bool finishing() const override { return false; }

 private:
  Outbox* outbox_;
  mutable std::mutex mutex_;
  std::optional<UpstreamTask> task_;
  std::vector<uint64_t> released_;
  Status end_status_;
  std::atomic<uint64_t> working_on_{0};
  std::atomic<bool> ended_{false};
};

}  // namespace edgefl::server
