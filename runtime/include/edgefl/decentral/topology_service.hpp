// TopologyService: the server side of decentralised training (docs/protocol.md §14.2). It
// places the devices that take part in a seeded topology with Metropolis-Hastings weights,
// and re-wires — a new epoch over the devices still there — when one has been silent longer
// than the offline limit, or when a new or returning device is waiting to be placed. It holds
// no models: the server never aggregates in this mode.
//
//   edgefl::TopologyService service(settings);
//   service.joined({"pi-1", "tcp://10.0.0.7:6000", key}, now);    // on Join
//   service.heard_from("pi-1", now);                                // any message
//   if (auto plan = service.rewire(now)) for (auto& [id, a] : plan->assignments) send(id, a);
//
// The graph of an epoch is built over the placed devices in the order they first joined, so
// the same joins and seed give the same graph; every graph build() returns is connected, and
// a device offline for less than the limit stays in the graph (its neighbours fold its weight).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgefl/base/status.hpp"
#include "edgefl/base/time_source.hpp"
#include "edgefl/decentral/topology.hpp"

namespace edgefl {

struct TopologySettings {
  TopologyKind kind = TopologyKind::ring;
  uint64_t seed = 0;
  std::size_t min_devices = 2;                     // no first graph before this many have joined
  std::chrono::milliseconds offline_limit{30000};  // silent longer: re-wired around
};

struct TopologyMember {
  std::string device_id;
  std::string endpoint;
  std::string public_key;  // Z85; empty without CURVE
};

// One device's place in an epoch: its own weight and its neighbours'.
struct MemberPlacement {
  double self_weight = 1.0;
  std::vector<std::pair<TopologyMember, double>> neighbours;
};

struct TopologyPlan {
  uint64_t epoch = 0;
  std::map<std::string, MemberPlacement> placements;  // by device id
};

class TopologyService {
 public:
  explicit TopologyService(const TopologySettings& settings) : settings_(settings) {}

  // A Join (or a re-join, possibly with a new endpoint or key): the device is live and
  // waits to be placed if it is not in the current graph or its address changed.
  void joined(const TopologyMember& member, SteadyTime now);
  void heard_from(const std::string& device_id, SteadyTime now);
  // A device that said Bye: re-wired around at the next rewire(), without waiting.
  void left(const std::string& device_id);

  // A new epoch when the graph must change (and enough devices are live), else nullopt.
  Result<std::optional<TopologyPlan>> rewire(SteadyTime now);
  const std::optional<TopologyPlan>& current() const { return current_; }
  // Devices in the current graph that have been silent longer than the limit.
  std::vector<std::string> offline(SteadyTime now) const;

 private:
  struct Record {
    TopologyMember member;
    SteadyTime last_seen{};
    uint64_t order = 0;  // of the first join
    bool gone = false;   // said Bye
  };
  bool live(const Record& r, SteadyTime now) const;

  TopologySettings settings_;
  std::map<std::string, Record> records_;
  uint64_t joins_ = 0;
  bool dirty_ = false;  // a join or a leave since the current epoch
  std::optional<TopologyPlan> current_;
};

}  // namespace edgefl
