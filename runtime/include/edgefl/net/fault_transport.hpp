// Fault-injecting decorators for tests: wrap any DeviceChannel or ServerChannel and, from a
// seeded generator, drop, duplicate, delay, reorder or truncate whole messages.
//
//   edgefl::FaultPlan plan{.seed = 7, .drop = 0.1, .duplicate = 0.05, .reorder = 0.05};
//   edgefl::FaultyDeviceChannel faulty(real_device, plan);   // real_device must outlive it
//   agent.run(faulty);                                        // the agent cannot tell
//   CHECK(faulty.stats().dropped > 0);
//
// Faults apply to sends, receives or both (plan.on_send / plan.on_receive). A delayed message is
// held for `delay_ops` later operations on that direction (a receive that times out counts), a
// reordered one is swapped with the next message. Same seed + same traffic = same faults.
//
// plan.link simulates a device's own link in both directions (FaultyDeviceChannel only): each
// message, after the faults, occupies the link for bytes / bytes_per_s, one after another, and
// comes out latency_s (+ a seeded jitter in [0, jitter_s)) later, never before the message
// ahead of it. Messages wait in the decorator and go out on its later calls (receive waits no
// longer than the next one is due), so the code using the channel keeps running meanwhile.
//
//   edgefl::FaultPlan plan{.seed = 3, .link = {.latency_s = 0.05, .bytes_per_s = 1e6}};
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/net/transport.hpp"

namespace edgefl {

struct LinkDelay {
  double latency_s = 0.0;    // per message
  double bytes_per_s = 0.0;  // 0: no bandwidth limit
  double jitter_s = 0.0;     // extra latency, uniform in [0, jitter_s), seeded
  bool active() const { return latency_s > 0.0 || bytes_per_s > 0.0 || jitter_s > 0.0; }
};

struct FaultPlan {
  uint64_t seed = 1;
  // Per-message probabilities, each in [0, 1], drawn independently.
  double drop = 0.0;
  double duplicate = 0.0;
  double delay = 0.0;
  double reorder = 0.0;
  double truncate = 0.0;  // cut to a uniformly drawn shorter length
  uint32_t delay_ops = 3;
  bool on_send = true;
  bool on_receive = false;
  LinkDelay link = {};  // FaultyDeviceChannel: both directions, whatever on_send / on_receive say
};

struct FaultStats {
  uint64_t passed = 0;  // messages that went through (each duplicate copy counts)
  uint64_t dropped = 0;
  uint64_t duplicated = 0;
  uint64_t delayed = 0;
  uint64_t reordered = 0;
  uint64_t truncated = 0;
};

// One direction of faults. Exposed so both decorators share it; tests may use it directly.
class FaultInjector {
 public:
  struct Item {
    std::string peer;      // server side: routing id; device side: empty
    std::string identity;  // server receive: authenticated identity
    Bytes payload;
  };

  explicit FaultInjector(const FaultPlan& plan, uint64_t stream);
  // Feeds one message; returns what is delivered now, in order (may be empty).
  std::vector<Item> feed(Item item);
  // One operation without a message (e.g. a receive that timed out): releases due delays.
  std::vector<Item> tick();
  const FaultStats& stats() const { return stats_; }

 private:
  struct Held {
    Item item;
    uint32_t remaining;
  };
  void release_due(std::vector<Item>& out);

  FaultPlan plan_;
  Rng rng_;
  FaultStats stats_;
  std::deque<Held> delayed_;
  std::optional<Item> reorder_slot_;
};

// One direction of a simulated link. Exposed so tests can drive it with their own clock.
class DelayLine {
 public:
  using Clock = std::chrono::steady_clock;
  DelayLine(const LinkDelay& link, uint64_t seed, uint64_t stream);
  // Queues a message that enters the link at `now`; returns when it comes out.
  Clock::time_point push(Bytes payload, Clock::time_point now);
  // The oldest message if it is out by `now`.
  std::optional<Bytes> pop_due(Clock::time_point now);
  std::optional<Clock::time_point> next_due() const;

 private:
  struct Queued {
    Clock::time_point due;
    Bytes payload;
  };
  LinkDelay link_;
  Rng rng_;
  Clock::time_point link_free_{};  // the end of the last transmission
  Clock::time_point last_due_{};
  std::deque<Queued> queue_;
};

class FaultyDeviceChannel final : public DeviceChannel {
 public:
  FaultyDeviceChannel(DeviceChannel& inner, const FaultPlan& plan);
  Status send(ByteView message) override;
  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override;
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override;
  FaultStats stats() const;  // sends and receives together

 private:
  // Receives through the receive faults, without the link.
  Result<std::optional<Bytes>> receive_faulty(std::chrono::milliseconds timeout);
  // Hands the link's due uploads to the inner channel.
  Status flush_uploads();
  // How long the inner channel may block: until `limit` or the link's next due message.
  std::chrono::milliseconds wait_until_due(DelayLine::Clock::time_point limit) const;

  DeviceChannel& inner_;
  FaultPlan plan_;
  FaultInjector send_faults_;
  FaultInjector receive_faults_;
  DelayLine uplink_;
  DelayLine downlink_;
  std::deque<Bytes> ready_;
};

class FaultyServerChannel final : public ServerChannel {
 public:
  FaultyServerChannel(ServerChannel& inner, const FaultPlan& plan);
  Status send(const std::string& peer, ByteView message) override;
  Result<std::optional<Inbound>> receive(std::chrono::milliseconds timeout) override;
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override;
  void charge(const std::string& peer, double messages) override { inner_.charge(peer, messages); }
  FaultStats stats() const;

 private:
  ServerChannel& inner_;
  FaultPlan plan_;
  FaultInjector send_faults_;
  FaultInjector receive_faults_;
  std::deque<Inbound> ready_;
};

}  // namespace edgefl
