// DeviceRegistry: the devices the server knows, where to reach them, and when it last heard
// from them. Devices are keyed by their id (the CURVE public key when keys are on); the
// routing id changes on every reconnect, so it is refreshed on every message.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgefl/proto/messages.hpp"
#include "edgefl/base/rng.hpp"

namespace edgefl::server {

using Clock = std::chrono::steady_clock;

// What a device did in this run, kept with its registry record.
struct DeviceActivity {
  uint64_t updates_accepted = 0;  // rounds (or versions) it contributed to
  double last_loss = -1;          // train loss of its last accepted update; < 0: none yet
  uint32_t last_batch = 0;        // local batch size of that update
  std::map<std::string, uint64_t> refusals;  // reason -> updates refused
};

struct DeviceRecord {
  std::string id;
  std::string peer;             // current ZeroMQ routing id
  Capabilities capabilities;
  uint64_t boot_counter = 0;
  std::string peer_endpoint;    // 1.6: its peer socket (decentralised training); empty: none
  Clock::time_point last_seen;
  uint64_t busy_task = 0;       // task the device is working on (0: idle)
  Clock::time_point task_sent_at;  // when busy_task was last sent (resends are spaced)
  // From its last heartbeat (protocol 1.6; a 1.5 device always says 0: eligible).
  uint32_t ineligible = 0;         // kIneligible* bits: why it must not train now
  bool eligibility_known = true;   // false from a 1.6 Join until its first heartbeat
  uint64_t reported_task = 0;      // the task it said it works on (0: idle)
  DeviceActivity activity;         // shown by the status endpoint
};

class DeviceRegistry {
 public:
  // Adds or refreshes a device after a Join.
  DeviceRecord& join(const std::string& id, const std::string& peer, const Join& join,
                     Clock::time_point now);
  // Refreshes the routing id and liveness of a known device; nullptr if unknown.
  DeviceRecord* touch(const std::string& id, const std::string& peer, Clock::time_point now);
  void touch(DeviceRecord& record, const std::string& peer, Clock::time_point now);
  DeviceRecord* find(const std::string& id);
  // The device whose current routing id is `peer` (plaintext links name no identity): one
  // hash lookup, no allocation, whatever the number of devices.
  DeviceRecord* find_by_peer(const std::string& peer);
  void forget(const std::string& id);

  // Forgets the device heard from longest ago, if that was before `cutoff`; false if none.
  bool evict_oldest(Clock::time_point cutoff);
  // Ids of devices heard from within `liveness`, in id order (deterministic).
  std::vector<std::string> live_ids(Clock::time_point now, Clock::duration liveness) const;
  // How many of them, without building the list (asked on every poll while waiting).
  std::size_t live_count(Clock::time_point now, Clock::duration liveness) const;
  // Those of them known to be eligible (a heartbeat said so, or they never report): the
  // candidates for work.
  std::vector<std::string> eligible_ids(Clock::time_point now, Clock::duration liveness) const;
  // How many of them, without building the list (asked on every poll while waiting).
  std::size_t eligible_count(Clock::time_point now, Clock::duration liveness) const;
  std::size_t size() const { return devices_.size(); }
  const std::map<std::string, DeviceRecord>& records() const { return devices_; }

 private:
  void set_peer(DeviceRecord& record, const std::string& peer);
  static bool eligible(const DeviceRecord& record, Clock::time_point now, Clock::duration liveness);

  std::map<std::string, DeviceRecord> devices_;
  // Routing id -> record; std::map nodes never move, so the pointers stay valid until forget().
  std::unordered_map<std::string, DeviceRecord*> by_peer_;
};

// Picks max(min_count, ceil(fraction * n)) of `candidates` (all if fewer), uniformly without
// replacement, in a way that depends only on the candidates and `rng`.
std::vector<std::string> select_devices(const std::vector<std::string>& candidates, float fraction,
                                        std::size_t min_count, Rng& rng);

}  // namespace edgefl::server
