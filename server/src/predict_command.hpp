// `edgefl-server predict`: a model's outputs for samples in a file, to check a model against
// another framework's.
//
//   edgefl-server predict --checkpoint STATE_DIR --input x.safetensors --out y.safetensors
//   edgefl-server predict --model-file cnn.onnx [--weights w.safetensors] --input x.safetensors
//   --out y.safetensors
//
// The model: a checkpoint's global model, an ONNX graph with its initialisers, or a spec
// (--model) — each with --weights overriding the weights (edgefl-server's `weights`). The input
// file's tensor "input" (or its only tensor) holds N samples in PyTorch's layout, [N, C, H, W]
// or [N, D]; the output file holds "output" [N, outputs], before any softmax.
#pragma once

namespace edgefl::server {

// argv[0] is "predict". Exit status 0 written, 1 failed, 2 bad flags.
int run_predict_command(int argc, const char* const* argv);

}  // namespace edgefl::server
