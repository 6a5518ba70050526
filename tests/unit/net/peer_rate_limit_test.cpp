#include <doctest/doctest.h>

#include "edgefl/net/peer_rate_limit.hpp"

using edgefl::PeerRateLimit;
using edgefl::RateVerdict;
using namespace std::chrono_literals;

TEST_CASE("peer rate limit: a burst, then the rate, each peer has its own bucket") {
  PeerRateLimit limit(10.0, 3.0);
  const auto t0 = PeerRateLimit::Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) CHECK(RateVerdict::admit == limit.admit("a", t0));
  CHECK(RateVerdict::admit != limit.admit("a", t0));
  CHECK(RateVerdict::admit == limit.admit("b", t0));               // another peer is unaffected
  CHECK(RateVerdict::admit != limit.admit("a", t0 + 50ms));  // half a token
  CHECK(RateVerdict::admit == limit.admit("a", t0 + 150ms));       // 1.5 tokens by now: one is spent
  CHECK(RateVerdict::admit != limit.admit("a", t0 + 150ms));
  for (int i = 0; i < 3; ++i) CHECK(RateVerdict::admit == limit.admit("a", t0 + 10s));  // refills up to the burst only
  CHECK(RateVerdict::admit != limit.admit("a", t0 + 10s));
}

TEST_CASE(
    "peer rate limit: idle peers are forgotten, so churning routing ids cannot grow it without "
    "bound") {
  PeerRateLimit limit(1.0, 2.0);
  const auto t0 = PeerRateLimit::Clock::time_point{} + 1h;
  for (std::size_t i = 0; i < PeerRateLimit::kMaxTrackedPeers; ++i)
    (void)limit.admit("peer-" + std::to_string(i), t0);
  CHECK(limit.tracked_peers() == PeerRateLimit::kMaxTrackedPeers);
  // A second later every bucket is full again: the next new peer evicts them all.
  CHECK(RateVerdict::admit == limit.admit("newcomer", t0 + 1s));
  CHECK(limit.tracked_peers() == 1);
}

TEST_CASE("peer rate limit: the first message over the rate says cut, then drop for the hold-off") {
  PeerRateLimit limit(1.0, 1.0);
  const auto t0 = PeerRateLimit::Clock::time_point{} + 1h;
  CHECK(limit.admit("a", t0) == RateVerdict::admit);
  CHECK(limit.admit("a", t0) == RateVerdict::cut);
  CHECK(limit.admit("a", t0 + 100ms) == RateVerdict::drop);  // the cut connection's queue drains
  CHECK(limit.admit("a", t0 + 900ms) == RateVerdict::drop);
  CHECK(limit.admit("b", t0) == RateVerdict::admit);
  CHECK(limit.admit("b", t0) == RateVerdict::cut);            // each peer on its own
  CHECK(limit.admit("a", t0 + 1100ms) == RateVerdict::admit);  // a token refilled
  CHECK(limit.admit("a", t0 + 1100ms) == RateVerdict::cut);    // past the hold-off: cut again
}
