#include <doctest/doctest.h>

#include <set>

#include "e2e_configs.hpp"
#include "relay_runs.hpp"

using namespace edgefl::testing;

namespace {

// Every upstream round closed once, with both relays' sums of all six devices.
void check_rounds(const RelayRun& run, uint32_t rounds) {
  std::set<int64_t> seen;
  for (const JsonFields& line : run.upstream_metrics) {
    auto round = json_int(line, "round");
    REQUIRE(round.has_value());
    CHECK(seen.insert(*round).second);
    CHECK(json_int(line, "answered") == 2);
    CHECK(json_int(line, "device_updates") == 6);
  }
  CHECK(seen.size() == rounds);
}

}  // namespace

TEST_CASE(
    "relay fault: a relay SIGKILLed at seeded points and resumed ends at the uninterrupted tiered "
    "model") {
  const RelayRun clean = run_tiered({.rounds = 4, .staggered = true});
  REQUIRE(clean.params.size() > 0);
  for (uint64_t seed : {21u, 22u}) {
    CAPTURE(seed);
    const RelayRun killed =
        run_tiered({.rounds = 4, .victim = Victim::relay, .kills = 3, .seed = seed});
    CHECK(killed.kills >= 2);
    check_rounds(killed, 4);
    CHECK(same_bytes(killed.params, clean.params));
  }
}

TEST_CASE(
    "relay fault: the upstream SIGKILLed at seeded points and resumed ends at the uninterrupted "
    "tiered model") {
  const RelayRun clean = run_tiered({.rounds = 4, .staggered = true});
  REQUIRE(clean.params.size() > 0);
  for (uint64_t seed : {31u, 32u}) {
    CAPTURE(seed);
    const RelayRun killed =
        run_tiered({.rounds = 4, .victim = Victim::upstream, .kills = 3, .seed = seed});
    CHECK(killed.kills >= 2);
    check_rounds(killed, 4);
    CHECK(same_bytes(killed.params, clean.params));
  }
}
