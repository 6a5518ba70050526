// A Dataset's moments as loaded, and the standardisation set on it.
#include <doctest/doctest.h>

#include <vector>

#include "edgefl/data/dataset.hpp"

namespace edgefl {
namespace {

TEST_CASE("dataset: feature moments of float and byte data, whatever standardisation is set") {
  Dataset floats = Dataset::from_floats(2, {1, 10, 3, 20, 5, 60}, {0, 1, 0}, 2).value();
  FeatureMoments m = feature_moments(floats);
  CHECK(m.count == 3);
  CHECK(m.mean[0] == doctest::Approx(3.0));
  CHECK(m.mean[1] == doctest::Approx(30.0));
  CHECK(m.m2[0] == doctest::Approx(8.0));
  CHECK(m.m2[1] == doctest::Approx(1400.0));
  REQUIRE(floats.set_standardization({{3.0, 30.0}, {2.0, 10.0}}).ok());
  CHECK(feature_moments(floats) == m);  // of the data as loaded

  Dataset bytes = Dataset::from_bytes(1, {0, 255}, {0, 1}, ByteScaling{}, 2).value();
  FeatureMoments b = feature_moments(bytes);
  CHECK(b.mean[0] == doctest::Approx(0.5));
  CHECK(b.m2[0] == doctest::Approx(0.5));
}

TEST_CASE(
    "dataset: a standardisation changes what training sees, per feature or one pair for all") {
  Dataset d = Dataset::from_floats(2, {1, 10, 3, 20, 5, 60}, {0, 1, 0}, 2).value();
  REQUIRE(d.set_standardization({{3.0, 30.0}, {2.0, 10.0}}).ok());
  CHECK(d.feature(0, 0) == doctest::Approx(-1.0));
  CHECK(d.feature(2, 1) == doctest::Approx(3.0));
  CHECK(d.loaded_feature(2, 1) == 60.0f);
  const std::vector<uint32_t> rows{2, 0};
  std::vector<float> x(4), y(2);
  d.gather_transposed(rows, x.data(), y.data());
  CHECK(x[0] == doctest::Approx(1.0));   // feature 0 of row 2
  CHECK(x[1] == doctest::Approx(-1.0));  // feature 0 of row 0
  CHECK(x[2] == doctest::Approx(3.0));   // feature 1 of row 2
  CHECK(x[3] == doctest::Approx(-2.0));  // feature 1 of row 0

  Dataset selected = d.select(std::vector<uint32_t>{1}).value();
  CHECK(selected.standardization() == d.standardization());
  CHECK(selected.feature(0, 1) == doctest::Approx(-1.0));

  Dataset images = Dataset::from_bytes(2, {0, 255, 255, 0}, {0, 1}, ByteScaling{}, 2).value();
  REQUIRE(images.set_standardization({{0.5}, {0.5}}).ok());
  CHECK(images.feature(0, 0) == doctest::Approx(-1.0));
  CHECK(images.feature(0, 1) == doctest::Approx(1.0));
  REQUIRE(images.set_standardization({}).ok());  // removed: the data as loaded again
  CHECK(images.feature(0, 1) == doctest::Approx(1.0f));
  CHECK(images.feature(0, 0) == 0.0f);
}

TEST_CASE("dataset: a standardisation that does not fit is refused and the old one stays") {
  Dataset d = Dataset::from_floats(2, {1, 10, 3, 20}, {0, 1}, 2).value();
  REQUIRE(d.set_standardization({{1.0}, {2.0}}).ok());
  Status three = d.set_standardization({{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}});
  CHECK(three.code() == StatusCode::shape_mismatch);
  CHECK(three.message().find("3 features for data of 2") != std::string::npos);
  CHECK(d.set_standardization({{1.0, 2.0}, {1.0, 0.0}}).code() == StatusCode::out_of_range);
  CHECK(d.standardization() == Standardization{{1.0}, {2.0}});
  CHECK(d.feature(1, 0) == doctest::Approx(1.0));
}

}  // namespace
}  // namespace edgefl
