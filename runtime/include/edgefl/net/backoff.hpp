// Backoff: capped exponential delays with full jitter, for re-join and resend attempts.
//
//   edgefl::Backoff backoff(policy, seed);     // or Backoff({initial, max}, seed)
//   while (!try_join()) wait(backoff.next());  // uniform in [0, min(max, initial * 2^n)]
//   backoff.reset();                           // after success
//
// Full jitter spreads a fleet that lost the server at the same moment, so devices do not
// reconnect in lock-step. Seeded, so a test (or a replayed run) sees the same delays.
#pragma once

#include <chrono>
#include <cstdint>

#include "edgefl/base/rng.hpp"
#include "edgefl/net/socket_policy.hpp"

namespace edgefl {

class Backoff {
 public:
  struct Limits {
    std::chrono::milliseconds initial{1000};
    std::chrono::milliseconds max{60000};
  };

  Backoff(Limits limits, uint64_t seed);
  // Limits from policy.backoff_initial_ms() / backoff_max_ms() (time_scale applied).
  Backoff(const SocketPolicy& policy, uint64_t seed);

  // The delay before the next attempt; the cap doubles per call until it reaches max.
  std::chrono::milliseconds next();
  // The cap the next call draws under.
  std::chrono::milliseconds current_cap() const;
  uint32_t attempts() const { return attempts_; }
  void reset() { attempts_ = 0; }

 private:
  Limits limits_;
  Rng rng_;
  uint32_t attempts_ = 0;
};

}  // namespace edgefl
