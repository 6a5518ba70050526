// `edgefl-server export`: the global model of a checkpoint as a file other tools read.
//
//   edgefl-server export --checkpoint STATE_DIR --format safetensors --out model.safetensors
//   edgefl-server export --checkpoint STATE_DIR --format onnx --out model.onnx --names-from
//   init.safetensors
//
// `checkpoint` is a server state directory (its checkpoint.bin) or a checkpoint file. The
// model is the checkpoint's: the global model after its last closed round. Tensor names follow
// edgefl/io/model_tensors.hpp (layers.i.weight, ...) unless `names_from` names a safetensors
// file of the model's tensors (the weights the run started from): then its names, matched as
// load_weights matches them. The safetensors metadata adds the round and model version; the
// ONNX graph is server/onnx/onnx_model.hpp's inference graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "edgefl/base/model_spec.hpp"

#include "edgefl/base/status.hpp"

namespace edgefl::server {

struct ExportOptions {
  std::string checkpoint;
  std::string format = "safetensors";  // or onnx
  std::string out;
  std::string names_from;
};

struct ExportSummary {
  std::string model_spec;
  uint64_t model_version = 0;
  std::size_t tensors = 0;
};

// The global model of a state directory or checkpoint file; errors name the file.
struct CheckpointModel {
  ModelSpec spec;
  std::vector<float> params;
  uint64_t model_version = 0;
  uint64_t round = 0;
};
Result<CheckpointModel> read_checkpoint_model(const std::string& checkpoint);

Result<ExportSummary> export_checkpoint(const ExportOptions& options);

// The subcommand's whole command line (argv[0] is "export"): flags, --help, exit status
// 0 written, 1 failed, 2 bad flags.
int run_export_command(int argc, const char* const* argv);

}  // namespace edgefl::server
