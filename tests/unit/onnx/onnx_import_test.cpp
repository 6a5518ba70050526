// The committed torch exports (fixtures/make_fixtures.py) import to the layer lists they
// describe and reproduce torch's outputs for their fixed inputs.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "edgefl/io/safetensors.hpp"
#include "model_outputs.hpp"
#include "onnx_model.hpp"

namespace {

std::string fixture(const std::string& name) {
  return std::string(EDGEFL_ONNX_FIXTURES) + "/" + name;
}

// The largest |edgefl - torch| over a sample's outputs, relative to the sample's largest output.
double worst_relative_error(const edgefl::onnx_io::ImportedModel& model, const std::string& name) {
  auto io = edgefl::read_safetensors(fixture(name + ".io.safetensors"));
  REQUIRE(io.ok());
  const edgefl::ShapedTensor& x = io->tensors[0];
  const edgefl::ShapedTensor& y = io->tensors[1];
  auto outputs = edgefl::server::model_outputs(model.spec, model.params, x.values, x.shape[0]);
  REQUIRE(outputs.ok());
  REQUIRE(outputs->size() == y.values.size());
  const std::size_t width = y.shape[1];
  double worst = 0;
  for (std::size_t s = 0; s < y.shape[0]; ++s) {
    double scale = 0, error = 0;
    for (std::size_t k = s * width; k < (s + 1) * width; ++k) {
      scale = std::max(scale, std::fabs(double(y.values[k])));
      error = std::max(error, std::fabs(double((*outputs)[k]) - y.values[k]));
    }
    worst = std::max(worst, error / scale);
  }
  MESSAGE(name << ": worst relative error " << worst);
  return worst;
}

}  // namespace

TEST_CASE("onnx import: torch's MLP (Gemm, then MatMul + Add) reproduces torch's outputs") {
  auto model = edgefl::onnx_io::read_onnx(fixture("mlp.onnx"));
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  CHECK(model->spec.to_string() == "mlp:6-8-3:relu");
  CHECK(model->tensor_names == std::vector<std::string>{"hidden.weight", "hidden.bias", "w", "b"});
  CHECK(worst_relative_error(*model, "mlp") < 1e-5);
}

TEST_CASE(
    "onnx import: a CNN with max pooling, ReLU6 and x.view(x.size(0), -1) reproduces torch's "
    "outputs") {
  auto model = edgefl::onnx_io::read_onnx(fixture("cnn.onnx"));
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  CHECK(model->spec.to_string() ==
        "in:10x10x2 conv3x3x4 relu maxpool2 conv3x3x6,valid relu relu6 flatten dense5 loss:xent");
  CHECK(model->tensor_names.front() == "conv1.weight");
  CHECK(worst_relative_error(*model, "cnn") < 1e-5);
}

TEST_CASE(
    "onnx import: stride 2, average pooling after torch's zero Pad, depthwise and global pooling") {
  auto model = edgefl::onnx_io::read_onnx(fixture("pool.onnx"));
  REQUIRE_MESSAGE(model.ok(), model.status().to_string());
  CHECK(model->spec.to_string() ==
        "in:13x13x3 conv3x3x8,s2,valid relu avgpool2 dwconv3x3 gap flatten dense4 loss:xent");
  CHECK(worst_relative_error(*model, "pool") < 1e-5);
}
