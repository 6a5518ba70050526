// A token bucket per peer (routing id): how the server bounds what one connection can make it
// decode. Each peer starts with `burst` tokens, gains `per_second` tokens a second up to
// `burst`, and spends one per message; a message without a token is dropped, and the first
// one (again at most once per `cut_holdoff`) says the connection should be cut: no honest
// device comes near the rate, and receiving a flood one message at a time costs the poll loop
// a core. The hold-off lets the cut connection's already-queued messages drain without cutting
// again (the descriptor they name may be closed and reused by then).
//
//   PeerRateLimit limit(200.0, 400.0);
//   switch (limit.admit(inbound.peer, Clock::now())) { ... RateVerdict::cut: end its connection }
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace edgefl {

enum class RateVerdict { admit, drop, cut };

class PeerRateLimit {
 public:
  using Clock = std::chrono::steady_clock;

  // With this many buckets, peers whose bucket refilled (idle ones) are forgotten before a new
  // peer gets one.
  static constexpr std::size_t kMaxTrackedPeers = 4096;
  static constexpr std::chrono::seconds kCutHoldoff{1};

  PeerRateLimit(double per_second, double burst) : per_second_(per_second), burst_(burst) {}

  // Spends one token of `peer`'s bucket: admit; none left: drop, or cut when the peer was not
  // cut in the last kCutHoldoff.
  RateVerdict admit(const std::string& peer, Clock::time_point now);
  // Takes `messages` tokens more from a known peer's bucket (down to -burst at most).
  void charge(const std::string& peer, double messages, Clock::time_point now);
  std::size_t tracked_peers() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
    std::optional<Clock::time_point> cut;  // the last cut verdict
  };
  double refilled(const Bucket& bucket, Clock::time_point now) const;
  void forget_idle(Clock::time_point now);

  double per_second_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace edgefl
