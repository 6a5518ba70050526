#include "edgefl/net/backoff.hpp"

#include <algorithm>

namespace edgefl {

Backoff::Backoff(Limits limits, uint64_t seed) : limits_(limits), rng_(seed) {
  limits_.initial = std::max(limits_.initial, std::chrono::milliseconds(1));
  limits_.max = std::max(limits_.max, limits_.initial);
}

Backoff::Backoff(const SocketPolicy& policy, uint64_t seed)
    : Backoff(Limits{std::chrono::milliseconds(policy.backoff_initial_ms()),
                     std::chrono::milliseconds(policy.backoff_max_ms())},
              seed) {}

std::chrono::milliseconds Backoff::current_cap() const {
  // Double per attempt without overflowing: stop doubling once past max.
  int64_t cap = limits_.initial.count();
  for (uint32_t i = 0; i < attempts_ && cap < limits_.max.count(); ++i) cap *= 2;
  return std::chrono::milliseconds(std::min<int64_t>(cap, limits_.max.count()));
}

std::chrono::milliseconds Backoff::next() {
  int64_t cap = current_cap().count();
  ++attempts_;
  // Full jitter: uniform in [0, cap].
  auto delay = static_cast<int64_t>(rng_.uniform_double() * static_cast<double>(cap + 1));
  return std::chrono::milliseconds(std::min(delay, cap));
}

}  // namespace edgefl
