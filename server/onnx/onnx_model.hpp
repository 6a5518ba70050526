// ONNX models in and out of edgefl: a graph as torch.onnx.export writes it becomes the runtime's
// layer list and initial weights; a model goes out as an inference graph with NCHW input.
//
//   Result<edgefl::onnx_io::ImportedModel> m = edgefl::onnx_io::read_onnx("cnn.onnx");
//   m->spec.to_string();     // "in:28x28x1 conv3x3x8 relu maxpool2 flatten dense10"
//   m->params;               // the initialisers, in the runtime's layouts (docs/models.md)
//   m->tensor_names;         // "conv1.weight", ...: one per parameter tensor
//   edgefl::onnx_io::write_onnx("out.onnx", m->spec, params, m->tensor_names);
//
// The graph must be a chain: every node reads the output of the one before (and constants).
// Supported operators (default domain, opsets 11 to 18): see kSupportedOps. NCHW tensors become
// HWC activations; Conv weights OIHW become OHWI; a Gemm or MatMul after a flatten of an HxWxC
// activation has its input columns reordered from C,H,W to H,W,C (edgefl/io/model_tensors.hpp).
// Anything else, and any attribute value the runtime has no layer for, is refused naming the
// node, its operator and what is supported. The input must be [N, C, H, W] or [N, D].
//
// Export writes opset 14, IR version 7: Conv, Relu, Clip, MaxPool, AveragePool
// (count_include_pad 0: the runtime leaves padding out of the mean), GlobalAveragePool,
// Flatten, Gemm (transB 1); dropout layers are left out (inference). The initialisers carry the
// given names and PyTorch's layouts, so they equal a state_dict with those names.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::onnx_io {

inline constexpr std::string_view kSupportedOps =
    "Conv (group 1 or depthwise), Gemm, MatMul + Add, Relu, Clip(0, 6), MaxPool, AveragePool, Pad "
    "(all zero, as torch emits before AveragePool), GlobalAveragePool, Flatten, Reshape to [N, "
    "-1], "
    "Dropout (inference), Identity, Constant, and Shape/Gather/Unsqueeze/Concat on constants";
inline constexpr uint64_t kMaxOnnxBytes = uint64_t{1} << 30;

struct ImportedModel {
  ModelSpec spec;
  std::vector<float> params;              // spec.parameter_count() floats
  std::vector<std::string> tensor_names;  // initialiser name per tensor (torch_layouts order)
};

// `origin` names the bytes in errors. Loss softmax cross-entropy, init he_uniform.
Result<ImportedModel> import_onnx(std::span<const uint8_t> bytes, std::string_view origin);
Result<ImportedModel> read_onnx(const std::string& path);

// The serialised ModelProto. names: one per parameter tensor (empty: layers.i.weight, ...).
Result<std::string> export_onnx(const ModelSpec& spec, std::span<const float> params,
                                std::span<const std::string> names = {});
// Written atomically.
Status write_onnx(const std::string& path, const ModelSpec& spec, std::span<const float> params,
                  std::span<const std::string> names = {});

}  // namespace edgefl::onnx_io
