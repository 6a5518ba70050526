// A token bucket per peer (routing id): how the server bounds what one connection can make it
// decode. Each peer starts with `burst` tokens, gains `per_second` tokens a second up to
// `burst`, and spends one per message; a message without a token is dropped.
//
//   PeerRateLimit limit(200.0, 400.0);
//   if (!limit.admit(inbound.peer, Clock::now())) { /* drop it, count it */ }
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace edgefl {

class PeerRateLimit {
 public:
  using Clock = std::chrono::steady_clock;

  // With this many buckets, peers whose bucket refilled (idle ones) are forgotten before a new
  // peer gets one.
  static constexpr std::size_t kMaxTrackedPeers = 4096;

  PeerRateLimit(double per_second, double burst) : per_second_(per_second), burst_(burst) {}

  // Spends one token of `peer`'s bucket; false when it has none left.
  bool admit(const std::string& peer, Clock::time_point now);
  std::size_t tracked_peers() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  double refilled(const Bucket& bucket, Clock::time_point now) const;
  void forget_idle(Clock::time_point now);

  double per_second_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace edgefl
