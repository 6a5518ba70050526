#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "edgefl/aggregate/exact_mean.hpp"
#include "edgefl/base/rng.hpp"

using edgefl::ExactMean;

namespace {

std::vector<std::vector<float>> random_updates(std::size_t count, std::size_t size, uint64_t seed) {
  edgefl::Rng rng(seed);
  std::vector<std::vector<float>> updates(count, std::vector<float>(size));
  for (auto& update : updates) {
    for (float& value : update) {
      // Mixed magnitudes make float sums order-dependent; the exact sum must not be.
      value = static_cast<float>(rng.normal() * std::pow(10.0, static_cast<int>(rng.below(9)) - 6));
    }
  }
  return updates;
}

}  // namespace

TEST_CASE("exact mean: hand-computed weighted mean") {
  ExactMean mean(3);
  REQUIRE(mean.add(std::vector<float>{1.0f, -2.0f, 0.5f}, 1).ok());
  REQUIRE(mean.add(std::vector<float>{3.0f, 2.0f, -0.5f}, 3).ok());
  std::vector<float> out(3);
  REQUIRE(mean.mean_into(out).ok());
  // (1*1 + 3*3)/4 = 2.5; (-2 + 6)/4 = 1; (0.5 - 1.5)/4 = -0.25
  CHECK(out[0] == 2.5f);
  CHECK(out[1] == 1.0f);
  CHECK(out[2] == -0.25f);
  CHECK(mean.count() == 2);
  CHECK(mean.total_weight() == 4);
}

TEST_CASE("exact mean: uniform weighting is the plain mean over updates whatever their sample counts") {
  ExactMean mean(3, {}, edgefl::MeanWeighting::uniform);
  REQUIRE(mean.add(std::vector<float>{1.0f, -2.0f, 0.5f}, 1).ok());
  REQUIRE(mean.add(std::vector<float>{3.0f, 2.0f, -0.5f}, 3).ok());
  std::vector<float> out(3);
  REQUIRE(mean.mean_into(out).ok());
  // (1 + 3)/2 = 2; (-2 + 2)/2 = 0; (0.5 - 0.5)/2 = 0 (sample-weighted: 2.5, 1, -0.25)
  CHECK(out[0] == 2.0f);
  CHECK(out[1] == 0.0f);
  CHECK(out[2] == 0.0f);
  CHECK(mean.total_weight() == 2);
  CHECK(mean.add(std::vector<float>{1.0f, 1.0f, 1.0f}, 0).code() == edgefl::StatusCode::invalid_argument);
}

TEST_CASE("exact mean: every arrival order gives the same bits") {
  const std::size_t size = 4096;
  auto updates = random_updates(6, size, 11);
  std::vector<uint64_t> weights = {600, 1, 59999, 32, 7000, 123};
  std::vector<std::size_t> order(updates.size());
  std::iota(order.begin(), order.end(), 0);

  std::vector<float> reference(size);
  {
    ExactMean mean(size);
    for (std::size_t i : order) REQUIRE(mean.add(updates[i], weights[i]).ok());
    REQUIRE(mean.mean_into(reference).ok());
  }
  edgefl::Rng rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
    ExactMean mean(size);
    for (std::size_t i : order) REQUIRE(mean.add(updates[i], weights[i]).ok());
    std::vector<float> out(size);
    REQUIRE(mean.mean_into(out).ok());
    REQUIRE(std::memcmp(out.data(), reference.data(), size * sizeof(float)) == 0);
  }
  // And it is the correctly rounded mean, within one float rounding of a long-double sum.
  for (std::size_t j = 0; j < size; ++j) {
    long double sum = 0, total = 0;
    for (std::size_t i = 0; i < updates.size(); ++i) {
      sum += static_cast<long double>(weights[i]) * updates[i][j];
      total += weights[i];
    }
    double exact = static_cast<double>(sum / total);
    REQUIRE(std::fabs(reference[j] - exact) <= std::fabs(exact) * 1.2e-7 + 1e-30);
  }
}

TEST_CASE("exact mean: bad updates and weights leave the sum untouched") {
  ExactMean mean(2, edgefl::UpdateChecks{.max_l2_norm = 10.0, .clip_to_norm = false});
  REQUIRE(mean.add(std::vector<float>{1.0f, 1.0f}, 2).ok());
  CHECK(mean.add(std::vector<float>{1.0f}, 1).code() == edgefl::StatusCode::shape_mismatch);
  CHECK(mean.add(std::vector<float>{NAN, 1.0f}, 1).code() == edgefl::StatusCode::non_finite);
  CHECK(mean.add(std::vector<float>{100.0f, 0.0f}, 1).code() == edgefl::StatusCode::norm_exceeded);
  CHECK(mean.add(std::vector<float>{1.0f, 1.0f}, 0).code() == edgefl::StatusCode::invalid_argument);
  ExactMean huge(1);
  CHECK(huge.add(std::vector<float>{1e30f}, 1).code() == edgefl::StatusCode::out_of_range);
  std::vector<float> out(2);
  REQUIRE(mean.mean_into(out).ok());
  CHECK(out[0] == 1.0f);
  CHECK(mean.count() == 1);
  mean.reset();
  CHECK(mean.mean_into(out).code() == edgefl::StatusCode::failed_precondition);
}
