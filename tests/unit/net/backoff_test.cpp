#include <doctest/doctest.h>

#include <set>
#include <vector>

#include "edgefl/net/backoff.hpp"

using edgefl::Backoff;
using ms = std::chrono::milliseconds;

TEST_CASE("backoff: every delay is within [0, cap], the cap doubles up to max") {
  Backoff backoff(Backoff::Limits{ms(100), ms(3000)}, 7);
  std::vector<ms> caps;
  for (int i = 0; i < 12; ++i) {
    ms cap = backoff.current_cap();
    caps.push_back(cap);
    ms delay = backoff.next();
    CHECK(delay >= ms(0));
    CHECK(delay <= cap);
  }
  CHECK(caps[0] == ms(100));
  CHECK(caps[1] == ms(200));
  CHECK(caps[4] == ms(1600));
  CHECK(caps[5] == ms(3000));
  CHECK(caps[11] == ms(3000));
  CHECK(backoff.attempts() == 12);
  backoff.reset();
  CHECK(backoff.current_cap() == ms(100));
}

TEST_CASE("backoff: same seed gives the same delays, other seeds spread out") {
  auto delays = [](uint64_t seed) {
    Backoff b(Backoff::Limits{ms(1000), ms(60000)}, seed);
    std::vector<int64_t> out;
    for (int i = 0; i < 8; ++i) out.push_back(b.next().count());
    return out;
  };
  CHECK(delays(42) == delays(42));
  // A fleet restarting together: with full jitter, the devices' first retry times differ.
  std::set<int64_t> fleet_later_attempt;
  for (uint64_t device = 0; device < 20; ++device) fleet_later_attempt.insert(delays(device)[5]);
  CHECK(fleet_later_attempt.size() >= 15);
}

TEST_CASE("backoff: jitter covers the whole range") {
  Backoff b(Backoff::Limits{ms(1000), ms(1000)}, 3);
  int64_t low = 1000, high = 0;
  double sum = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    int64_t d = b.next().count();
    low = std::min(low, d);
    high = std::max(high, d);
    sum += static_cast<double>(d);
  }
  CHECK(low < 50);
  CHECK(high > 950);
  CHECK(sum / n == doctest::Approx(500).epsilon(0.05));
}

TEST_CASE("backoff: limits come from the socket policy, time_scale included") {
  edgefl::SocketPolicy policy;
  policy.time_scale = 2.0;
  Backoff b(policy, 1);
  CHECK(b.current_cap() == ms(2 * policy.backoff_initial_base_ms));
  for (int i = 0; i < 40; ++i) (void)b.next();
  CHECK(b.current_cap() == ms(2 * policy.backoff_max_base_ms));
}

TEST_CASE("backoff: degenerate limits are made safe") {
  Backoff b(Backoff::Limits{ms(0), ms(0)}, 1);
  CHECK(b.current_cap() == ms(1));
  CHECK(b.next() <= ms(1));
}
