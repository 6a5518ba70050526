#include <doctest/doctest.h>

#include "edgefl/net/peer_rate_limit.hpp"

using edgefl::PeerRateLimit;
using namespace std::chrono_literals;

TEST_CASE("peer rate limit: a burst, then the rate; each peer has its own bucket") {
  PeerRateLimit limit(10.0, 3.0);
  const auto t0 = PeerRateLimit::Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) CHECK(limit.admit("a", t0));
  CHECK_FALSE(limit.admit("a", t0));
  CHECK(limit.admit("b", t0));               // another peer is unaffected
  CHECK_FALSE(limit.admit("a", t0 + 50ms));  // half a token
  CHECK(limit.admit("a", t0 + 150ms));       // 1.5 tokens by now: one is spent
  CHECK_FALSE(limit.admit("a", t0 + 150ms));
  for (int i = 0; i < 3; ++i) CHECK(limit.admit("a", t0 + 10s));  // refills up to the burst only
  CHECK_FALSE(limit.admit("a", t0 + 10s));
}

TEST_CASE(
    "peer rate limit: idle peers are forgotten, so churning routing ids cannot grow it without "
    "bound") {
  PeerRateLimit limit(1.0, 2.0);
  const auto t0 = PeerRateLimit::Clock::time_point{} + 1h;
  for (std::size_t i = 0; i < PeerRateLimit::kMaxTrackedPeers; ++i)
    limit.admit("peer-" + std::to_string(i), t0);
  CHECK(limit.tracked_peers() == PeerRateLimit::kMaxTrackedPeers);
  // A second later every bucket is full again: the next new peer evicts them all.
  CHECK(limit.admit("newcomer", t0 + 1s));
  CHECK(limit.tracked_peers() == 1);
}
