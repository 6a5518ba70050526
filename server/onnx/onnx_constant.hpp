// Constant tensors of an ONNX graph (initialisers, Constant nodes, folded shape arithmetic).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

#include "edgefl/base/status.hpp"

namespace edgefl::onnx_io {

// The batch dimension inside folded shape arithmetic: known only when the model runs.
inline constexpr int64_t kBatchDim = INT64_MIN;

struct Constant {
  std::vector<int64_t> dims;
  bool integer = false;
  std::vector<float> floats;  // when !integer
  std::vector<int64_t> ints;  // when integer; may hold kBatchDim
  std::size_t size() const { return integer ? ints.size() : floats.size(); }
};

// FLOAT and INT64 (INT32 widened) tensors, from raw_data or the typed fields; others,
// external data and sizes that disagree with dims are refused naming the tensor.
Result<Constant> read_constant(const onnx::TensorProto& tensor);

}  // namespace edgefl::onnx_io
