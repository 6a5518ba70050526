// Runs of real edgefl-server processes for the relay tests: a flat run (one server, N
// in-process devices) and a tiered one (an upstream server, relays — edgefl-server
// --upstream — each with its slice of the same N devices), optionally SIGKILLing a relay or the
// upstream at seeded points and resuming it on the same port. Same seeds, same devices: the
// final models must match bit for bit.
//
//   RelayRun flat = run_flat(6);
//   RelayRun tiered = run_tiered({.relays = 2});
//   CHECK(same_bytes(flat.params, tiered.params));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "json_lines.hpp"

namespace edgefl::testing {

enum class Victim { none, relay, upstream };

struct TierPlan {
  uint32_t relays = 2;
  uint32_t devices_per_relay = 3;
  uint32_t rounds = 3;
  Victim victim = Victim::none;  // SIGKILLed `kills` times (the relay: the first one)
  uint32_t kills = 0;
  uint64_t seed = 1;       // where the kills land
  bool staggered = false;  // devices answer tens of ms apart (always with a victim)
};

struct RelayRun {
  std::vector<float> params;                 // the upstream's final model
  std::vector<JsonFields> upstream_metrics;  // one line per round
  std::vector<std::vector<JsonFields>> relay_metrics;
  uint32_t kills = 0;
};

RelayRun run_flat(uint32_t devices, uint32_t rounds);
RelayRun run_tiered(const TierPlan& plan);

// The upstream server's flags for a run of `rounds` rounds that waits for `min_devices`.
std::vector<std::string> upstream_server_args(uint32_t rounds, uint32_t min_devices,
                                              const std::string& endpoint,
                                              const std::string& state_dir, bool resume);

// A relay's flags: `id` upstream, waiting for `devices` of its own.
std::vector<std::string> relay_server_args(const std::string& upstream, const std::string& id,
                                           uint32_t devices, const std::string& endpoint,
                                           const std::string& state_dir, bool resume);

}  // namespace edgefl::testing
