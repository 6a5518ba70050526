#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgefl/aggregate/update_checks.hpp"
#include "edgefl/base/rng.hpp"

using edgefl::StatusCode;
using edgefl::UpdateChecks;

namespace {

// The norm as check_update defines it: squares summed in order in double, then sqrt.
double serial_norm(const std::vector<float>& delta) {
  double squared = 0.0;
  for (float value : delta) squared += static_cast<double>(value) * value;
  return std::sqrt(squared);
}

}  // namespace

TEST_CASE("update checks: bounds next to the norm decide as the serial norm does") {
  edgefl::Rng rng(41);
  for (std::size_t size :
       {std::size_t{7}, std::size_t{1000}, std::size_t{4096 + 13}, std::size_t{100000}}) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<float> delta(size);
      const double magnitude = std::ldexp(1.0, static_cast<int>(rng.below(40)) - 20);
      for (float& value : delta)
        value = static_cast<float>(magnitude * rng.normal() * (1 + rng.below(1000)));
      const double norm = serial_norm(delta);
      for (double bound :
           {norm, std::nextafter(norm, 0.0), std::nextafter(std::nextafter(norm, 0.0), 0.0),
            std::nextafter(norm, INFINITY), norm * (1 - 1e-13), norm * (1 + 1e-13), norm / 2,
            norm * 2}) {
        INFO("size " << size << " norm " << norm << " bound " << bound);
        edgefl::Result<double> rejecting =
            edgefl::check_update(delta, size, UpdateChecks{.max_l2_norm = bound});
        if (norm <= bound) {
          REQUIRE(rejecting.ok());
          CHECK(*rejecting == 1.0);
        } else {
          REQUIRE(rejecting.status().code() == StatusCode::norm_exceeded);
        }
        edgefl::Result<double> clipping = edgefl::check_update(
            delta, size, UpdateChecks{.max_l2_norm = bound, .clip_to_norm = true});
        REQUIRE(clipping.ok());
        CHECK(*clipping == (norm <= bound ? 1.0 : bound / norm));
      }
    }
  }
}

TEST_CASE("update checks: a non-finite value anywhere is named, with or without a bound") {
  for (double bound : {0.0, 1e30}) {
    for (std::size_t at : {std::size_t{0}, std::size_t{1023}, std::size_t{1024}, std::size_t{5000},
                           std::size_t{5006}}) {
      std::vector<float> delta(5007, 0.5f);
      delta[at] = at % 2 == 0 ? NAN : -INFINITY;
      edgefl::Result<double> checked =
          edgefl::check_update(delta, delta.size(), UpdateChecks{.max_l2_norm = bound});
      REQUIRE(checked.status().code() == StatusCode::non_finite);
      CHECK(checked.status().message().find("update value " + std::to_string(at) + " ") !=
            std::string::npos);
    }
  }
  CHECK(edgefl::check_update(std::vector<float>(5007, 0.5f), 5007, UpdateChecks{}).ok());
  CHECK(edgefl::check_update(std::vector<float>(3), 4, UpdateChecks{}).status().code() ==
        StatusCode::shape_mismatch);
}
