// The Local-GD bench's references against cases solved by hand.
#include <doctest/doctest.h>

#include "linear_references.hpp"

namespace edgefl::sim {
namespace {

TEST_CASE("svm reference: the hard-margin direction of a hand-solved set and its one support vector") {
  // Through the origin: min |w| with 2a >= 1, a >= 1 (from -(-a)), 3a + b >= 1 gives w = (1, 0);
  // only (-1, 0) sits on the margin.
  const LinearData data{3, 2, {2, 0, -1, 0, 3, 1}, {1, -1, 1}};
  Result<std::vector<double>> w = svm_direction(data);
  REQUIRE(w.ok());
  CHECK((*w)[0] == doctest::Approx(1.0).epsilon(1e-6));
  CHECK((*w)[1] == doctest::Approx(0.0).epsilon(1e-6));
  CHECK(support_vectors(data, *w) == 1);
  CHECK(normalised_margin(data, *w) == doctest::Approx(1.0).epsilon(1e-6));
  // Labels no plane through the origin separates: refused, not looped on.
  const LinearData mixed{2, 1, {1, 2}, {1, -1}};
  CHECK(svm_direction(mixed).status().code() == StatusCode::failed_precondition);
}

TEST_CASE("interpolator reference: the minimum-norm solution of one equation in two unknowns") {
  const LinearData data{1, 2, {1, 1}, {2}};  // x1 + x2 = 2: the shortest solution is (1, 1)
  Result<std::vector<double>> w = min_norm_interpolator(data);
  REQUIRE(w.ok());
  CHECK((*w)[0] == doctest::Approx(1.0));
  CHECK((*w)[1] == doctest::Approx(1.0));
  CHECK(lambda_max(data) == doctest::Approx(2.0).epsilon(1e-6));
}

}  // namespace
}  // namespace edgefl::sim
