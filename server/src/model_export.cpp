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

namespace edgefl::server {

namespace {

constexpr uint64_t kMaxCheckpointBytes = uint64_t{1} << 31;

std::string checkpoint_file(const std::string& path) {
  struct stat info {};
  const bool directory = stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
  return directory ? path + "/checkpoint.bin" : path;
}

}  // namespace

Result<ExportSummary> export_checkpoint(const ExportOptions& options) {
  if (options.format != "safetensors") {
    return make_status(StatusCode::invalid_argument,
                       "export format '" + options.format + "' is not safetensors");
  }
  if (options.checkpoint.empty() || options.out.empty()) {
    return make_status(StatusCode::invalid_argument, "export needs --checkpoint and --out");
  }
  const std::string path = checkpoint_file(options.checkpoint);
  Result<std::vector<std::byte>> bytes = read_file(path, kMaxCheckpointBytes);
  if (!bytes) return bytes.status();
  AlignedBytes scratch;
  Result<Checkpoint> checkpoint = decode_checkpoint(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()),
      scratch);
  if (!checkpoint) return checkpoint.status().with_context(path);
  Result<ModelSpec> spec = ModelSpec::parse(checkpoint->model_spec);
  if (!spec) return spec.status().with_context(path);
  FloatBuffer params(spec->parameter_count());
  EDGEFL_RETURN_IF_ERROR(decode_into(checkpoint->params, params.span()).with_context(path));

  Result<SafetensorsFile> file = model_tensors(*spec, params.span());
  if (!file) return file.status();
  file->metadata.emplace_back("edgefl.model_version", std::to_string(checkpoint->model_version));
  file->metadata.emplace_back("edgefl.round", std::to_string(checkpoint->round));
  EDGEFL_RETURN_IF_ERROR(write_safetensors(options.out, *file));
  return ExportSummary{spec->to_string(), checkpoint->model_version, file->tensors.size()};
}

int run_export_command(int argc, const char* const* argv) {
  ExportOptions options;
  OptionTable table;
  table.add("checkpoint", &options.checkpoint,
            "server state directory (or checkpoint file) to export");
  table.add("format", &options.format, "output format: safetensors");
  table.add("out", &options.out, "file to write");
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
