#include "edgefl/net/peer_rate_limit.hpp"

#include <algorithm>

namespace edgefl {

double PeerRateLimit::refilled(const Bucket& bucket, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  return std::min(burst_, bucket.tokens + std::max(0.0, elapsed) * per_second_);
}

void PeerRateLimit::forget_idle(Clock::time_point now) {
  // A forgotten peer starts again with a full bucket, which is what an idle one has anyway.
  std::erase_if(buckets_, [&](const auto& entry) { return refilled(entry.second, now) >= burst_; });
}

void PeerRateLimit::charge(const std::string& peer, double messages, Clock::time_point now) {
  auto found = buckets_.find(peer);
  if (found == buckets_.end()) return;
  Bucket& bucket = found->second;
  bucket.tokens = std::max(-burst_, refilled(bucket, now) - messages);
  bucket.updated = now;
}

RateVerdict PeerRateLimit::admit(const std::string& peer, Clock::time_point now) {
  auto found = buckets_.find(peer);
  if (found == buckets_.end()) {
    if (buckets_.size() >= kMaxTrackedPeers) forget_idle(now);
    found = buckets_.emplace(peer, Bucket{burst_, now, std::nullopt}).first;
  }
  Bucket& bucket = found->second;
  bucket.tokens = refilled(bucket, now);
  bucket.updated = now;
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return RateVerdict::admit;
  }
  if (bucket.cut && now - *bucket.cut < kCutHoldoff) return RateVerdict::drop;
  bucket.cut = now;
  return RateVerdict::cut;
}

}  // namespace edgefl
