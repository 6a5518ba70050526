// Exported ONNX graphs pass ONNX's checker, hold the state_dict as initialisers and import back
// to the same outputs.
#include <doctest/doctest.h>

#include <onnx/checker.h>

#include <numeric>
#include <string>

#include "edgefl/io/model_tensors.hpp"
#include "edgefl/nn/model.hpp"
#include "model_outputs.hpp"
#include "onnx_model.hpp"

namespace {

using edgefl::ModelSpec;
namespace onnx_io = edgefl::onnx_io;

std::string check(const std::string& bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) return "does not parse";
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::vector<float> some_params(const ModelSpec& spec, uint64_t seed) {
  std::vector<float> params(spec.parameter_count());
  REQUIRE(edgefl::init_parameters(spec, params, seed).ok());
  for (std::size_t i = 0; i < params.size(); ++i) params[i] += 0.01f * float(i % 7);  // biases too
  return params;
}

std::vector<float> inputs(const ModelSpec& spec, std::size_t count) {
  std::vector<float> x(count * spec.input_size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 37) % 23) / 11.0f - 1.0f;
  return x;
}

std::vector<float> outputs(const ModelSpec& spec, const std::vector<float>& params,
                           const std::vector<float>& x, std::size_t count) {
  auto y = edgefl::server::model_outputs(spec, params, x, count);
  REQUIRE(y.ok());
  return *y;
}

}  // namespace

TEST_CASE("onnx export: layer lists pass the checker and import back to identical outputs") {
  const char* specs[] = {
      "mlp:7-5-3:relu",
      "in:9x9x2 conv3x3x4,s2 relu6 maxpool3x3,s2,same conv3x3x5,d2 relu flatten dense6 relu "
      "dropout0.5 dense3",
      "in:11x8x3 dwconv3x3,s2 avgpool3x3,s2,same relu conv1x1x4,nobias gap dense2",
      "in:1x16x2 conv1d3x4,s2 relu flatten dense2",
  };
  for (const char* text : specs) {
    CAPTURE(std::string(text));
    auto spec = ModelSpec::parse(text);
    REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
    const std::vector<float> params = some_params(*spec, 5);
    auto bytes = onnx_io::export_onnx(*spec, params);
    REQUIRE(bytes.ok());
    CHECK(check(*bytes) == "");
    auto back = onnx_io::import_onnx(
        std::span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()), text);
    REQUIRE_MESSAGE(back.ok(), back.status().to_string());
    const std::vector<float> x = inputs(*spec, 9);
    CHECK(outputs(back->spec, back->params, x, 9) == outputs(*spec, params, x, 9));
    CHECK(back->tensor_names == edgefl::default_tensor_names(*spec));
  }
}

TEST_CASE("onnx export: initialisers are the state_dict under the given names") {
  auto spec = ModelSpec::parse("in:6x6x1 conv3x3x2 relu flatten dense3");
  REQUIRE(spec.ok());
  std::vector<float> params(spec->parameter_count());
  std::iota(params.begin(), params.end(), 0.0f);
  const std::vector<std::string> names = {"conv.weight", "conv.bias", "fc.weight", "fc.bias"};
  auto bytes = onnx_io::export_onnx(*spec, params, names);
  REQUIRE(bytes.ok());
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(*bytes));
  auto state_dict = edgefl::model_tensors(*spec, params, names);
  REQUIRE(state_dict.ok());
  REQUIRE(model.graph().initializer_size() == 4);
  for (int t = 0; t < 4; ++t) {
    const onnx::TensorProto& init = model.graph().initializer(t);
    const edgefl::ShapedTensor& tensor = state_dict->tensors[static_cast<std::size_t>(t)];
    CHECK(init.name() == tensor.name);
    CHECK(std::vector<uint64_t>(init.dims().begin(), init.dims().end()) == tensor.shape);
    CHECK(init.raw_data() == std::string(reinterpret_cast<const char*>(tensor.values.data()),
                                         tensor.values.size() * 4));
  }
  CHECK(model.graph().input(0).type().tensor_type().shape().dim(1).dim_value() ==
        1);  // NCHW: C first
  auto wrong = onnx_io::export_onnx(*spec, params, std::vector<std::string>{"a"});
  CHECK(wrong.status().code() == edgefl::StatusCode::shape_mismatch);
}
