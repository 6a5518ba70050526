#include <doctest/doctest.h>

#include "e2e_configs.hpp"
#include "relay_runs.hpp"

using namespace edgefl::testing;

TEST_CASE(
    "relay: 2 relays x 3 devices end at the flat run's model of the same 6 devices, bit for bit") {
  const RelayRun flat = run_flat(6, 3);
  const RelayRun tiered = run_tiered({.relays = 2, .devices_per_relay = 3, .rounds = 3});
  REQUIRE(flat.params.size() > 0);
  CHECK(same_bytes(tiered.params, flat.params));
  // Upstream, each round took one partial sum from each relay, holding all six devices' updates.
  REQUIRE(tiered.upstream_metrics.size() == 3);
  for (const JsonFields& line : tiered.upstream_metrics) {
    CHECK(json_int(line, "answered") == 2);
    CHECK(json_int(line, "device_updates") == 6);
    CHECK(json_int(line, "samples") == json_int(flat.upstream_metrics.front(), "samples"));
  }
  // Each relay ran the three rounds for its three devices.
  for (const auto& relay : tiered.relay_metrics) {
    REQUIRE(relay.size() == 3);
    for (const JsonFields& line : relay) CHECK(json_int(line, "answered") == 3);
  }
}
