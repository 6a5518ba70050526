#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgefl/decentral/mixing.hpp"

using namespace edgefl;

namespace {

// The full n x n matrix of the rows.
std::vector<std::vector<double>> dense(const std::vector<MixingRow>& rows) {
  std::vector<std::vector<double>> w(rows.size(), std::vector<double>(rows.size(), 0.0));
  for (std::size_t j = 0; j < rows.size(); ++j) {
    w[j][j] = rows[j].self_weight;
    for (const NeighbourWeight& n : rows[j].neighbours) w[j][n.node] += n.weight;
  }
  return w;
}

}  // namespace

TEST_CASE("Metropolis-Hastings weights are symmetric and doubly stochastic on every topology") {
  for (TopologyKind kind : {TopologyKind::ring, TopologyKind::torus, TopologyKind::exponential}) {
    for (std::size_t n = 1; n <= 33; ++n) {
      auto t = Topology::build(kind, n, n);
      REQUIRE(t.ok());
      auto w = dense(metropolis_hastings(*t));
      INFO(topology_name(kind), " of ", n);
      for (std::size_t j = 0; j < n; ++j) {
        double row = 0.0, column = 0.0;
        for (std::size_t k = 0; k < n; ++k) {
          CHECK(w[j][k] >= 0.0);
          CHECK(w[j][k] == w[k][j]);
          row += w[j][k];
          column += w[k][j];
        }
        CHECK(row == doctest::Approx(1.0).epsilon(1e-12));
        CHECK(column == doctest::Approx(1.0).epsilon(1e-12));
      }
    }
  }
  auto ring = Topology::build(TopologyKind::ring, 8, 3);
  REQUIRE(ring.ok());
  for (const MixingRow& row : metropolis_hastings(*ring)) {
    CHECK(row.self_weight == doctest::Approx(1.0 / 3));
    for (const NeighbourWeight& n : row.neighbours) CHECK(n.weight == doctest::Approx(1.0 / 3));
  }
}

TEST_CASE("folding a missed neighbour moves its weight onto the node and keeps the row sum at 1") {
  auto t = Topology::build(TopologyKind::exponential, 11, 2);
  REQUIRE(t.ok());
  for (const MixingRow& row : metropolis_hastings(*t)) {
    for (std::size_t missing = 0; missing <= row.neighbours.size(); ++missing) {
      std::vector<bool> arrived(row.neighbours.size(), true);
      double moved = 0.0;
      for (std::size_t i = 0; i < missing; ++i) {
        arrived[i] = false;
        moved += row.neighbours[i].weight;
      }
      auto folded = fold_missing(row, arrived);
      REQUIRE(folded.ok());
      CHECK(folded->sum() == doctest::Approx(1.0).epsilon(1e-12));
      CHECK(folded->self_weight == doctest::Approx(row.self_weight + moved));
      for (std::size_t i = 0; i < row.neighbours.size(); ++i) {
        // The ones that answered keep their own weight: no renormalising among them.
        CHECK(folded->neighbours[i].weight == (arrived[i] ? row.neighbours[i].weight : 0.0));
      }
    }
  }
  MixingRow row{0.5, {{1, 0.5}}};
  CHECK(fold_missing(row, std::vector<bool>{true, false}).status().code() ==
        StatusCode::invalid_argument);
}

TEST_CASE("mix_into refuses what it cannot mix") {
  std::vector<float> params(3, 0.0f), sent(3, 0.0f), other(3, 1.0f), short_model(2, 1.0f);
  MixingRow row{0.5, {{1, 0.5}}};
  std::vector<std::span<const float>> missing = {std::span<const float>()};
  CHECK(mix_into(params, sent, row, missing).code() == StatusCode::failed_precondition);
  std::vector<std::span<const float>> wrong = {short_model};
  CHECK(mix_into(params, sent, row, wrong).code() == StatusCode::shape_mismatch);
  std::vector<std::span<const float>> none;
  CHECK(mix_into(params, sent, row, none).code() == StatusCode::invalid_argument);
  CHECK(mix_into(params, short_model, row, wrong).code() == StatusCode::shape_mismatch);
  CHECK(squared_distance(sent, short_model).status().code() == StatusCode::shape_mismatch);
  CHECK(squared_distance(sent, other).value() == 3.0);
}
