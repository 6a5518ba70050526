#include "predict_command.hpp"

#include <cstdio>
#include <string>

#include "edgefl/config/option_table.hpp"
#include "edgefl/io/safetensors.hpp"
#include "model_export.hpp"
#include "model_outputs.hpp"
#include "model_weights.hpp"
#include "server_config.hpp"

namespace edgefl::server {

namespace {

struct PredictOptions {
  std::string checkpoint, model, model_file, weights, input, out;
};

Result<CheckpointModel> chosen_model(const PredictOptions& o) {
  if (!o.checkpoint.empty()) {
    Result<CheckpointModel> model = read_checkpoint_model(o.checkpoint);
    if (!model || o.weights.empty()) return model;
    Result<LoadedWeights> loaded = load_weights(o.weights, model->spec);
    if (!loaded) return loaded.status();
    model->params = std::move(loaded->params);
    return model;
  }
  ServerConfig config;  // the server's own reading of model, model_file and weights
  config.model = o.model;
  config.model_file = o.model_file;
  config.weights = o.weights;
  EDGEFL_RETURN_IF_ERROR(resolve_model_file(config));
  Result<ModelSpec> spec = ModelSpec::parse(config.model);
  if (!spec) return spec.status();
  if (config.initial_params.empty()) {
    return make_status(StatusCode::invalid_argument,
                       "a model spec needs --weights (or use --model-file x.onnx)");
  }
  return CheckpointModel{*spec, std::move(config.initial_params), 0, 0};
}

Status predict(const PredictOptions& o) {
  if (o.input.empty() || o.out.empty())
    return make_status(StatusCode::invalid_argument, "predict needs --input and --out");
  if (o.checkpoint.empty() == (o.model.empty() && o.model_file.empty())) {
    return make_status(StatusCode::invalid_argument,
                       "predict needs --checkpoint or --model / --model-file");
  }
  Result<CheckpointModel> model = chosen_model(o);
  if (!model) return model.status();
  Result<SafetensorsFile> input = read_safetensors(o.input);
  if (!input) return input.status();
  const ShapedTensor* x = input->tensors.size() == 1 ? &input->tensors[0] : nullptr;
  for (const ShapedTensor& t : input->tensors)
    if (t.name == "input") x = &t;
  if (x == nullptr || x->shape.empty()) {
    return make_status(StatusCode::not_found,
                       o.input + ": no tensor 'input' (nor a single tensor) of samples");
  }
  const std::size_t count = x->shape[0];
  Result<std::vector<float>> y = model_outputs(model->spec, model->params, x->values, count);
  if (!y) return y.status().with_context(o.input + ": model '" + model->spec.to_string() + "'");
  SafetensorsFile out;
  out.tensors.push_back({"output", {count, model->spec.output_size()}, std::move(*y)});
  out.metadata = {{"edgefl.model", model->spec.to_string()}};
  return write_safetensors(o.out, out);
}

}  // namespace

int run_predict_command(int argc, const char* const* argv) {
  PredictOptions options;
  OptionTable table;
  table.add("checkpoint", &options.checkpoint,
            "server state directory (or checkpoint file) of the model");
  table.add("model", &options.model, "model spec (with --weights), or @PATH: a JSON model file");
  table.add("model_file", &options.model_file, "JSON model file or ONNX graph");
  table.add("weights", &options.weights,
            "safetensors weights with PyTorch names (replace the model's)");
  table.add("input", &options.input, "safetensors file: tensor 'input' [N, C, H, W] or [N, D]");
  table.add("out", &options.out, "safetensors file to write: 'output' [N, outputs]");
  std::string help;
  Status parsed = table.parse_command_line(
      argc, argv, "edgefl-server predict",
      "edgefl-server predict: a model's outputs for samples in a file", &help);
  if (parsed.code() == StatusCode::cancelled) {
    std::printf("%s", help.c_str());
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "edgefl-server predict: %s\n", parsed.to_string().c_str());
    return 2;
  }
  Status done = predict(options);
  if (!done.ok()) {
    std::fprintf(stderr, "edgefl-server predict: %s\n", done.to_string().c_str());
    return done.code() == StatusCode::invalid_argument ? 2 : 1;
  }
  return 0;
}

}  // namespace edgefl::server
