#include "edgefl/base/model_spec.hpp"

#include <charconv>

namespace edgefl {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

Status invalid(std::string_view text, std::string why) {
  return make_status(StatusCode::invalid_argument,
                     "model spec '" + std::string(text) + "': " + std::move(why));
}

}  // namespace

Result<ModelSpec> ModelSpec::parse(std::string_view text) {
  std::vector<std::string_view> parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3) {
    return invalid(text, "expected kind:widths[:option], e.g. mlp:784-256-10:relu");
  }
  ModelSpec spec;
  if (parts[0] == "mlp") {
    spec.kind = ModelKind::mlp;
    spec.loss = LossKind::softmax_cross_entropy;
  } else if (parts[0] == "linear") {
    spec.kind = ModelKind::linear;
    spec.loss = LossKind::squared;
  } else {
    return invalid(text, "unknown model kind '" + std::string(parts[0]) + "' (mlp, linear)");
  }

  for (std::string_view width_text : split(parts[1], '-')) {
    std::size_t width = 0;
    auto [end, error] =
        std::from_chars(width_text.data(), width_text.data() + width_text.size(), width);
    if (error != std::errc() || end != width_text.data() + width_text.size() || width == 0) {
      return invalid(text, "width '" + std::string(width_text) + "' is not a positive integer");
    }
    if (width > kMaxWidth) {
      return invalid(text, "width " + std::to_string(width) + " exceeds " +
                               std::to_string(kMaxWidth));
    }
    spec.widths.push_back(width);
  }
  if (spec.widths.size() < 2) return invalid(text, "need at least an input and an output width");
  if (spec.widths.size() - 1 > kMaxLayers) {
    return invalid(text, "more than " + std::to_string(kMaxLayers) + " layers");
  }

  std::string_view option = parts.size() == 3 ? parts[2] : std::string_view();
  if (spec.kind == ModelKind::mlp) {
    if (!option.empty() && option != "relu") {
      return invalid(text, "unknown activation '" + std::string(option) + "' (relu)");
    }
    if (spec.output_size() < 2) return invalid(text, "a classifier needs at least 2 outputs");
  } else {
    if (spec.widths.size() != 2 || spec.output_size() != 1) {
      return invalid(text, "a linear model is linear:D-1");
    }
    if (option == "logistic") {
      spec.loss = LossKind::logistic;
    } else if (!option.empty() && option != "squared") {
      return invalid(text, "unknown loss '" + std::string(option) + "' (squared, logistic)");
    }
  }

  // Checked layer by layer so the sum cannot overflow before the limit test; in 64 bits
  // because a product of two widths (up to 2^40) wraps a 32-bit size_t (armhf).
  uint64_t total = 0;
  for (std::size_t i = 0; i + 1 < spec.widths.size(); ++i) {
    uint64_t in = spec.widths[i];
    uint64_t out = spec.widths[i + 1];
    total += in * out + (spec.has_bias() ? out : 0);
    if (total > kMaxParameters) {
      return invalid(text, "more than " + std::to_string(kMaxParameters) + " parameters");
    }
  }
  return spec;
}

std::string ModelSpec::to_string() const {
  std::string out = kind == ModelKind::mlp ? "mlp:" : "linear:";
  for (std::size_t i = 0; i < widths.size(); ++i) {
    if (i != 0) out += '-';
    out += std::to_string(widths[i]);
  }
  if (kind == ModelKind::mlp) {
    out += ":relu";
  } else if (loss == LossKind::logistic) {
    out += ":logistic";
  }
  return out;
}

std::vector<DenseLayout> ModelSpec::dense_layouts() const {
  std::vector<DenseLayout> layouts;
  std::size_t offset = 0;
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    DenseLayout layout;
    layout.inputs = widths[i];
    layout.outputs = widths[i + 1];
    layout.has_bias = has_bias();
    layout.weight_offset = offset;
    offset += layout.inputs * layout.outputs;
    layout.bias_offset = offset;
    if (layout.has_bias) offset += layout.outputs;
    layouts.push_back(layout);
  }
  return layouts;
}

std::size_t ModelSpec::parameter_count() const {
  std::size_t total = 0;
  for (const DenseLayout& layout : dense_layouts()) {
    total += layout.inputs * layout.outputs + (layout.has_bias ? layout.outputs : 0);
  }
  return total;
}

}  // namespace edgefl
