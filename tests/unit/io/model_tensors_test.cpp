// A model's parameters as PyTorch-named tensors.
#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "edgefl/io/model_tensors.hpp"

using edgefl::ModelSpec;

TEST_CASE(
    "model tensors: an MLP's Dense layers are nn.Sequential modules 0, 2, 4 with weight and bias") {
  auto spec = ModelSpec::parse("mlp:3-4-2:relu");
  REQUIRE(spec.ok());
  std::vector<float> params(spec->parameter_count());
  std::iota(params.begin(), params.end(), 0.0f);
  auto file = edgefl::model_tensors(*spec, params);
  REQUIRE(file.ok());
  REQUIRE(file->tensors.size() == 4);
  const auto layouts = spec->dense_layouts();
  const char* names[] = {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"};
  const std::vector<std::vector<uint64_t>> shapes = {{4, 3}, {4}, {2, 4}, {2}};
  const std::size_t offsets[] = {layouts[0].weight_offset, layouts[0].bias_offset,
                                 layouts[1].weight_offset, layouts[1].bias_offset};
  std::size_t total = 0;
  for (std::size_t t = 0; t < 4; ++t) {
    CAPTURE(t);
    CHECK(file->tensors[t].name == names[t]);
    CHECK(file->tensors[t].shape == shapes[t]);
    CHECK(file->tensors[t].values.front() == float(offsets[t]));
    CHECK(file->tensors[t].values.back() == float(offsets[t] + file->tensors[t].values.size() - 1));
    total += file->tensors[t].values.size();
  }
  CHECK(total == params.size());
  CHECK(file->metadata.back() ==
        std::pair<std::string, std::string>{"edgefl.model", "mlp:3-4-2:relu"});
}

TEST_CASE("model tensors: a linear model has one weight and no bias, a wrong count is refused") {
  auto spec = ModelSpec::parse("linear:5-1");
  REQUIRE(spec.ok());
  auto file = edgefl::model_tensors(*spec, std::vector<float>(5, 1.0f));
  REQUIRE(file.ok());
  REQUIRE(file->tensors.size() == 1);
  CHECK(file->tensors[0].name == "layers.0.weight");
  CHECK(file->tensors[0].shape == std::vector<uint64_t>{1, 5});
  auto wrong = edgefl::model_tensors(*spec, std::vector<float>(4, 1.0f));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == edgefl::StatusCode::shape_mismatch);
}
