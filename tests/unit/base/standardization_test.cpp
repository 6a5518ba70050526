// Chan's merge of feature moments against a two-pass oracle in long double.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "edgefl/base/standardization.hpp"

namespace edgefl {
namespace {

// Rows of `dim` features: feature j ~ offset_j + scale_j * N(0, 1).
std::vector<std::vector<double>> rows(std::size_t n, std::size_t dim, double offset,
                                      uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> out(n, std::vector<double>(dim));
  for (auto& row : out) {
    for (std::size_t j = 0; j < dim; ++j) row[j] = offset * (j + 1) + (0.5 + j) * normal(rng);
  }
  return out;
}

// Welford over the rows: what a device computes.
FeatureMoments welford(const std::vector<std::vector<double>>& data) {
  FeatureMoments m;
  m.mean.assign(data.at(0).size(), 0.0);
  m.m2.assign(data.at(0).size(), 0.0);
  for (const auto& row : data) {
    ++m.count;
    for (std::size_t j = 0; j < row.size(); ++j) {
      const double delta = row[j] - m.mean[j];
      m.mean[j] += delta / static_cast<double>(m.count);
      m.m2[j] += delta * (row[j] - m.mean[j]);
    }
  }
  return m;
}

struct Oracle {
  std::vector<long double> mean, m2;
};

// Two passes in long double: the mean first, then the squared deviations from it.
Oracle two_pass(const std::vector<std::vector<std::vector<double>>>& parts) {
  const std::size_t dim = parts.at(0).at(0).size();
  Oracle o{std::vector<long double>(dim, 0), std::vector<long double>(dim, 0)};
  long double n = 0;
  for (const auto& part : parts) {
    for (const auto& row : part) {
      n += 1;
      for (std::size_t j = 0; j < dim; ++j) o.mean[j] += row[j];
    }
  }
  for (auto& mean : o.mean) mean /= n;
  for (const auto& part : parts) {
    for (const auto& row : part) {
      for (std::size_t j = 0; j < dim; ++j) o.m2[j] += (row[j] - o.mean[j]) * (row[j] - o.mean[j]);
    }
  }
  return o;
}

double relative(long double got, long double want) {
  return static_cast<double>(std::fabs(got - want) /
                             std::max<long double>(std::fabs(want), 1e-300L));
}

TEST_CASE(
    "standardization: Chan's merge of three parts equals the two-pass moments of all the data") {
  const auto a = rows(37, 3, 1.0, 1), b = rows(200, 3, 1.0, 2), c = rows(5, 3, 1.0, 3);
  FeatureMoments total;
  for (const auto* part : {&a, &b, &c}) REQUIRE(merge_moments(total, welford(*part)).ok());
  const Oracle o = two_pass({a, b, c});
  CHECK(total.count == 242);
  for (std::size_t j = 0; j < 3; ++j) {
    CHECK(relative(total.mean[j], o.mean[j]) < 1e-12);
    CHECK(relative(total.m2[j], o.m2[j]) < 1e-12);
  }
}

TEST_CASE(
    "standardization: data far from zero keeps its precision, where sums of squares lose it") {
  // Feature j around (j + 1) * 1e8 with a spread of ~1: the naive variance
  // (sum x^2 - n mean^2) / n cancels 16 digits of 1e16 and keeps none of the spread.
  const auto a = rows(1000, 2, 1e8, 4), b = rows(3000, 2, 1e8, 5), c = rows(17, 2, 1e8, 6);
  FeatureMoments total;
  for (const auto* part : {&a, &b, &c}) REQUIRE(merge_moments(total, welford(*part)).ok());
  const Oracle o = two_pass({a, b, c});
  double naive_error = 0;
  for (std::size_t j = 0; j < 2; ++j) {
    CHECK(relative(total.mean[j], o.mean[j]) < 1e-14);
    CHECK(relative(total.m2[j], o.m2[j]) < 1e-6);
    double sum = 0, squares = 0;
    for (const auto* part : {&a, &b, &c}) {
      for (const auto& row : *part) {
        sum += row[j];
        squares += row[j] * row[j];
      }
    }
    const double n = static_cast<double>(total.count);
    naive_error = std::max(naive_error, relative(squares - sum * sum / n, o.m2[j]));
  }
  CHECK(naive_error > 1e-2);  // the oracle is sharp enough to tell the two apart
}

TEST_CASE("standardization: the merge is deterministic and nearly order-free") {
  const auto a = rows(10, 4, 3.0, 7), b = rows(90, 4, 3.0, 8), c = rows(400, 4, 3.0, 9);
  FeatureMoments abc, cba, again;
  for (const auto* part : {&a, &b, &c}) REQUIRE(merge_moments(abc, welford(*part)).ok());
  for (const auto* part : {&c, &b, &a}) REQUIRE(merge_moments(cba, welford(*part)).ok());
  for (const auto* part : {&a, &b, &c}) REQUIRE(merge_moments(again, welford(*part)).ok());
  CHECK(abc == again);
  for (std::size_t j = 0; j < 4; ++j) {
    CHECK(relative(abc.mean[j], cba.mean[j]) < 1e-14);
    CHECK(relative(abc.m2[j], cba.m2[j]) < 1e-12);
  }
}

TEST_CASE("standardization: pooled features are the moments of every value of every feature") {
  const auto a = rows(50, 3, 2.0, 10);
  const FeatureMoments pooled = pool_features(welford(a));
  std::vector<std::vector<double>> values;
  for (const auto& row : a) {
    for (double x : row) values.push_back({x});
  }
  const Oracle o = two_pass({values});
  REQUIRE(pooled.mean.size() == 1);
  CHECK(pooled.count == 150);
  CHECK(relative(pooled.mean[0], o.mean[0]) < 1e-12);
  CHECK(relative(pooled.m2[0], o.m2[0]) < 1e-12);
}

TEST_CASE("standardization: population deviation, and a constant feature is centred, not scaled") {
  const FeatureMoments m{4, {2.0, 5.0, 1.0}, {16.0, 0.0, 4e-14}};
  const Standardization s = standardization_of(m, 1e-6);
  CHECK(s.mean == std::vector<double>{2.0, 5.0, 1.0});
  CHECK(s.deviation[0] == doctest::Approx(2.0));  // sqrt(16 / 4)
  CHECK(s.deviation[1] == 1.0);                   // zero variance
  CHECK(s.deviation[2] == 1.0);                   // 1e-7: below the floor
  CHECK(check_standardization(s, 3).ok());
}

TEST_CASE("standardization: moments no data can have are refused, naming the problem") {
  FeatureMoments good{3, {1.0, 2.0}, {0.5, 0.5}};
  FeatureMoments total;
  REQUIRE(merge_moments(total, good).ok());

  FeatureMoments nan = good;
  nan.mean[1] = std::nan("");
  Status s = merge_moments(total, nan);
  CHECK(s.code() == StatusCode::non_finite);
  CHECK(s.message().find("feature 1") != std::string::npos);

  FeatureMoments negative = good;
  negative.m2[0] = -1;
  CHECK(merge_moments(total, negative).code() == StatusCode::out_of_range);

  FeatureMoments empty = good;
  empty.count = 0;
  CHECK(merge_moments(total, empty).code() == StatusCode::out_of_range);

  FeatureMoments wider{3, {1.0, 2.0, 3.0}, {0.5, 0.5, 0.5}};
  CHECK(merge_moments(total, wider).code() == StatusCode::shape_mismatch);

  FeatureMoments huge{UINT64_MAX, {1.0, 2.0}, {0.5, 0.5}};
  CHECK(merge_moments(total, huge).code() == StatusCode::too_large);
  CHECK(total == good);  // nothing refused changed the total
}

TEST_CASE("standardization: a standardisation must fit the data and divide by something positive") {
  CHECK(check_standardization({{1.0}, {2.0}}, 784).ok());  // one pair for every feature
  CHECK(check_standardization({{1.0, 2.0}, {2.0, 3.0}}, 2).ok());
  CHECK(check_standardization({{1.0, 2.0}, {2.0}}, 2).code() == StatusCode::shape_mismatch);
  CHECK(check_standardization({{1.0, 2.0}, {2.0, 2.0}}, 3).code() == StatusCode::shape_mismatch);
  CHECK(check_standardization({{1.0}, {0.0}}, 3).code() == StatusCode::out_of_range);
  CHECK(check_standardization({{INFINITY}, {1.0}}, 3).code() == StatusCode::non_finite);
}

}  // namespace
}  // namespace edgefl
