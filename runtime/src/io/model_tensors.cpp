#include "edgefl/io/model_tensors.hpp"

#include <string>

namespace edgefl {

Result<SafetensorsFile> model_tensors(const ModelSpec& spec, std::span<const float> params) {
  if (params.size() != spec.parameter_count()) {
    return make_status(StatusCode::shape_mismatch, "model '" + spec.to_string() + "' has " +
                                                       std::to_string(spec.parameter_count()) +
                                                       " parameters, not " +
                                                       std::to_string(params.size()));
  }
  SafetensorsFile file;
  file.metadata = {{"format", "pt"}, {"edgefl.model", spec.to_string()}};
  const std::vector<DenseLayout> layouts = spec.dense_layouts();
  for (std::size_t k = 0; k < layouts.size(); ++k) {
    const DenseLayout& layer = layouts[k];
    const std::string prefix =
        "layers." + std::to_string(2 * k) + ".";  // a ReLU module between Dense ones
    auto slice = [&params](std::size_t offset, std::size_t count) {
      const std::span<const float> values = params.subspan(offset, count);
      return std::vector<float>(values.begin(), values.end());
    };
    file.tensors.push_back({prefix + "weight",
                            {layer.outputs, layer.inputs},
                            slice(layer.weight_offset, layer.outputs * layer.inputs)});
    if (layer.has_bias)
      file.tensors.push_back(
          {prefix + "bias", {layer.outputs}, slice(layer.bias_offset, layer.outputs)});
  }
  // Names exist for Dense layers only: a model with other parameters must not lose them silently.
  std::size_t named = 0;
  for (const ShapedTensor& tensor : file.tensors) named += tensor.values.size();
  if (named != params.size()) {
    return make_status(
        StatusCode::failed_precondition,
        "model '" + spec.to_string() + "': only its Dense layers' parameters have names to export");
  }
  return file;
}

}  // namespace edgefl
