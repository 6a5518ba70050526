// edgefl-server export: a checkpoint's model written as safetensors, and what it refuses.
#include <doctest/doctest.h>

#include <cstring>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/io/model_tensors.hpp"
#include "edgefl/io/safetensors.hpp"
#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "model_export.hpp"
#include "onnx_model.hpp"
#include "temp_dir.hpp"

using edgefl::server::ExportOptions;

namespace {

void write_checkpoint(const std::string& path, const std::string& spec_text,
                      const std::vector<float>& params) {
  edgefl::Checkpoint checkpoint;
  checkpoint.round = checkpoint.model_version = 4;
  checkpoint.model_spec = spec_text;
  checkpoint.params = edgefl::f32_tensor(params);
  auto bytes = edgefl::encode_checkpoint(checkpoint);
  REQUIRE(bytes.ok());
  REQUIRE(edgefl::atomic_write_file(path, std::as_bytes(std::span<const uint8_t>(*bytes))).ok());
}

ExportOptions options(const std::string& checkpoint, const std::string& out,
                      const std::string& format = "safetensors") {
  ExportOptions o;
  o.checkpoint = checkpoint;
  o.out = out;
  o.format = format;
  return o;
}

}  // namespace

TEST_CASE(
    "model export: a state directory's checkpoint becomes a safetensors file of its parameters") {
  edgefl::testing::TempDir dir;
  auto spec = edgefl::ModelSpec::parse("mlp:6-5-3:relu");
  REQUIRE(spec.ok());
  std::vector<float> params(spec->parameter_count());
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = 0.01f * float(i) - 0.3f;
  write_checkpoint(dir.file("checkpoint.bin"), spec->to_string(), params);

  auto summary = edgefl::server::export_checkpoint(options(dir.path(), dir.file("m.safetensors")));
  REQUIRE(summary.ok());
  CHECK(summary->tensors == 4);
  CHECK(summary->model_version == 4);
  auto file = edgefl::read_safetensors(dir.file("m.safetensors"));
  REQUIRE(file.ok());
  std::vector<float> flat(params.size());
  for (const auto& layout : spec->dense_layouts()) {
    for (const auto& tensor : file->tensors) {
      const bool weight = tensor.name.ends_with("weight") && tensor.shape[1] == layout.inputs;
      const bool bias = tensor.name.ends_with("bias") && tensor.shape[0] == layout.outputs;
      if (weight)
        std::memcpy(flat.data() + layout.weight_offset, tensor.values.data(),
                    tensor.values.size() * 4);
      if (bias)
        std::memcpy(flat.data() + layout.bias_offset, tensor.values.data(),
                    tensor.values.size() * 4);
    }
  }
  CHECK(flat == params);
  bool has_version = false;
  for (const auto& [key, value] : file->metadata)
    has_version |= key == "edgefl.model_version" && value == "4";
  CHECK(has_version);
}

TEST_CASE("model export: an unknown format, a missing or damaged checkpoint are named") {
  edgefl::testing::TempDir dir;
  auto format = edgefl::server::export_checkpoint(options(dir.path(), dir.file("m"), "keras"));
  REQUIRE_FALSE(format.ok());
  CHECK(format.status().message() == "model format 'keras' is not safetensors or onnx");
  auto missing = edgefl::server::export_checkpoint(options(dir.path(), dir.file("m")));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == edgefl::StatusCode::not_found);

  write_checkpoint(dir.file("checkpoint.bin"), "linear:3-1", {1, 2, 3});
  auto bytes = edgefl::read_file(dir.file("checkpoint.bin"), 1 << 20);
  REQUIRE(bytes.ok());
  (*bytes)[bytes->size() / 2] ^= std::byte{1};
  REQUIRE(edgefl::atomic_write_file(dir.file("checkpoint.bin"), *bytes).ok());
  auto damaged =
      edgefl::server::export_checkpoint(options(dir.file("checkpoint.bin"), dir.file("m")));
  REQUIRE_FALSE(damaged.ok());
  CHECK(damaged.status().message().find("checkpoint.bin") != std::string::npos);
}

TEST_CASE("model export: ONNX with the names of the weights the run started from") {
  edgefl::testing::TempDir dir;
  auto spec = edgefl::ModelSpec::parse("in:5x5x2 conv3x3x3 relu maxpool2 flatten dense2");
  REQUIRE(spec.ok());
  std::vector<float> params(spec->parameter_count());
  for (std::size_t i = 0; i < params.size(); ++i) params[i] = 0.02f * float(i % 13) - 0.1f;
  write_checkpoint(dir.file("checkpoint.bin"), spec->to_string(), params);
  const std::vector<std::string> names = {"conv.weight", "conv.bias", "fc.weight", "fc.bias"};
  auto initial = edgefl::model_tensors(*spec, std::vector<float>(params.size(), 0.0f), names);
  REQUIRE(initial.ok());
  REQUIRE(edgefl::write_safetensors(dir.file("init.safetensors"), *initial).ok());

  ExportOptions o = options(dir.path(), dir.file("m.onnx"), "onnx");
  o.names_from = dir.file("init.safetensors");
  auto summary = edgefl::server::export_checkpoint(o);
  REQUIRE_MESSAGE(summary.ok(), summary.status().to_string());
  auto back = edgefl::onnx_io::read_onnx(dir.file("m.onnx"));
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(back->spec == *spec);
  CHECK(back->params == params);
  CHECK(back->tensor_names == names);

  o.names_from = dir.file("checkpoint.bin");
  auto wrong = edgefl::server::export_checkpoint(o);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().message().find("--names-from") != std::string::npos);
}
