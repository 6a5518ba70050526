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

TEST_CASE("model tensors: conv weights are OIHW and a Dense after flatten reads C,H,W columns") {
  auto spec = ModelSpec::parse("in:2x3x2 conv1x1x2 relu flatten dense1,nobias loss:squared");
  REQUIRE(spec.ok());
  std::vector<float> params(spec->parameter_count());
  std::iota(params.begin(), params.end(), 0.0f);
  auto file = edgefl::model_tensors(*spec, params);
  REQUIRE(file.ok());
  REQUIRE(file->tensors.size() == 3);
  CHECK(file->tensors[0].name == "layers.0.weight");
  CHECK(file->tensors[0].shape == std::vector<uint64_t>{2, 2, 1, 1});
  CHECK(file->tensors[0].values == std::vector<float>{0, 1, 2, 3});  // OHWI == OIHW for 1x1
  CHECK(file->tensors[2].name == "layers.3.weight");
  CHECK(file->tensors[2].shape == std::vector<uint64_t>{1, 12});
  // Runtime column (y * 3 + x) * 2 + c holds 6 + that index; PyTorch's column c * 6 + y * 3 + x.
  CHECK(file->tensors[2].values == std::vector<float>{6, 8, 10, 12, 14, 16, 7, 9, 11, 13, 15, 17});

  std::vector<float> back(params.size(), -1.0f);
  REQUIRE(edgefl::params_from_tensors(*spec, file->tensors, back).ok());
  CHECK(back == params);
}

TEST_CASE(
    "model tensors: loading refuses a shape that does not fit, naming tensor, layer and shapes") {
  auto spec = ModelSpec::parse("in:4x4x1 conv3x3x2 flatten dense3");
  REQUIRE(spec.ok());
  std::vector<float> params(spec->parameter_count(), 0.5f);
  auto file = edgefl::model_tensors(*spec, params);
  REQUIRE(file.ok());
  file->tensors[0].shape = {2, 1, 9};
  auto status = edgefl::params_from_tensors(*spec, file->tensors, params);
  CHECK(status.code() == edgefl::StatusCode::shape_mismatch);
  CHECK(status.message() ==
        "tensor 'layers.0.weight' has shape [2, 1, 9], but layer 0 (conv2d 3x3, 2 filters, padding "
        "same) needs [2, 1, 3, 3]");
  file->tensors.pop_back();
  CHECK(edgefl::params_from_tensors(*spec, file->tensors, params).code() ==
        edgefl::StatusCode::shape_mismatch);
}

TEST_CASE("model tensors: a file's tensors are matched by name when all are there, else in order") {
  edgefl::SafetensorsFile file;
  file.tensors = {{"fc.bias", {2}, {1, 2}}, {"fc.weight", {2, 1}, {3, 4}}};
  const std::vector<std::string> names = {"fc.weight", "fc.bias"};
  auto by_name = edgefl::select_model_tensors(file, names, "f");
  REQUIRE(by_name.ok());
  CHECK((*by_name)[0].name == "fc.weight");
  const std::vector<std::string> others = {"onnx::Gemm_7", "onnx::Gemm_8"};
  auto in_order = edgefl::select_model_tensors(file, others, "f");
  REQUIRE(in_order.ok());
  CHECK((*in_order)[0].name == "fc.bias");
  auto too_few =
      edgefl::select_model_tensors(file, std::vector<std::string>{"a", "b", "c"}, "w.safetensors");
  CHECK(too_few.status().message() == "w.safetensors: 2 tensors, but the model has 3");
}
