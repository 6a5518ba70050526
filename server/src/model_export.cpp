#include "model_export.hpp"

#include <sys/stat.h>

#include <cstdio>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/config/option_table.hpp"
#include "edgefl/io/model_tensors.hpp"
#include "edgefl/io/safetensors.hpp"
#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "model_weights.hpp"

namespace edgefl::server {

namespace {

constexpr uint64_t kMaxCheckpointBytes = uint64_t{1} << 31;

std::string checkpoint_file(const std::string& path) {
  struct stat info {};
  const bool directory = stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
  return directory ? path + "/checkpoint.bin" : path;
}

}  // namespace

Result<CheckpointModel> read_checkpoint_model(const std::string& checkpoint) {
  const std::string path = checkpoint_file(checkpoint);
  Result<std::vector<std::byte>> bytes = read_file(path, kMaxCheckpointBytes);
  if (!bytes) return bytes.status();
  AlignedBytes scratch;
  Result<Checkpoint> decoded = decode_checkpoint(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()),
      scratch);
  if (!decoded) return decoded.status().with_context(path);
  Result<ModelSpec> spec = ModelSpec::parse(decoded->model_spec);
  if (!spec) return spec.status().with_context(path);
  CheckpointModel model{*spec, std::vector<float>(spec->parameter_count()), decoded->model_version,
                        decoded->round};
  EDGEFL_RETURN_IF_ERROR(decode_into(decoded->params, model.params).with_context(path));
  return model;
}

Result<ExportSummary> export_checkpoint(const ExportOptions& options) {
  Result<ModelFormat> format = parse_model_format(options.format);
  if (!format) return format.status();
  if (options.checkpoint.empty() || options.out.empty()) {
    return make_status(StatusCode::invalid_argument, "export needs --checkpoint and --out");
  }
  Result<CheckpointModel> model = read_checkpoint_model(options.checkpoint);
  if (!model) return model.status();
  std::vector<std::string> names;
  if (!options.names_from.empty()) {
    Result<LoadedWeights> named = load_weights(options.names_from, model->spec);
    if (!named) return named.status().with_context("--names-from");
    names = std::move(named->names);
  }
  EDGEFL_RETURN_IF_ERROR(
      write_model_file(*format, options.out, model->spec, model->params, names,
                       {{"edgefl.model_version", std::to_string(model->model_version)},
                        {"edgefl.round", std::to_string(model->round)}}));
  return ExportSummary{model->spec.to_string(), model->model_version,
                       torch_layouts(model->spec).size()};
}

int run_export_command(int argc, const char* const* argv) {
  ExportOptions options;
  OptionTable table;
  table.add("checkpoint", &options.checkpoint,
            "server state directory (or checkpoint file) to export");
  table.add("format", &options.format, "output format: safetensors | onnx");
  table.add("out", &options.out, "file to write");
  table.add("names_from", &options.names_from,
            "safetensors file whose tensor names to use (the weights the run started from)");
  std::string help;
  Status parsed = table.parse_command_line(
      argc, argv, "edgefl-server export",
      "edgefl-server export: the global model of a checkpoint as a file", &help);
  if (parsed.code() == StatusCode::cancelled) {
    std::printf("%s", help.c_str());
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "edgefl-server export: %s\n", parsed.to_string().c_str());
    return 2;
  }
  Result<ExportSummary> summary = export_checkpoint(options);
  if (!summary) {
    std::fprintf(stderr, "edgefl-server export: %s\n", summary.status().to_string().c_str());
    return summary.status().code() == StatusCode::invalid_argument ? 2 : 1;
  }
  std::fprintf(stderr, "edgefl-server export: wrote %s (%zu tensors of %s, model version %llu)\n",
               options.out.c_str(), summary->tensors, summary->model_spec.c_str(),
               static_cast<unsigned long long>(summary->model_version));
  return 0;
}

}  // namespace edgefl::server
