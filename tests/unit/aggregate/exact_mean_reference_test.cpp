// The fast ExactMean against the first implementation (exact_mean_reference.hpp): the same
// 128-bit sums, bit for bit, and the same refusals, on random bit patterns over every float
// exponent and on values chosen to sit on each rounding and capacity edge.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "edgefl/aggregate/exact_mean.hpp"
#include "edgefl/base/rng.hpp"
#include "exact_mean_reference.hpp"

using edgefl::ExactMean;
using edgefl::StatusCode;

namespace {

constexpr double kMaxTerm = 0x1p48;

// Adds the same update to both and requires the same answer and the same sums.
void add_both(ExactMean& fast, edgefl::reference::ExactMean& reference,
              const std::vector<float>& delta, uint64_t weight) {
  const edgefl::Status fast_status = fast.add(delta, weight);
  const edgefl::Status reference_status = reference.add(delta, weight);
  REQUIRE(fast_status.code() == reference_status.code());
  for (std::size_t i = 0; i < fast.size(); ++i) {
    INFO("parameter " << i << " value " << (i < delta.size() ? delta[i] : 0.0f) << " weight "
                      << weight);
    const ExactMean::Sum got = fast.sum_at(i);
    const ExactMean::Sum want = reference.sum_at(i);
    CHECK(got.high == want.high);
    REQUIRE(got.low == want.low);
  }
}

void require_same_mean(const ExactMean& fast, const edgefl::reference::ExactMean& reference) {
  std::vector<float> got(fast.size());
  std::vector<float> want(fast.size());
  REQUIRE(fast.mean_into(got).ok());
  REQUIRE(reference.mean_into(want).ok());
  REQUIRE(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0);
}

// A float with a random sign, a uniformly random exponent field (denormals and zero included)
// and a random mantissa, redrawn while weight * |value| would reach the per-term limit.
float random_value(edgefl::Rng& rng, uint64_t weight) {
  for (;;) {
    const uint32_t bits = (rng.next_u32() & 0x807fffffu) | (rng.below(255) << 23);
    const float value = std::bit_cast<float>(bits);
    if (static_cast<double>(weight) * std::fabs(value) < kMaxTerm) return value;
  }
}

// Values that sit on the edges of the fixed-point split for `weight`: zeros, denormals, ties
// of both roundings, the 2^-7 and 2^-6 boundaries, and the largest terms below the limit.
std::vector<float> edge_values(uint64_t weight) {
  std::vector<float> values = {0.0f,
                               -0.0f,
                               std::numeric_limits<float>::denorm_min(),
                               -std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::min(),
                               -std::numeric_limits<float>::min(),
                               0x1.fffffcp-127f,
                               -0x1.fffffcp-127f};
  const double w = static_cast<double>(weight);
  for (int k = 0; k < 24; ++k) {
    const float odd = static_cast<float>(2 * k + 1);
    values.push_back(std::ldexp(odd, -60));  // negative: |t| * 2^59 a tie when weight is 1
    values.push_back(-std::ldexp(odd, -60));
    values.push_back(std::ldexp(odd, -71));  // positive: t * 2^70 a tie when weight is 1
    values.push_back(-std::ldexp(odd, -71));
  }
  for (double edge : {0x1p-7, 0x1p-6, 0x1p-17, 0x1p-18, 0x1p-59, 0x1p-70, 0x1p-71, kMaxTerm}) {
    float value = static_cast<float>(edge / w);
    for (int step = 0; step < 3; ++step) value = std::nextafter(value, 0.0f);
    for (int step = 0; step < 6; ++step) {
      if (w * value < kMaxTerm) {
        values.push_back(value);
        values.push_back(-value);
      }
      value = std::nextafter(value, INFINITY);
    }
  }
  return values;
}

}  // namespace

TEST_CASE("fast exact mean: random bit patterns over every exponent match the reference") {
  edgefl::Rng rng(77);
  const std::size_t size = 3 * 1024 + 37;  // whole vector chunks and a tail
  ExactMean fast(size);
  edgefl::reference::ExactMean reference(size);
  const std::vector<uint64_t> weights = {1, 2, 3, 600, 59999, (uint64_t{1} << 29) - 1, 12345677};
  for (uint64_t weight : weights) {
    std::vector<float> delta(size);
    for (float& value : delta) value = random_value(rng, weight);
    add_both(fast, reference, delta, weight);
  }
  require_same_mean(fast, reference);
}

TEST_CASE("fast exact mean: edge values match the reference in every arrival order") {
  const std::vector<uint64_t> weights = {1, 3, 1000, (uint64_t{1} << 29) - 1};
  std::vector<std::vector<float>> updates;
  std::size_t size = 0;
  for (uint64_t weight : weights) {
    updates.push_back(edge_values(weight));
    size = std::max(size, updates.back().size());
  }
  for (auto& update : updates) update.resize(size, 0.0f);
  std::vector<std::size_t> order(updates.size());
  std::iota(order.begin(), order.end(), 0);
  edgefl::reference::ExactMean in_order(size);
  for (std::size_t i : order) REQUIRE(in_order.add(updates[i], weights[i]).ok());
  do {
    ExactMean fast(size);
    edgefl::reference::ExactMean reference(size);
    for (std::size_t i : order) add_both(fast, reference, updates[i], weights[i]);
    for (std::size_t j = 0; j < size; ++j) REQUIRE(fast.sum_at(j) == in_order.sum_at(j));
    require_same_mean(fast, reference);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_CASE(
    "fast exact mean: clipped updates, with factors down to denormal terms, match the reference") {
  edgefl::Rng rng(3);
  const std::size_t size = 1024 + 5;
  for (double bound : {1.0, 1e-3, 1e-30, 1e-44}) {
    const edgefl::UpdateChecks checks{.max_l2_norm = bound, .clip_to_norm = true};
    ExactMean fast(size, checks);
    edgefl::reference::ExactMean reference(size, checks);
    for (uint64_t weight : {uint64_t{7}, uint64_t{600}, uint64_t{99991}}) {
      std::vector<float> delta(size);
      for (float& value : delta)
        value =
            static_cast<float>(rng.normal() * std::ldexp(1.0, -static_cast<int>(rng.below(40))));
      add_both(fast, reference, delta, weight);
    }
    require_same_mean(fast, reference);
  }
}

TEST_CASE("fast exact mean: many updates of mixed magnitudes match the reference") {
  edgefl::Rng rng(19);
  const std::size_t size = 64;
  ExactMean fast(size);
  edgefl::reference::ExactMean reference(size);
  for (int update = 0; update < 2000; ++update) {
    std::vector<float> delta(size);
    for (float& value : delta)
      value =
          static_cast<float>(rng.normal() * std::ldexp(1.0, static_cast<int>(rng.below(80)) - 70));
    add_both(fast, reference, delta, 1 + rng.below(100000));
  }
  require_same_mean(fast, reference);
}

TEST_CASE(
    "fast exact mean: a term at the limit is refused like the reference and leaves the sum "
    "unchanged") {
  const std::size_t size = 4096;
  edgefl::Rng rng(8);
  for (uint64_t weight : {uint64_t{1}, uint64_t{3}, uint64_t{1000}}) {
    ExactMean fast(size);
    edgefl::reference::ExactMean reference(size);
    std::vector<float> delta(size);
    for (float& value : delta) value = random_value(rng, weight);
    add_both(fast, reference, delta, weight);
    // The smallest float whose term reaches 2^48, late in the update: the values before it
    // were already added when it is seen, and must be taken out again.
    float limit = static_cast<float>(kMaxTerm / static_cast<double>(weight));
    while (static_cast<double>(weight) * limit < kMaxTerm) limit = std::nextafter(limit, INFINITY);
    while (static_cast<double>(weight) * std::nextafter(limit, 0.0f) >= kMaxTerm)
      limit = std::nextafter(limit, 0.0f);
    for (float sign : {1.0f, -1.0f}) {
      std::vector<float> bad = delta;
      bad[3000] = sign * limit;
      CHECK(fast.add(bad, weight).code() == StatusCode::out_of_range);
      bad[3000] = sign * std::nextafter(limit, 0.0f);
      add_both(fast, reference, bad, weight);  // just below the limit: accepted by both
    }
    require_same_mean(fast, reference);
  }
}

TEST_CASE(
    "fast exact mean: 512 maximal terms fit, the 513th is refused and leaves the sum unchanged") {
  const float maximal = 0x1.fffffep47f;  // (2^24 - 1) * 2^24, the largest float below 2^48
  for (float sign : {1.0f, -1.0f}) {
    ExactMean fast(2);
    edgefl::reference::ExactMean reference(2);
    const std::vector<float> delta = {sign * maximal, -sign * 0x1p-30f};
    for (int n = 0; n < 512; ++n) add_both(fast, reference, delta, 1);
    const ExactMean::Sum before = fast.sum_at(0);
    const edgefl::Status refused = fast.add(delta, 1);
    CHECK(refused.code() == StatusCode::out_of_range);
    CHECK(refused.message().find("capacity") != std::string::npos);
    CHECK(fast.sum_at(0) == before);
    CHECK(fast.sum_at(1) == reference.sum_at(1));
    CHECK(fast.count() == 512);
    require_same_mean(fast, reference);
  }
}

TEST_CASE(
    "fast exact mean: NaN or Inf is refused as non_finite like the reference, the sum unchanged") {
  const std::size_t size = 4096;
  edgefl::Rng rng(12);
  for (const edgefl::UpdateChecks& checks :
       {edgefl::UpdateChecks{}, edgefl::UpdateChecks{.max_l2_norm = 1e30}}) {
    ExactMean fast(size, checks);
    edgefl::reference::ExactMean reference(size, checks);
    std::vector<float> delta(size);
    for (float& value : delta) value = static_cast<float>(rng.normal());
    add_both(fast, reference, delta, 17);
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      std::vector<float> with_bad = delta;
      with_bad[3000] = bad;
      const edgefl::Status refused = fast.add(with_bad, 17);
      CHECK(refused.code() == StatusCode::non_finite);
      CHECK(refused.message().find("3000") != std::string::npos);
      CHECK(reference.add(with_bad, 17).code() == StatusCode::non_finite);
      for (std::size_t i = 0; i < size; ++i) REQUIRE(fast.sum_at(i) == reference.sum_at(i));
    }
    CHECK(fast.add(std::vector<float>(size - 1), 1).code() == StatusCode::shape_mismatch);
    require_same_mean(fast, reference);
  }
}
