// Topology: the undirected graph of a decentralised (DPSGD) run, over nodes 0..n-1.
//
//   auto ring = edgefl::Topology::build(edgefl::TopologyKind::ring, 8, /*seed=*/7);
//   if (!ring) return ring.status();
//   for (uint32_t k : ring->neighbours(3)) send_to(k);
//
// The seed shuffles which node sits at which position of the shape, so two runs with the same
// seed wire the same devices together and different seeds give different neighbourhoods.
// Shapes: ring (position p next to p +- 1); 2-D torus (rows x cols with rows the largest
// divisor of n not above sqrt(n); a prime n has one row, which is a ring); exponential graph
// (p next to p +- 2^i for every 2^i < n). Neighbour lists are sorted, without self-loops or
// repeats, and symmetric.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class TopologyKind : uint8_t { ring = 0, torus = 1, exponential = 2 };

std::string_view topology_name(TopologyKind kind);
// "ring", "torus", "exponential"; anything else is invalid_argument naming the accepted values.
Result<TopologyKind> parse_topology(std::string_view name);

class Topology {
 public:
  // nodes >= 1; more than kMaxNodes is out_of_range.
  static Result<Topology> build(TopologyKind kind, std::size_t nodes, uint64_t seed);
  static constexpr std::size_t kMaxNodes = 1u << 16;

  std::size_t size() const { return adjacency_.size(); }
  std::span<const uint32_t> neighbours(uint32_t node) const { return adjacency_[node]; }
  std::size_t degree(uint32_t node) const { return adjacency_[node].size(); }
  bool adjacent(uint32_t a, uint32_t b) const;
  // Every node reaches every other (always true of what build() returns; tests check it).
  bool connected() const;

 private:
  explicit Topology(std::vector<std::vector<uint32_t>> adjacency)
      : adjacency_(std::move(adjacency)) {}
  std::vector<std::vector<uint32_t>> adjacency_;
};

}  // namespace edgefl
