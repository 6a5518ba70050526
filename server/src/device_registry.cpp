#include "device_registry.hpp"

#include <algorithm>
#include <cmath>

namespace edgefl::server {

DeviceRecord& DeviceRegistry::join(const std::string& id, const std::string& peer,
                                   const Join& join, Clock::time_point now) {
  DeviceRecord& record = devices_[id];
  record.id = id;
  set_peer(record, peer);
  record.capabilities = join.capabilities;
  if (join.boot_counter != record.boot_counter) {  // it rebooted
    record.busy_task = 0;
    record.reported_task = 0;
  }
  record.boot_counter = join.boot_counter;
  record.peer_endpoint = join.peer_endpoint;
  record.last_seen = now;
  return record;
}

DeviceRecord* DeviceRegistry::touch(const std::string& id, const std::string& peer,
                                    Clock::time_point now) {
  DeviceRecord* record = find(id);
  if (record != nullptr) touch(*record, peer, now);
  return record;
}

void DeviceRegistry::touch(DeviceRecord& record, const std::string& peer, Clock::time_point now) {
  set_peer(record, peer);
  record.last_seen = now;
}

void DeviceRegistry::set_peer(DeviceRecord& record, const std::string& peer) {
  if (record.peer == peer && !peer.empty()) return;
  auto old = by_peer_.find(record.peer);
  if (old != by_peer_.end() && old->second == &record) by_peer_.erase(old);
  record.peer = peer;
  by_peer_[peer] = &record;
}

DeviceRecord* DeviceRegistry::find_by_peer(const std::string& peer) {
  auto it = by_peer_.find(peer);
  return it == by_peer_.end() ? nullptr : it->second;
}

void DeviceRegistry::forget(const std::string& id) {
  auto it = devices_.find(id);
  if (it == devices_.end()) return;
  auto peer = by_peer_.find(it->second.peer);
  if (peer != by_peer_.end() && peer->second == &it->second) by_peer_.erase(peer);
  devices_.erase(it);
}

DeviceRecord* DeviceRegistry::find(const std::string& id) {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : &it->second;
}

bool DeviceRegistry::evict_oldest(Clock::time_point cutoff) {
  const DeviceRecord* oldest = nullptr;
  for (const auto& [id, record] : devices_) {
    if (oldest == nullptr || record.last_seen < oldest->last_seen) oldest = &record;
  }
  if (oldest == nullptr || oldest->last_seen >= cutoff) return false;
  forget(std::string(oldest->id));
  return true;
}

std::vector<std::string> DeviceRegistry::live_ids(Clock::time_point now,
                                                  Clock::duration liveness) const {
  std::vector<std::string> ids;
  for (const auto& [id, record] : devices_) {
    if (now - record.last_seen <= liveness) ids.push_back(id);
  }
  return ids;
}

std::size_t DeviceRegistry::live_count(Clock::time_point now, Clock::duration liveness) const {
  std::size_t count = 0;
  for (const auto& [id, record] : devices_) count += now - record.last_seen <= liveness ? 1 : 0;
  return count;
}

bool DeviceRegistry::eligible(const DeviceRecord& record, Clock::time_point now, Clock::duration liveness) {
  return now - record.last_seen <= liveness && record.eligibility_known && record.ineligible == 0;
}

std::size_t DeviceRegistry::eligible_count(Clock::time_point now, Clock::duration liveness) const {
  std::size_t count = 0;
  for (const auto& [id, record] : devices_) count += eligible(record, now, liveness) ? 1 : 0;
  return count;
}

std::vector<std::string> DeviceRegistry::eligible_ids(Clock::time_point now, Clock::duration liveness) const {
  std::vector<std::string> ids;
  for (const auto& [id, record] : devices_) {
    if (eligible(record, now, liveness)) ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> select_devices(const std::vector<std::string>& candidates, float fraction,
                                        std::size_t min_count, Rng& rng) {
  std::size_t wanted = static_cast<std::size_t>(std::ceil(fraction * candidates.size()));
  wanted = std::min(candidates.size(), std::max(wanted, min_count));
  std::vector<std::string> pool = candidates;
  std::sort(pool.begin(), pool.end());
  // Partial Fisher-Yates: the first `wanted` entries become the sample.
  for (std::size_t i = 0; i < wanted; ++i) {
    std::size_t j = i + rng.below(static_cast<uint32_t>(pool.size() - i));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(wanted);
  std::sort(pool.begin(), pool.end());
  return pool;
}

}  // namespace edgefl::server
