#include "shared_messages.hpp"

namespace edgefl::device {

namespace {

// A bucket key from the size and a sparse sample of the bytes: cheap next to a task's
// training; equality is decided by comparing the bytes in full.
uint64_t sample_hash(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ bytes.size();
  constexpr std::size_t kStride = 509;  // prime: no alignment with the layout's periods
  for (std::size_t i = 0; i < bytes.size(); i += kStride) h = (h ^ bytes[i]) * 0x100000001b3ull;
  if (!bytes.empty()) h = (h ^ bytes.back()) * 0x100000001b3ull;
  return h;
}

}  // namespace

std::shared_ptr<const SharedMessages::Bytes> SharedMessages::share(Bytes message) {
  const uint64_t key = sample_hash(message);
  std::lock_guard<std::mutex> lock(mutex_);
  auto [first, last] = held_.equal_range(key);
  for (auto it = first; it != last; ++it) {
    std::shared_ptr<const Bytes> known = it->second.lock();
    if (known && *known == message) {  // not memcmp: an empty message has no data pointer
      return known;
    }
  }
  auto held = std::make_shared<const Bytes>(std::move(message));
  held_.emplace(key, held);
  if (++shares_since_sweep_ >= 256) forget_expired();
  return held;
}

std::size_t SharedMessages::live_count() {
  std::lock_guard<std::mutex> lock(mutex_);
  forget_expired();
  return held_.size();
}

void SharedMessages::forget_expired() {
  shares_since_sweep_ = 0;
  for (auto it = held_.begin(); it != held_.end();)
    it = it->second.expired() ? held_.erase(it) : std::next(it);
}

}  // namespace edgefl::device
