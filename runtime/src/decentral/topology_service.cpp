#include "edgefl/decentral/topology_service.hpp"

#include <algorithm>

#include "edgefl/decentral/mixing.hpp"

namespace edgefl {

void TopologyService::joined(const TopologyMember& member, SteadyTime now) {
  auto [it, inserted] = records_.try_emplace(member.device_id);
  Record& r = it->second;
  if (inserted) r.order = joins_++;
  const bool placed = current_ && current_->placements.count(member.device_id) != 0;
  const bool moved =
      r.member.endpoint != member.endpoint || r.member.public_key != member.public_key;
  if (!placed || moved || r.gone) dirty_ = true;
  r.member = member;
  r.last_seen = now;
  r.gone = false;
}

void TopologyService::heard_from(const std::string& device_id, SteadyTime now) {
  auto it = records_.find(device_id);
  if (it != records_.end()) it->second.last_seen = now;
}

void TopologyService::left(const std::string& device_id) {
  auto it = records_.find(device_id);
  if (it == records_.end()) return;
  it->second.gone = true;
  dirty_ = true;
}

bool TopologyService::live(const Record& r, SteadyTime now) const {
  return !r.gone && now - r.last_seen <= settings_.offline_limit;
}

std::vector<std::string> TopologyService::offline(SteadyTime now) const {
  std::vector<std::string> out;
  if (!current_) return out;
  for (const auto& [id, placement] : current_->placements) {
    auto it = records_.find(id);
    if (it == records_.end() || !live(it->second, now)) out.push_back(id);
  }
  return out;
}

Result<std::optional<TopologyPlan>> TopologyService::rewire(SteadyTime now) {
  if (!dirty_ && offline(now).empty()) return std::optional<TopologyPlan>();
  std::vector<const Record*> members;
  for (const auto& [id, r] : records_) {
    if (live(r, now)) members.push_back(&r);
  }
  // min_devices gates the first graph only: later ones wire around whoever is still there.
  const std::size_t needed = current_ ? 1 : std::max<std::size_t>(settings_.min_devices, 1);
  if (members.size() < needed) return std::optional<TopologyPlan>();
  std::sort(members.begin(), members.end(),
            [](const Record* a, const Record* b) { return a->order < b->order; });
  auto graph = Topology::build(settings_.kind, members.size(), settings_.seed);
  if (!graph) return graph.status();
  const std::vector<MixingRow> rows = metropolis_hastings(*graph);
  TopologyPlan plan;
  plan.epoch = current_ ? current_->epoch + 1 : 1;
  for (std::size_t j = 0; j < members.size(); ++j) {
    MemberPlacement placement;
    placement.self_weight = rows[j].self_weight;
    for (const NeighbourWeight& n : rows[j].neighbours)
      placement.neighbours.emplace_back(members[n.node]->member, n.weight);
    plan.placements.emplace(members[j]->member.device_id, std::move(placement));
  }
  current_ = plan;
  dirty_ = false;
  return std::optional<TopologyPlan>(std::move(plan));
}

}  // namespace edgefl
