#include "model_weights.hpp"

#include "edgefl/io/model_tensors.hpp"
#include "edgefl/io/safetensors.hpp"
#include "onnx_model.hpp"

namespace edgefl::server {

Result<ModelFormat> parse_model_format(std::string_view name) {
  if (name == "safetensors") return ModelFormat::safetensors;
  if (name == "onnx") return ModelFormat::onnx;
  return make_status(StatusCode::invalid_argument,
                     "model format '" + std::string(name) + "' is not safetensors or onnx");
}

std::string_view model_format_extension(ModelFormat format) {
  return format == ModelFormat::onnx ? ".onnx" : ".safetensors";
}

Result<LoadedWeights> load_weights(const std::string& path, const ModelSpec& spec,
                                   std::span<const std::string> names) {
  Result<SafetensorsFile> file = read_safetensors(path);
  if (!file) return file.status();
  const std::vector<std::string> defaults = default_tensor_names(spec);
  if (names.empty()) names = defaults;
  Result<std::vector<ShapedTensor>> tensors = select_model_tensors(std::move(*file), names, path);
  if (!tensors) return tensors.status();
  LoadedWeights loaded{std::vector<float>(spec.parameter_count()), {}};
  EDGEFL_RETURN_IF_ERROR(params_from_tensors(spec, *tensors, loaded.params).with_context(path));
  for (const ShapedTensor& t : *tensors) loaded.names.push_back(t.name);
  return loaded;
}

Status write_model_file(ModelFormat format, const std::string& path, const ModelSpec& spec,
                        std::span<const float> params, std::span<const std::string> names,
                        std::vector<std::pair<std::string, std::string>> metadata) {
  if (format == ModelFormat::onnx) return onnx_io::write_onnx(path, spec, params, names);
  Result<SafetensorsFile> file = model_tensors(spec, params, names);
  if (!file) return file.status();
  for (auto& entry : metadata) file->metadata.push_back(std::move(entry));
  return write_safetensors(path, *file);
}

}  // namespace edgefl::server
