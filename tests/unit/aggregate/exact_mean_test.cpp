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

TEST_CASE("exact mean: folding partial sums of groups gives the flat sum bit for bit") {
  const std::size_t size = 3000;  // a chunk and a tail
  const auto updates = random_updates(6, size, 23);
  const uint64_t samples[] = {5, 17, 3, 200, 64, 9};
  ExactMean flat(size);
  for (std::size_t i = 0; i < updates.size(); ++i) REQUIRE(flat.add(updates[i], samples[i]).ok());

  // Two relays of three devices each, folded upstream in the opposite order.
  ExactMean first(size);
  ExactMean second(size);
  for (std::size_t i = 0; i < 3; ++i) REQUIRE(first.add(updates[i], samples[i]).ok());
  for (std::size_t i = 3; i < 6; ++i) REQUIRE(second.add(updates[i], samples[i]).ok());
  ExactMean upstream(size);
  for (const ExactMean* relay : {&second, &first}) {
    REQUIRE(
        upstream
            .add_sum(relay->high_words(), relay->low_words(), relay->count(), relay->total_weight())
            .ok());
  }
  CHECK(upstream.count() == flat.count());
  CHECK(upstream.total_weight() == flat.total_weight());
  for (std::size_t i = 0; i < size; ++i) REQUIRE(upstream.sum_at(i) == flat.sum_at(i));
  std::vector<float> flat_mean(size);
  std::vector<float> tiered_mean(size);
  REQUIRE(flat.mean_into(flat_mean).ok());
  REQUIRE(upstream.mean_into(tiered_mean).ok());
  CHECK(std::memcmp(flat_mean.data(), tiered_mean.data(), size * sizeof(float)) == 0);
}

TEST_CASE(
    "exact mean: a partial sum beyond capacity or of the wrong shape is refused, sum unchanged") {
  ExactMean mean(2);
  REQUIRE(mean.add(std::vector<float>{1.0f, -1.0f}, 1).ok());
  const std::vector<int64_t> near_top = {int64_t{1} << 62, 0};
  const std::vector<uint64_t> low = {0, 0};
  REQUIRE(mean.add_sum(near_top, low, 1, 1).ok());
  const ExactMean::Sum before = mean.sum_at(0);
  CHECK(mean.add_sum(near_top, low, 1, 1).code() == edgefl::StatusCode::out_of_range);
  CHECK(mean.sum_at(0) == before);
  CHECK(mean.count() == 2);
  CHECK(mean.add_sum(std::vector<int64_t>{0}, std::vector<uint64_t>{0}, 1, 1).code() ==
        edgefl::StatusCode::shape_mismatch);
  CHECK(mean.add_sum(near_top, low, 0, 1).code() == edgefl::StatusCode::invalid_argument);
}
