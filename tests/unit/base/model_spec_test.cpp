#include <doctest/doctest.h>

#include "edgefl/base/model_spec.hpp"

using edgefl::ModelSpec;

TEST_CASE("model spec: the Fashion-MNIST MLP has 235146 parameters and a fixed layout") {
  auto spec = ModelSpec::parse("mlp:784-256-128-10:relu");
  REQUIRE(spec.ok());
  CHECK(spec->parameter_count() == 235146);
  CHECK(spec->input_size() == 784);
  CHECK(spec->output_size() == 10);
  auto layouts = spec->dense_layouts();
  REQUIRE(layouts.size() == 3);
  CHECK(layouts[0].weight_offset == 0);
  CHECK(layouts[0].bias_offset == 784 * 256);
  CHECK(layouts[1].weight_offset == 784 * 256 + 256);
  CHECK(layouts[2].bias_offset + layouts[2].outputs == spec->parameter_count());
}

TEST_CASE("model spec: text round-trips and the activation is optional") {
  auto spec = ModelSpec::parse("mlp:4-3-2");
  REQUIRE(spec.ok());
  CHECK(spec->to_string() == "mlp:4-3-2:relu");
  auto again = ModelSpec::parse(spec->to_string());
  REQUIRE(again.ok());
  CHECK(*again == *spec);
}

TEST_CASE("model spec: linear models have no bias and choose their loss") {
  auto squared = ModelSpec::parse("linear:1000-1");
  REQUIRE(squared.ok());
  CHECK(squared->parameter_count() == 1000);
  CHECK(squared->loss == edgefl::LossKind::squared);
  auto logistic = ModelSpec::parse("linear:50-1:logistic");
  REQUIRE(logistic.ok());
  CHECK(logistic->loss == edgefl::LossKind::logistic);
  CHECK(logistic->to_string() == "linear:50-1:logistic");
}

TEST_CASE("model spec: bad text is refused with a message naming the problem") {
  struct Case {
    const char* text;
    const char* fragment;
  };
  const Case cases[] = {
      {"", "expected kind"},
      {"cnn:1-2", "unknown model kind 'cnn'"},
      {"mlp:784-x-10", "width 'x'"},
      {"mlp:784--10", "width ''"},
      {"mlp:784-0-10", "width '0'"},
      {"mlp:784", "at least an input and an output"},
      {"mlp:784-10:tanh", "unknown activation 'tanh'"},
      {"mlp:784-1", "at least 2 outputs"},
      {"linear:10-2", "linear:D-1"},
      {"linear:10-1:hinge", "unknown loss 'hinge'"},
      {"mlp:1048576-1048576-10", "parameters"},
      {"mlp:99999999999999999999-10", "width"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto spec = ModelSpec::parse(c.text);
    REQUIRE_FALSE(spec.ok());
    CHECK(spec.status().code() == edgefl::StatusCode::invalid_argument);
    CHECK(spec.status().message().find(c.fragment) != std::string::npos);
  }
}
