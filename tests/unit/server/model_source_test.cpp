// The server's model from an ONNX graph and its initial weights from a safetensors file.
#include <doctest/doctest.h>

#include <string>

#include "edgefl/io/model_tensors.hpp"
#include "edgefl/io/safetensors.hpp"
#include "server_config.hpp"
#include "temp_dir.hpp"

using edgefl::server::ServerConfig;

namespace {

std::string onnx_fixture(const std::string& name) {
  return std::string(EDGEFL_SOURCE_DIR) + "/tests/unit/onnx/fixtures/" + name;
}

}  // namespace

TEST_CASE("server model: an ONNX model_file gives the layer list, its weights and their names") {
  ServerConfig config;
  config.model_file = onnx_fixture("mlp.onnx");
  config.data = "blobs:6:3";
  REQUIRE(edgefl::server::resolve_model_file(config).ok());
  CHECK(config.model == "mlp:6-8-3:relu");
  CHECK(config.initial_params.size() == 6 * 8 + 8 + 8 * 3 + 3);
  CHECK(config.tensor_names == std::vector<std::string>{"hidden.weight", "hidden.bias", "w", "b"});
  const edgefl::Status valid = edgefl::server::validate_server_config(config);
  CHECK_MESSAGE(valid.ok(), valid.to_string());
}

TEST_CASE("server model: weights replace the ONNX initialisers, matched by the state_dict names") {
  edgefl::testing::TempDir dir;
  ServerConfig config;
  config.model_file = onnx_fixture("mlp.onnx");
  REQUIRE(edgefl::server::resolve_model_file(config).ok());
  auto spec = edgefl::ModelSpec::parse(config.model);
  REQUIRE(spec.ok());
  std::vector<float> trained(config.initial_params.size());
  for (std::size_t i = 0; i < trained.size(); ++i) trained[i] = float(i);
  auto file = edgefl::model_tensors(*spec, trained, config.tensor_names);
  REQUIRE(file.ok());
  std::swap(file->tensors[0], file->tensors[2]);  // the file's order does not matter with names
  REQUIRE(edgefl::write_safetensors(dir.file("w.safetensors"), *file).ok());

  ServerConfig loaded;
  loaded.model_file = onnx_fixture("mlp.onnx");
  loaded.weights = dir.file("w.safetensors");
  REQUIRE(edgefl::server::resolve_model_file(loaded).ok());
  CHECK(loaded.initial_params == trained);

  file->tensors[0].shape = {4, 6};  // "w" is [8, 3] (the MatMul's [in, out])
  REQUIRE(edgefl::write_safetensors(dir.file("bad.safetensors"), *file).ok());
  ServerConfig bad;
  bad.model_file = onnx_fixture("mlp.onnx");
  bad.weights = dir.file("bad.safetensors");
  const edgefl::Status status = edgefl::server::resolve_model_file(bad);
  CHECK(status.code() == edgefl::StatusCode::shape_mismatch);
  CHECK(status.message().find("tensor 'w' has shape [4, 6], but layer 2 (dense 3) needs [3, 8]") !=
        std::string::npos);
}

TEST_CASE("server model: a spec's weights by position, and an ONNX file that is not one") {
  edgefl::testing::TempDir dir;
  ServerConfig config;
  config.model = "mlp:2-3-2:relu";
  auto spec = edgefl::ModelSpec::parse(config.model);
  REQUIRE(spec.ok());
  std::vector<float> values(spec->parameter_count(), 0.25f);
  const std::vector<std::string> names = {"a.weight", "a.bias", "b.weight", "b.bias"};
  auto file = edgefl::model_tensors(*spec, values, names);
  REQUIRE(file.ok());
  REQUIRE(edgefl::write_safetensors(dir.file("w.safetensors"), *file).ok());
  config.weights = dir.file("w.safetensors");
  REQUIRE(edgefl::server::resolve_model_file(config).ok());
  CHECK(config.initial_params == values);
  CHECK(config.tensor_names == names);

  ServerConfig not_onnx;
  not_onnx.model_file = onnx_fixture("mlp.io.safetensors") + ".onnx";
  CHECK(edgefl::server::resolve_model_file(not_onnx).code() == edgefl::StatusCode::not_found);
  ServerConfig format;
  format.data = "none";
  format.export_model.format = "pickle";
  CHECK(edgefl::server::validate_server_config(format).message() ==
        "export.format: model format 'pickle' is not safetensors or onnx");
}
