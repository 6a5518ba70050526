#include <doctest/doctest.h>

#include <string>

#include "edgefl/decentral/topology.hpp"

using namespace edgefl;

namespace {

constexpr TopologyKind kKinds[] = {TopologyKind::ring, TopologyKind::torus,
                                   TopologyKind::exponential};

}  // namespace

TEST_CASE("every topology is symmetric, without self-loops, and connected") {
  for (TopologyKind kind : kKinds) {
    for (std::size_t n = 1; n <= 40; ++n) {
      auto t = Topology::build(kind, n, /*seed=*/n * 31 + 5);
      REQUIRE(t.ok());
      INFO(topology_name(kind), " of ", n);
      CHECK(t->size() == n);
      CHECK(t->connected());
      for (uint32_t j = 0; j < n; ++j) {
        CHECK_FALSE(t->adjacent(j, j));
        for (uint32_t k : t->neighbours(j)) CHECK(t->adjacent(k, j));
      }
    }
  }
}

TEST_CASE("shapes have their degrees") {
  auto ring = Topology::build(TopologyKind::ring, 8, 1);
  auto torus = Topology::build(TopologyKind::torus, 12, 1);  // 3 x 4
  auto expo =
      Topology::build(TopologyKind::exponential, 8, 1);  // hops 1, 2, 4: 4 is its own inverse
  auto prime_torus = Topology::build(TopologyKind::torus, 7, 1);  // one row: a ring
  REQUIRE((ring.ok() && torus.ok() && expo.ok() && prime_torus.ok()));
  for (uint32_t j = 0; j < 8; ++j) CHECK(ring->degree(j) == 2);
  for (uint32_t j = 0; j < 12; ++j) CHECK(torus->degree(j) == 4);
  for (uint32_t j = 0; j < 8; ++j) CHECK(expo->degree(j) == 5);
  for (uint32_t j = 0; j < 7; ++j) CHECK(prime_torus->degree(j) == 2);
  auto two = Topology::build(TopologyKind::ring, 2, 1);
  REQUIRE(two.ok());
  CHECK(two->degree(0) == 1);
  CHECK(two->adjacent(0, 1));
}

TEST_CASE("the seed decides who neighbours whom, the same way every time") {
  auto a = Topology::build(TopologyKind::ring, 16, 42);
  auto b = Topology::build(TopologyKind::ring, 16, 42);
  auto c = Topology::build(TopologyKind::ring, 16, 43);
  REQUIRE((a.ok() && b.ok() && c.ok()));
  bool all_same = true, differs = false;
  for (uint32_t j = 0; j < 16; ++j) {
    std::vector<uint32_t> na(a->neighbours(j).begin(), a->neighbours(j).end());
    std::vector<uint32_t> nb(b->neighbours(j).begin(), b->neighbours(j).end());
    std::vector<uint32_t> nc(c->neighbours(j).begin(), c->neighbours(j).end());
    all_same = all_same && na == nb;
    differs = differs || na != nc;
  }
  CHECK(all_same);
  CHECK(differs);
}

TEST_CASE("bad topology requests are refused by name") {
  CHECK(parse_topology("torus").value() == TopologyKind::torus);
  auto bad = parse_topology("star");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("star") != std::string::npos);
  CHECK(Topology::build(TopologyKind::ring, 0, 1).status().code() == StatusCode::out_of_range);
  CHECK(Topology::build(static_cast<TopologyKind>(9), 4, 1).status().code() ==
        StatusCode::unknown_enum);
}
