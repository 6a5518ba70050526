// One ONNX file per input. The importer returns a status or a model whose weights fill its
// spec; what it imports, the exporter writes and the importer reads back to the same model.
#include <cstdlib>
#include <span>

#include "fuzz_entry.hpp"
#include "onnx_model.hpp"

namespace edgefl::fuzz {

int run_one(const uint8_t* data, std::size_t size) {
  Result<onnx_io::ImportedModel> model =
      onnx_io::import_onnx(std::span<const uint8_t>(data, size), "input.onnx");
  if (!model.ok()) {
    if (model.status().code() == StatusCode::ok) std::abort();
    return 0;
  }
  if (model->params.size() != model->spec.parameter_count()) std::abort();
  Result<std::string> again = onnx_io::export_onnx(model->spec, model->params, model->tensor_names);
  if (!again.ok()) std::abort();
  Result<onnx_io::ImportedModel> back = onnx_io::import_onnx(
      std::span(reinterpret_cast<const uint8_t*>(again->data()), again->size()), "again");
  if (!back.ok() || back->params != model->params || back->tensor_names != model->tensor_names)
    std::abort();
  return 0;
}

}  // namespace edgefl::fuzz
