#include "edgefl/decentral/topology.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "edgefl/base/rng.hpp"

namespace edgefl {

namespace {

// Positions in the shape, before the seeded shuffle: each entry lists the positions next to
// one position (may hold repeats and self-loops on tiny shapes; build() removes them).
using PositionGraph = std::vector<std::vector<std::size_t>>;

PositionGraph ring_positions(std::size_t n) {
  PositionGraph g(n);
  for (std::size_t p = 0; p < n; ++p) g[p] = {(p + 1) % n, (p + n - 1) % n};
  return g;
}

PositionGraph torus_positions(std::size_t n) {
  std::size_t rows = static_cast<std::size_t>(std::sqrt(static_cast<double>(n)));
  while (rows > 1 && n % rows != 0) --rows;
  const std::size_t cols = n / rows;
  PositionGraph g(n);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      g[r * cols + c] = {r * cols + (c + 1) % cols, r * cols + (c + cols - 1) % cols,
                         ((r + 1) % rows) * cols + c, ((r + rows - 1) % rows) * cols + c};
    }
  }
  return g;
}

PositionGraph exponential_positions(std::size_t n) {
  PositionGraph g(n);
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t hop = 1; hop < n; hop *= 2) {
      g[p].push_back((p + hop) % n);
      g[p].push_back((p + n - hop) % n);
    }
  }
  return g;
}

// A seeded permutation: node_at[p] is the node placed at position p (Fisher-Yates).
std::vector<uint32_t> seeded_placement(std::size_t n, uint64_t seed) {
  std::vector<uint32_t> node_at(n);
  std::iota(node_at.begin(), node_at.end(), 0u);
  Rng rng(seed, /*stream=*/0x70901);
  for (std::size_t i = n; i > 1; --i) {
    std::swap(node_at[i - 1], node_at[rng.below(static_cast<uint32_t>(i))]);
  }
  return node_at;
}

}  // namespace

std::string_view topology_name(TopologyKind kind) {
  switch (kind) {
    case TopologyKind::ring:
      return "ring";
    case TopologyKind::torus:
      return "torus";
    case TopologyKind::exponential:
      return "exponential";
  }
  return "unknown";
}

Result<TopologyKind> parse_topology(std::string_view name) {
  for (TopologyKind kind : {TopologyKind::ring, TopologyKind::torus, TopologyKind::exponential}) {
    if (name == topology_name(kind)) return kind;
  }
  return make_status(StatusCode::invalid_argument,
                     "topology '" + std::string(name) + "': expected ring, torus or exponential");
}

Result<Topology> Topology::build(TopologyKind kind, std::size_t nodes, uint64_t seed) {
  if (nodes == 0 || nodes > kMaxNodes) {
    return make_status(StatusCode::out_of_range, "topology of " + std::to_string(nodes) +
                                                     " nodes: expected 1 to " +
                                                     std::to_string(kMaxNodes));
  }
  PositionGraph positions;
  switch (kind) {
    case TopologyKind::ring:
      positions = ring_positions(nodes);
      break;
    case TopologyKind::torus:
      positions = torus_positions(nodes);
      break;
    case TopologyKind::exponential:
      positions = exponential_positions(nodes);
      break;
    default:
      return make_status(
          StatusCode::unknown_enum,
          "topology kind " + std::to_string(static_cast<int>(kind)) + " is not known");
  }
  const std::vector<uint32_t> node_at = seeded_placement(nodes, seed);
  std::vector<std::vector<uint32_t>> adjacency(nodes);
  for (std::size_t p = 0; p < nodes; ++p) {
    for (std::size_t q : positions[p]) {
      if (q == p) continue;
      // Both directions, so the graph is symmetric even where a shape lists an edge once.
      adjacency[node_at[p]].push_back(node_at[q]);
      adjacency[node_at[q]].push_back(node_at[p]);
    }
  }
  for (auto& list : adjacency) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  return Topology(std::move(adjacency));
}

bool Topology::adjacent(uint32_t a, uint32_t b) const {
  if (a >= size()) return false;
  return std::binary_search(adjacency_[a].begin(), adjacency_[a].end(), b);
}

bool Topology::connected() const {
  if (adjacency_.empty()) return true;
  std::vector<bool> seen(size(), false);
  std::vector<uint32_t> frontier = {0};
  seen[0] = true;
  std::size_t reached = 1;
  while (!frontier.empty()) {
    const uint32_t node = frontier.back();
    frontier.pop_back();
    for (uint32_t next : adjacency_[node]) {
      if (seen[next]) continue;
      seen[next] = true;
      ++reached;
      frontier.push_back(next);
    }
  }
  return reached == size();
}

}  // namespace edgefl
