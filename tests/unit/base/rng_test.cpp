#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgefl/base/rng.hpp"

using edgefl::Rng;

TEST_CASE("rng: same seed gives the same stream, another seed another") {
  Rng a(42), b(42), c(43);
  bool any_difference = false;
  for (int i = 0; i < 100; ++i) {
    uint32_t x = a.next_u32();
    CHECK(x == b.next_u32());
    any_difference |= (x != c.next_u32());
  }
  CHECK(any_difference);
}

TEST_CASE("rng: the stream is fixed across platforms") {
  // Pinned values: a change here breaks reproducibility between devices and the server.
  Rng rng(2024);
  std::vector<uint32_t> first = {rng.next_u32(), rng.next_u32(), rng.next_u32()};
  Rng again(2024);
  CHECK(first == std::vector<uint32_t>{again.next_u32(), again.next_u32(), again.next_u32()});
  CHECK(edgefl::splitmix64(0) == 0xE220A8397B1DCDAFull);
}

TEST_CASE("rng: uniform, below, normal and gamma have the right moments") {
  Rng rng(7);
  const int n = 200000;
  double sum_u = 0, sum_n = 0, sum_n2 = 0, sum_g = 0;
  int counts[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < n; ++i) {
    float u = rng.uniform();
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    sum_u += u;
    counts[rng.below(5)]++;
    double z = rng.normal();
    sum_n += z;
    sum_n2 += z * z;
    sum_g += rng.gamma(0.5);
  }
  CHECK(sum_u / n == doctest::Approx(0.5).epsilon(0.01));
  for (int k : counts) CHECK(k == doctest::Approx(n / 5.0).epsilon(0.02));
  CHECK(std::abs(sum_n / n) < 0.01);
  CHECK(sum_n2 / n == doctest::Approx(1.0).epsilon(0.02));
  CHECK(sum_g / n == doctest::Approx(0.5).epsilon(0.03));  // E[Gamma(k,1)] = k
}
