#include "edgefl/base/model_spec.hpp"

#include <charconv>

#include "text_parts.hpp"

namespace edgefl {

namespace {

Status invalid(std::string_view text, std::string why) {
  return make_status(StatusCode::invalid_argument,
                     "model spec '" + std::string(text) + "': " + std::move(why));
}

const char* const kBatchNormRefusal =
    "batch normalization is not supported: its running statistics differ across non-IID devices and "
    "do not average; fold it into the convolution before it for an eval-mode export";

bool is_batch_norm(std::string_view name) {
  return name.starts_with("batchnorm") || name.starts_with("batch_norm") || name == "bn";
}

// The MLP and linear shorthands: kind:widths[:option].
Result<ModelSpec> parse_shorthand(std::string_view text) {
  std::vector<std::string_view> parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3) {
    return invalid(text, "expected kind:widths[:option], e.g. mlp:784-256-10:relu, or a layer list starting "
                         "with in:HxWxC");
  }
  const bool mlp = parts[0] == "mlp";
  if (!mlp && parts[0] != "linear") {
    return invalid(text, "unknown model kind '" + std::string(parts[0]) + "' (mlp, linear)");
  }
  std::vector<std::size_t> widths;
  for (std::string_view width_text : split(parts[1], '-')) {
    std::size_t width = 0;
    auto [end, error] = std::from_chars(width_text.data(), width_text.data() + width_text.size(), width);
    if (error != std::errc() || end != width_text.data() + width_text.size() || width == 0) {
      return invalid(text, "width '" + std::string(width_text) + "' is not a positive integer");
    }
    if (width > ModelSpec::kMaxWidth) {
      return invalid(text, "width " + std::to_string(width) + " exceeds " + std::to_string(ModelSpec::kMaxWidth));
    }
    widths.push_back(width);
  }
  if (widths.size() < 2) return invalid(text, "need at least an input and an output width");

  std::string_view option = parts.size() == 3 ? parts[2] : std::string_view();
  LossKind loss = LossKind::softmax_cross_entropy;
  if (mlp) {
    if (!option.empty() && option != "relu") {
      return invalid(text, "unknown activation '" + std::string(option) + "' (relu)");
    }
    if (widths.back() < 2) return invalid(text, "a classifier needs at least 2 outputs");
  } else {
    if (widths.size() != 2 || widths.back() != 1) return invalid(text, "a linear model is linear:D-1");
    if (option == "logistic") {
      loss = LossKind::logistic;
    } else if (!option.empty() && option != "squared") {
      return invalid(text, "unknown loss '" + std::string(option) + "' (squared, logistic)");
    } else {
      loss = LossKind::squared;
    }
  }
  std::vector<LayerSpec> layers;
  for (std::size_t i = 1; i < widths.size(); ++i) {
    if (i > 1) layers.push_back(LayerSpec::of(LayerKind::relu));
    layers.push_back(LayerSpec::dense_layer(widths[i], mlp));
  }
  auto spec = ModelSpec::from_layers(Shape{1, 1, widths[0]}, std::move(layers), loss,
                                     mlp ? InitKind::he_uniform : InitKind::zeros);
  if (!spec) return invalid(text, std::string(spec.status().message()));
  return spec;
}

Result<Shape> parse_input(std::string_view text) {
  const std::vector<std::size_t> dims = parse_sizes(text, ModelSpec::kMaxWidth);
  if (dims.size() == 1) return Shape{1, 1, dims[0]};
  if (dims.size() == 3) return Shape{dims[0], dims[1], dims[2]};
  return make_status(StatusCode::invalid_argument,
                     "input '" + std::string(text) + "' is not HxWxC or D with positive sizes up to " +
                         std::to_string(ModelSpec::kMaxWidth));
}

Result<LossKind> parse_loss(std::string_view name) {
  if (name == "xent" || name == "softmax_cross_entropy") return LossKind::softmax_cross_entropy;
  if (name == "squared") return LossKind::squared;
  if (name == "logistic") return LossKind::logistic;
  return make_status(StatusCode::invalid_argument,
                     "unknown loss '" + std::string(name) + "' (xent, squared, logistic)");
}

Result<InitKind> parse_init(std::string_view name) {
  if (name == "he_uniform") return InitKind::he_uniform;
  if (name == "zeros") return InitKind::zeros;
  return make_status(StatusCode::invalid_argument, "unknown init '" + std::string(name) + "' (he_uniform, zeros)");
}

// "in:28x28x1 conv3x3x8 relu ... loss:xent [init:zeros]".
Result<ModelSpec> parse_layer_list(std::string_view text) {
  std::vector<std::string_view> tokens;
  for (std::string_view token : split(text, ' ')) {
    if (!token.empty()) tokens.push_back(token);
  }
  Result<Shape> input = parse_input(tokens[0].substr(3));
  if (!input) return invalid(text, std::string(input.status().message()));
  std::vector<LayerSpec> layers;
  LossKind loss = LossKind::softmax_cross_entropy;
  InitKind init = InitKind::he_uniform;
  bool seen_loss = false, seen_init = false;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    std::string_view token = tokens[i];
    if (token.starts_with("loss:") || token.starts_with("init:")) {
      // Options come last, once each, so a layer cannot hide after them.
      const bool is_loss = token[0] == 'l';
      bool& seen = is_loss ? seen_loss : seen_init;
      if (seen) return invalid(text, "'" + std::string(token.substr(0, 4)) + "' given twice");
      seen = true;
      if (is_loss) {
        Result<LossKind> parsed = parse_loss(token.substr(5));
        if (!parsed) return invalid(text, std::string(parsed.status().message()));
        loss = *parsed;
      } else {
        Result<InitKind> parsed = parse_init(token.substr(5));
        if (!parsed) return invalid(text, std::string(parsed.status().message()));
        init = *parsed;
      }
      continue;
    }
    if (seen_loss || seen_init) return invalid(text, "layer '" + std::string(token) + "' after loss: or init:");
    if (is_batch_norm(token)) return invalid(text, kBatchNormRefusal);
    if (layers.size() >= ModelSpec::kMaxLayers) {
      return invalid(text, "more than " + std::to_string(ModelSpec::kMaxLayers) + " layers");
    }
    Result<LayerSpec> layer = parse_layer_token(token);
    if (!layer) return invalid(text, std::string(layer.status().message()));
    layers.push_back(*layer);
  }
  auto spec = ModelSpec::from_layers(*input, std::move(layers), loss, init);
  if (!spec) return invalid(text, std::string(spec.status().message()));
  return spec;
}

bool is_mlp(const ModelSpec& s) {
  if (!s.input.flat() || s.loss != LossKind::softmax_cross_entropy || s.init != InitKind::he_uniform) return false;
  if (s.layers.size() % 2 == 0) return false;
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    const LayerSpec& l = s.layers[i];
    const LayerSpec expected = i % 2 == 0 ? LayerSpec::dense_layer(l.units, true) : LayerSpec::of(LayerKind::relu);
    if (!(l == expected)) return false;
  }
  return true;
}

bool is_linear(const ModelSpec& s) {
  return s.input.flat() && s.loss != LossKind::softmax_cross_entropy && s.init == InitKind::zeros &&
         s.layers.size() == 1 && s.layers[0] == LayerSpec::dense_layer(1, false);
}

}  // namespace

Result<ModelSpec> ModelSpec::parse(std::string_view text) {
  if (text.starts_with("in:")) return parse_layer_list(text);
  return parse_shorthand(text);
}

Result<ModelSpec> ModelSpec::from_layers(Shape input, std::vector<LayerSpec> layers, LossKind loss, InitKind init) {
  auto refuse = [](std::string why) { return make_status(StatusCode::invalid_argument, std::move(why)); };
  if (layers.empty()) return refuse("a model needs at least one layer");
  if (layers.size() > kMaxLayers) return refuse("more than " + std::to_string(kMaxLayers) + " layers");
  const uint64_t input_floats = uint64_t{input.h} * input.w * input.c;
  if (input.h == 0 || input.w == 0 || input.c == 0 || input_floats > kMaxWidth) {
    return refuse("input " + edgefl::to_string(input) + " must have positive sizes and at most " +
                  std::to_string(kMaxWidth) + " values");
  }
  // In 64 bits: a product of two sizes (up to 2^40) wraps a 32-bit size_t (armhf).
  uint64_t total = 0;
  Shape shape = input;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    Result<Shape> out = layer_output_shape(layers[i], shape, i);
    if (!out) return out.status();
    const uint64_t floats = uint64_t{out->h} * out->w * out->c;
    if (floats > kMaxWidth) {
      return refuse("layer " + std::to_string(i) + " (" + describe(layers[i]) + "): output " + edgefl::to_string(*out) +
                    " has more than " + std::to_string(kMaxWidth) + " values");
    }
    uint64_t weights = 0, bias = 0;
    switch (layers[i].kind) {
      case LayerKind::dense:
        weights = uint64_t{layers[i].units} * shape.size();
        bias = layers[i].units;
        break;
      case LayerKind::conv2d:
        weights = uint64_t{layers[i].units} * layers[i].kernel_h * layers[i].kernel_w * shape.c;
        bias = layers[i].units;
        break;
      case LayerKind::depthwise_conv2d:
        weights = uint64_t{layers[i].kernel_h} * layers[i].kernel_w * shape.c;
        bias = shape.c;
        break;
      default:
        break;
    }
    total += weights + (layers[i].bias ? bias : 0);
    if (total > kMaxParameters) return refuse("more than " + std::to_string(kMaxParameters) + " parameters");
    shape = *out;
  }
  if (!shape.flat()) {
    return refuse("the output " + edgefl::to_string(shape) + " is not flat: end with flatten, gap or dense");
  }
  if (loss == LossKind::softmax_cross_entropy && shape.c < 2) return refuse("a classifier needs at least 2 outputs");
  if (loss != LossKind::softmax_cross_entropy && shape.c != 1) {
    return refuse(std::string(loss_name(loss)) + " loss needs 1 output, the model has " + std::to_string(shape.c));
  }
  ModelSpec spec;
  spec.input = input;
  spec.layers = std::move(layers);
  spec.loss = loss;
  spec.init = init;
  spec.kind = is_mlp(spec) ? ModelKind::mlp : is_linear(spec) ? ModelKind::linear : ModelKind::layers;
  return spec;
}

std::string ModelSpec::to_string() const {
  if (kind == ModelKind::mlp || kind == ModelKind::linear) {
    std::string out = kind == ModelKind::mlp ? "mlp:" : "linear:";
    out += std::to_string(input.c);
    for (const LayerSpec& l : layers) {
      if (l.kind == LayerKind::dense) out += "-" + std::to_string(l.units);
    }
    if (kind == ModelKind::mlp) return out + ":relu";
    return loss == LossKind::logistic ? out + ":logistic" : out;
  }
  std::string out = "in:" + edgefl::to_string(input);
  for (const LayerSpec& l : layers) out += " " + layer_token(l);
  out += loss == LossKind::softmax_cross_entropy ? " loss:xent" : " loss:" + std::string(loss_name(loss));
  if (init != InitKind::he_uniform) out += " init:" + std::string(init_name(init));
  return out;
}

std::size_t ModelSpec::output_size() const {
  std::vector<LayerGeometry> g = geometry();
  return g.empty() ? 0 : g.back().out.size();
}

std::vector<LayerGeometry> ModelSpec::geometry() const {
  std::vector<LayerGeometry> out;
  out.reserve(layers.size());
  Shape shape = input;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    LayerGeometry g;
    g.spec = layers[i];
    g.in = shape;
    // A validated spec always has an output shape; an unvalidated one stops here.
    Result<Shape> next = layer_output_shape(layers[i], shape, i);
    if (!next) break;
    g.out = *next;
    g.params = layer_parameters(layers[i], shape, offset);
    g.param_offset = offset;
    for (const ParamTensor& t : g.params) g.param_count += t.size();
    offset += g.param_count;
    shape = g.out;
    out.push_back(std::move(g));
  }
  return out;
}

std::vector<DenseLayout> ModelSpec::dense_layouts() const {
  std::vector<DenseLayout> layouts;
  for (const LayerGeometry& g : geometry()) {
    if (g.spec.kind != LayerKind::dense) continue;
    DenseLayout layout;
    layout.inputs = g.in.size();
    layout.outputs = g.out.size();
    layout.has_bias = g.spec.bias;
    layout.weight_offset = g.param_offset;
    layout.bias_offset = g.param_offset + layout.inputs * layout.outputs;
    layouts.push_back(layout);
  }
  return layouts;
}

std::size_t ModelSpec::parameter_count() const {
  std::size_t total = 0;
  for (const LayerGeometry& g : geometry()) total += g.param_count;
  return total;
}

std::string_view loss_name(LossKind loss) {
  switch (loss) {
    case LossKind::squared: return "squared";
    case LossKind::logistic: return "logistic";
    case LossKind::softmax_cross_entropy: break;
  }
  return "softmax_cross_entropy";
}

std::string_view init_name(InitKind init) { return init == InitKind::zeros ? "zeros" : "he_uniform"; }

}  // namespace edgefl
