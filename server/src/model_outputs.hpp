// A model's outputs for samples laid out as PyTorch holds them: what `edgefl-server predict`
// prints and what the ONNX tests compare with torch's.
//
//   Result<std::vector<float>> y = model_outputs(spec, params, x, 256);   // x: [256][C][H][W]
//   (*y)[s * spec.output_size() + k];                                        // sample s, output k
#pragma once

#include <span>
#include <vector>

#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::server {

// samples: count samples of spec.input_size() floats each, C,H,W order (the runtime's H,W,C
// when hwc is true). The reference backend, in batches of 64. Outputs [count][outputs].
Result<std::vector<float>> model_outputs(const ModelSpec& spec, std::span<const float> params,
                                         std::span<const float> samples, std::size_t count,
                                         bool hwc = false);

}  // namespace edgefl::server
