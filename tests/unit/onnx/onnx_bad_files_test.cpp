// ONNX files edgefl cannot run are refused with the node, its operator and what is supported.
#include <doctest/doctest.h>

#include <onnx/onnx_pb.h>

#include <string>

#include "edgefl/store/atomic_file.hpp"
#include "onnx_model.hpp"

namespace {

namespace onnx_io = edgefl::onnx_io;

std::string fixture_bytes(const std::string& name) {
  auto bytes = edgefl::read_file(std::string(EDGEFL_ONNX_FIXTURES) + "/" + name, 1 << 20);
  REQUIRE(bytes.ok());
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

edgefl::Status import_error(const std::string& bytes) {
  auto imported = onnx_io::import_onnx(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "x.onnx");
  REQUIRE_FALSE(imported.ok());
  return imported.status();
}

edgefl::Status import_error(const onnx::ModelProto& model) {
  std::string bytes;
  REQUIRE(model.SerializeToString(&bytes));
  return import_error(bytes);
}

bool mentions(const edgefl::Status& status, const std::string& text) {
  const bool found = status.message().find(text) != std::string::npos;
  if (!found) MESSAGE(status.to_string());
  return found;
}

onnx::ModelProto fixture_model(const std::string& name) {
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(fixture_bytes(name)));
  return model;
}

onnx::AttributeProto& attribute(onnx::NodeProto& node, const std::string& name) {
  for (onnx::AttributeProto& a : *node.mutable_attribute())
    if (a.name() == name) return a;
  onnx::AttributeProto& a = *node.add_attribute();
  a.set_name(name);
  return a;
}

}  // namespace

TEST_CASE("onnx bad files: corrupt or truncated protobuf is refused, never a crash") {
  const std::string good = fixture_bytes("cnn.onnx");
  CHECK(import_error("this is not a protobuf").code() == edgefl::StatusCode::corrupt);
  for (std::size_t cut : {good.size() / 3, good.size() / 2, good.size() - 5}) {
    CAPTURE(cut);
    auto imported = onnx_io::import_onnx(
        std::span(reinterpret_cast<const uint8_t*>(good.data()), cut), "cut.onnx");
    CHECK_FALSE(imported.ok());
  }
  std::string flipped = good;
  for (std::size_t i = 0; i < flipped.size(); i += 97)
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  auto imported = onnx_io::import_onnx(
      std::span(reinterpret_cast<const uint8_t*>(flipped.data()), flipped.size()), "f");
  CHECK_FALSE(imported.ok());
  CHECK(onnx_io::read_onnx("/nonexistent/model.onnx").status().code() ==
        edgefl::StatusCode::not_found);
}

TEST_CASE("onnx bad files: an unsupported operator is named with its node and the supported list") {
  onnx::ModelProto model = fixture_model("mlp.onnx");
  model.mutable_graph()->mutable_node(1)->set_op_type("Sigmoid");
  const std::string name = model.graph().node(1).name();
  const edgefl::Status status = import_error(model);
  CHECK(status.code() == edgefl::StatusCode::invalid_argument);
  CHECK(mentions(status,
                 "x.onnx: node '" + name + "' (Sigmoid): operator not supported; supported: Conv"));
}

TEST_CASE("onnx bad files: attributes the runtime has no layer for are refused") {
  onnx::ModelProto model = fixture_model("mlp.onnx");
  attribute(*model.mutable_graph()->mutable_node(0), "alpha").set_f(2.0f);  // the Gemm
  CHECK(mentions(import_error(model), "(Gemm): only alpha 1, beta 1 and transA 0"));

  model = fixture_model("cnn.onnx");
  attribute(*model.mutable_graph()->mutable_node(0), "strides")
      .mutable_ints()
      ->Set(0, 2);  // pads 1 on 10: not 'same'
  CHECK(mentions(import_error(model),
                 "(Conv): pads [1, 1, 1, 1] on a 10x10x2 input are neither none nor 'same'"));

  model = fixture_model("cnn.onnx");
  attribute(*model.mutable_graph()->mutable_node(2), "ceil_mode").set_i(1);  // the MaxPool
  CHECK(mentions(import_error(model), "(MaxPool): ceil_mode 1"));

  model = fixture_model("cnn.onnx");
  attribute(*model.mutable_graph()->mutable_node(0), "auto_pad").set_s("SAME_LOWER");
  CHECK(mentions(import_error(model), "auto_pad SAME_LOWER is not supported"));

  model = fixture_model("cnn.onnx");
  attribute(*model.mutable_graph()->mutable_node(0), "mystery").set_i(1);
  CHECK(mentions(import_error(model),
                 "(Conv): attribute 'mystery' is not supported (supported: kernel_shape, strides, "
                 "pads, dilations, group, auto_pad)"));
}

TEST_CASE("onnx bad files: weights two layers share are refused") {
  auto spec = edgefl::ModelSpec::parse("in:4 dense4 relu dense4");
  REQUIRE(spec.ok());
  auto bytes =
      onnx_io::export_onnx(*spec, std::vector<float>(spec->parameter_count(), 0.5f),
                           std::vector<std::string>{"a.weight", "a.bias", "b.weight", "b.bias"});
  REQUIRE(bytes.ok());
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(*bytes));
  onnx::NodeProto& second = *model.mutable_graph()->mutable_node(2);
  REQUIRE(second.op_type() == "Gemm");
  second.set_input(1, "a.weight");
  CHECK(mentions(import_error(model), "initialiser 'a.weight' is the weights of two layers"));
}

TEST_CASE("onnx bad files: weights of the wrong type or size, a branch, a wrong opset") {
  onnx::ModelProto model = fixture_model("mlp.onnx");
  model.mutable_graph()->mutable_initializer(0)->set_data_type(onnx::TensorProto::DOUBLE);
  CHECK(mentions(import_error(model), "data type 11 is not supported"));

  model = fixture_model("mlp.onnx");
  model.mutable_graph()->mutable_initializer(0)->mutable_raw_data()->resize(12);
  CHECK(mentions(import_error(model), "raw data size does not match its shape"));

  model = fixture_model("mlp.onnx");
  model.mutable_graph()->mutable_node(2)->set_input(0,
                                                    "input");  // MatMul reads the graph input again
  CHECK(mentions(import_error(model), "only chains of layers are supported"));

  model = fixture_model("mlp.onnx");
  model.mutable_opset_import(0)->set_version(9);
  CHECK(import_error(model).code() == edgefl::StatusCode::version_mismatch);
}
