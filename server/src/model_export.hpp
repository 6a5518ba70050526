// `edgefl-server export`: the global model of a checkpoint as a file other tools read.
//
//   edgefl-server export --checkpoint STATE_DIR --format safetensors --out model.safetensors
//
// `checkpoint` is a server state directory (its checkpoint.bin) or a checkpoint file. The
// model is the checkpoint's: the global model after its last closed round. Tensor names follow
// edgefl/io/model_tensors.hpp; the metadata adds the round and model version.
#pragma once

#include <cstdint>
#include <string>

#include "edgefl/base/status.hpp"

namespace edgefl::server {

struct ExportOptions {
  std::string checkpoint;
  std::string format = "safetensors";
  std::string out;
};

struct ExportSummary {
  std::string model_spec;
  uint64_t model_version = 0;
  std::size_t tensors = 0;
};

Result<ExportSummary> export_checkpoint(const ExportOptions& options);

// The subcommand's whole command line (argv[0] is "export"): flags, --help, exit status
// 0 written, 1 failed, 2 bad flags.
int run_export_command(int argc, const char* const* argv);

}  // namespace edgefl::server
