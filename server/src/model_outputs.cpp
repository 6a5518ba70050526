#include "model_outputs.hpp"

#include <algorithm>

#include "edgefl/io/model_tensors.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/nn/network.hpp"

namespace edgefl::server {

Result<std::vector<float>> model_outputs(const ModelSpec& spec, std::span<const float> params,
                                         std::span<const float> samples, std::size_t count,
                                         bool hwc) {
  const std::size_t width = spec.input_size(), outputs = spec.output_size();
  if (samples.size() != count * width) {
    return make_status(StatusCode::shape_mismatch, std::to_string(samples.size()) +
                                                       " values are not " + std::to_string(count) +
                                                       " samples of " + std::to_string(width));
  }
  constexpr std::size_t kBatch = 64;
  Result<std::unique_ptr<ComputeContext>> compute = ComputeContext::create(Backend::reference);
  if (!compute) return compute.status();
  Result<std::unique_ptr<Network>> net =
      Network::create(spec, **compute, {.max_micro_batch = kBatch});
  if (!net) return net.status();
  const std::vector<std::size_t> order = nchw_flatten_order(spec.input);
  std::vector<float> result(count * outputs);
  for (std::size_t first = 0; first < count; first += kBatch) {
    const std::size_t batch = std::min(kBatch, count - first);
    float* x = (*net)->input();
    for (std::size_t s = 0; s < batch; ++s) {
      const float* sample = samples.data() + (first + s) * width;
      for (std::size_t r = 0; r < width; ++r)
        x[r * batch + s] = sample[hwc ? r : order[r]];  // feature-major
      (*net)->targets()[s] = 0.0f;
    }
    Result<BatchStats> stats = (*net)->forward(params, batch);
    if (!stats) return stats.status();
    const float* y = (*net)->logits();
    for (std::size_t s = 0; s < batch; ++s)
      for (std::size_t k = 0; k < outputs; ++k)
        result[(first + s) * outputs + k] = y[k * batch + s];
  }
  return result;
}

}  // namespace edgefl::server
