// SimulatedOutages: simulate.offline_probability / offline_s as a decorator of the device's
// links, for experiments with devices that drop off the network.
//
//   SimulatedOutages outages(options, outbox_ids, log);
//   ChannelFactory links = outages.wrap(connect, stop);   // what the session connects with
//
// Each time an update leaves the device for the first time (a resend is not a new update),
// the link draws from a generator seeded with (seed, stream + n) on the device's n-th link;
// below `probability` the link goes down: sends fail, and the next receive waits out the
// outage (cut short by `stop`) and then fails with `unavailable`, so the session drops the
// link and reconnects. The same seed gives the same outages run after run. go_offline() takes
// the link down the same way at once (a decentralised device draws its outages per step).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "upstream_session.hpp"

namespace edgefl::device {

struct OutageOptions {
  float probability = 0;                  // chance to go offline after an update leaves
  double offline_s = 0;                   // how long an outage lasts (for the log line)
  std::chrono::milliseconds duration{0};  // offline_s with the time scale applied
  uint64_t seed = 0;                      // simulate.seed
  uint64_t stream = 0;                    // per device; the link number is added
  std::string device_id;                  // for the log line
};

class SimulatedOutages {
 public:
  // `sent_before`: outbox ids (UpstreamSession::outbox_id) of updates that already left in an
  // earlier run; sending them again is a resend.
  SimulatedOutages(OutageOptions options, std::vector<std::string> sent_before, LogSink log);

  // `connect` with every link it opens wrapped; the result must not outlive this object.
  ChannelFactory wrap(ChannelFactory connect, const std::atomic<bool>& stop);
  // Outages so far.
  uint64_t periods() const { return periods_.load(); }
  // Takes the current link (or the next one) down now, for `duration`. Any thread.
  void go_offline() { offline_requested_.store(true); }

 private:
  class Link;
  // Whether the Update in `message` leaves for the first time (and remembers it).
  bool first_send(ByteView message);
  void went_offline();

  OutageOptions options_;
  std::set<std::string> sent_;
  LogSink log_;
  uint64_t links_ = 0;
  std::atomic<uint64_t> periods_{0};
  std::atomic<bool> offline_requested_{false};
};

}  // namespace edgefl::device
