#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/aggregate/streaming_mean.hpp"

using namespace edgefl;

namespace {
std::vector<float> mean_of(const StreamingMean& mean) {
  std::vector<float> out(mean.size());
  REQUIRE(mean.mean_into(out).ok());
  return out;
}
}  // namespace

TEST_CASE("streaming mean: weighted mean of two updates") {
  StreamingMean mean(3);
  REQUIRE(mean.add(std::vector<float>{1, 2, 3}, 1.0).ok());
  REQUIRE(mean.add(std::vector<float>{3, 0, -1}, 3.0).ok());
  // sum = [1 + 9, 2 + 0, 3 - 3] = [10, 2, 0], total weight 4 -> [2.5, 0.5, 0]
  CHECK(mean.count() == 2);
  CHECK(mean.total_weight() == 4.0);
  CHECK(mean_of(mean) == std::vector<float>{2.5f, 0.5f, 0.0f});
  mean.reset();
  CHECK(mean.count() == 0);
  std::vector<float> out(3);
  CHECK(mean.mean_into(out).code() == StatusCode::failed_precondition);
}

TEST_CASE("streaming mean: uniform weighting counts every update once") {
  StreamingMean mean(3, {}, MeanWeighting::uniform);
  REQUIRE(mean.add(std::vector<float>{1, 2, 3}, 1.0).ok());
  REQUIRE(mean.add(std::vector<float>{3, 0, -1}, 3.0).ok());
  // [1 + 3, 2 + 0, 3 - 1] / 2 = [2, 1, 1] (sample-weighted: [2.5, 0.5, 0])
  CHECK(mean.total_weight() == 2.0);
  CHECK(mean_of(mean) == std::vector<float>{2.0f, 1.0f, 1.0f});
}

TEST_CASE("streaming mean: bad updates are rejected whole and leave the sum untouched") {
  StreamingMean mean(3);
  REQUIRE(mean.add(std::vector<float>{2, 4, 6}, 2.0).ok());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Status non_finite = mean.add(std::vector<float>{100, nan, 100}, 1.0);
  CHECK(non_finite.code() == StatusCode::non_finite);
  CHECK(non_finite.message().find("value 1") != std::string::npos);
  CHECK(mean.add(std::vector<float>{100, 100, -inf}, 1.0).code() == StatusCode::non_finite);
  CHECK(mean.add(std::vector<float>{1, 2}, 1.0).code() == StatusCode::shape_mismatch);
  for (double weight : {0.0, -1.0, std::numeric_limits<double>::infinity(), std::nan("")}) {
    CAPTURE(weight);
    CHECK(mean.add(std::vector<float>{1, 1, 1}, weight).code() == StatusCode::invalid_argument);
  }
  CHECK(mean.count() == 1);
  CHECK(mean.total_weight() == 2.0);
  CHECK(mean_of(mean) == std::vector<float>{2, 4, 6});
}

TEST_CASE("streaming mean: norm bound rejects, clipping scales to the bound") {
  UpdateChecks bound;
  bound.max_l2_norm = 5.0;
  StreamingMean bounded(3, bound);
  CHECK(bounded.add(std::vector<float>{3, 4, 0}, 1.0).ok());  // norm exactly 5
  Status over = bounded.add(std::vector<float>{3, 4, 1}, 1.0);  // norm sqrt(26)
  CHECK(over.code() == StatusCode::norm_exceeded);
  CHECK(bounded.count() == 1);

  UpdateChecks clip = bound;
  clip.clip_to_norm = true;
  StreamingMean clipped(3, clip);
  REQUIRE(clipped.add(std::vector<float>{6, 8, 0}, 1.0).ok());  // norm 10 -> scaled by 0.5
  REQUIRE(clipped.add(std::vector<float>{1, 0, 0}, 1.0).ok());  // under the bound: unchanged
  // ([3, 4, 0] + [1, 0, 0]) / 2
  CHECK(mean_of(clipped) == std::vector<float>{2, 2, 0});
  CHECK(validate(UpdateChecks{-1.0, false}).code() == StatusCode::invalid_argument);
  CHECK(validate(UpdateChecks{0.0, true}).code() == StatusCode::invalid_argument);
}

TEST_CASE("streaming mean: 100 updates stay within one float rounding of a double reference") {
  const std::size_t size = 20000, updates = 100;
  Rng rng(42);
  StreamingMean mean(size);
  std::vector<double> reference(size, 0.0);
  std::vector<float> delta(size);
  double total = 0.0;
  for (std::size_t n = 0; n < updates; ++n) {
    const double weight = 20 + rng.below(600);  // sample counts
    const double shared = 0.01 * rng.normal();  // updates agree on a direction, plus noise
    for (float& value : delta) value = static_cast<float>(shared + 0.01 * rng.normal());
    REQUIRE(mean.add(delta, weight).ok());
    for (std::size_t i = 0; i < size; ++i) reference[i] += weight * delta[i];
    total += weight;
  }
  std::vector<float> got = mean_of(mean);
  double error = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < size; ++i) {
    const double want = reference[i] / total;
    error += (got[i] - want) * (got[i] - want);
    norm += want * want;
  }
  const double relative = std::sqrt(error / norm);
  MESSAGE("relative L2 error of the streaming mean: ", relative);
  // Rounding the exact mean to float alone gives ~2.5e-8; a plain float32 sum gives 1.6e-7 to 2.5e-7.
  CHECK(relative < 1e-7);
}

TEST_CASE("streaming mean: save and restore continue identically") {
  StreamingMean first(4);
  REQUIRE(first.add(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, 3).ok());
  StrategyState state;
  first.save(state, "round");
  StreamingMean second(4);
  REQUIRE(second.restore(state, "round").ok());
  CHECK(second.count() == 1);
  CHECK(second.total_weight() == 3.0);
  for (StreamingMean* m : {&first, &second}) REQUIRE(m->add(std::vector<float>{1e-3f, 7, -2, 0.5f}, 5).ok());
  CHECK(mean_of(first) == mean_of(second));
  StreamingMean wrong_size(5);
  CHECK(wrong_size.restore(state, "round").code() == StatusCode::shape_mismatch);
  CHECK(wrong_size.restore(state, "other").code() == StatusCode::failed_precondition);
}
