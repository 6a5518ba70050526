// The JSON model file: ModelSpec::from_json and to_json (format in docs/models.md).
#include <cmath>

#include "edgefl/base/json_line.hpp"
#include "edgefl/base/json_value.hpp"
#include "edgefl/base/model_spec.hpp"

namespace edgefl {

namespace {

using Type = JsonValue::Type;

Status invalid(std::string why) { return make_status(StatusCode::invalid_argument, "model file: " + std::move(why)); }

// A positive integer up to `limit`.
Result<std::size_t> positive(const JsonValue& v, const std::string& where, std::size_t limit) {
  if (v.type != Type::number || v.number != std::floor(v.number) || v.number < 1 || v.number > double(limit)) {
    return invalid(where + " must be an integer in [1, " + std::to_string(limit) + "]");
  }
  return static_cast<std::size_t>(v.number);
}

// [h, w] or one integer for both.
Status pair(const JsonValue& v, const std::string& where, std::size_t& h, std::size_t& w) {
  if (v.type == Type::number) {
    Result<std::size_t> n = positive(v, where, ModelSpec::kMaxWidth);
    if (!n) return n.status();
    h = w = *n;
    return Status();
  }
  if (v.type != Type::array || v.items.size() != 2) return invalid(where + " must be [h, w] or one integer");
  Result<std::size_t> a = positive(v.items[0], where + "[0]", ModelSpec::kMaxWidth);
  if (!a) return a.status();
  Result<std::size_t> b = positive(v.items[1], where + "[1]", ModelSpec::kMaxWidth);
  if (!b) return b.status();
  h = *a;
  w = *b;
  return Status();
}

struct KindName {
  std::string_view name;
  LayerKind kind;
};
constexpr KindName kKinds[] = {
    {"dense", LayerKind::dense},
    {"relu", LayerKind::relu},
    {"relu6", LayerKind::relu6},
    {"conv2d", LayerKind::conv2d},
    {"conv1d", LayerKind::conv2d},
    {"depthwise_conv2d", LayerKind::depthwise_conv2d},
    {"max_pool2d", LayerKind::max_pool2d},
    {"avg_pool2d", LayerKind::avg_pool2d},
    {"global_avg_pool", LayerKind::global_avg_pool},
    {"flatten", LayerKind::flatten},
    {"dropout", LayerKind::dropout},
};

Result<LayerSpec> layer_from_json(const JsonValue& v, std::size_t index) {
  const std::string where = "layer " + std::to_string(index);
  if (v.type != Type::object) return invalid(where + " must be an object");
  const JsonValue* type = v.find("type");
  if (type == nullptr || type->type != Type::string) return invalid(where + " needs a \"type\" string");
  if (type->string == "batch_norm" || type->string == "batchnorm" || type->string == "batch_normalization") {
    return invalid(where + " (batch_norm): not supported: its running statistics differ across non-IID devices "
                           "and do not average; fold it into the convolution before it for an eval-mode export");
  }
  const KindName* kind = nullptr;
  for (const KindName& k : kKinds) {
    if (k.name == type->string) kind = &k;
  }
  if (kind == nullptr) return invalid(where + ": unknown type '" + type->string + "'");
  const std::string named = where + " (" + type->string + ")";
  LayerSpec l = LayerSpec::of(kind->kind);
  l.conv1d = kind->name == "conv1d";
  const bool conv = l.kind == LayerKind::conv2d || l.kind == LayerKind::depthwise_conv2d;
  const bool pool = l.kind == LayerKind::max_pool2d || l.kind == LayerKind::avg_pool2d;
  bool stride_given = false;
  for (const auto& [key, value] : v.members) {
    const std::string field = named + " \"" + key + "\"";
    Status status;
    if (key == "type") {
      continue;
    } else if (key == "units" && l.kind == LayerKind::dense) {
      Result<std::size_t> n = positive(value, field, ModelSpec::kMaxWidth);
      if (n) l.units = *n;
      status = n.status();
    } else if (key == "filters" && l.kind == LayerKind::conv2d) {
      Result<std::size_t> n = positive(value, field, ModelSpec::kMaxWidth);
      if (n) l.units = *n;
      status = n.status();
    } else if ((key == "kernel" || key == "stride" || key == "dilation") && (conv || pool) &&
               !(pool && key == "dilation")) {
      std::size_t& h = key == "kernel" ? l.kernel_h : key == "stride" ? l.stride_h : l.dilation_h;
      std::size_t& w = key == "kernel" ? l.kernel_w : key == "stride" ? l.stride_w : l.dilation_w;
      if (l.conv1d) {
        // conv1d takes one integer per field: the size along the window.
        Result<std::size_t> n = positive(value, field, ModelSpec::kMaxWidth);
        if (n) w = *n;
        status = n.status();
      } else {
        status = pair(value, field, h, w);
      }
      stride_given = stride_given || key == "stride";
    } else if (key == "padding" && (conv || pool)) {
      if (value.type == Type::string && (value.string == "same" || value.string == "valid")) {
        l.padding = value.string == "same" ? Padding::same : Padding::valid;
      } else {
        status = invalid(field + " must be \"same\" or \"valid\"");
      }
    } else if (key == "bias" && (conv || l.kind == LayerKind::dense)) {
      if (value.type == Type::boolean) {
        l.bias = value.boolean;
      } else {
        status = invalid(field + " must be true or false");
      }
    } else if (key == "rate" && l.kind == LayerKind::dropout) {
      if (value.type == Type::number && value.number >= 0 && value.number < 1) {
        l.rate = static_cast<float>(value.number);
      } else {
        status = invalid(field + " must be a number in [0, 1)");
      }
    } else {
      status = invalid(named + ": unknown key \"" + key + "\"");
    }
    EDGEFL_RETURN_IF_ERROR(status);
  }
  if ((l.kind == LayerKind::dense || l.kind == LayerKind::conv2d) && l.units == 0) {
    return invalid(named + " needs \"" + std::string(l.kind == LayerKind::dense ? "units" : "filters") + "\"");
  }
  if ((conv || pool) && v.find("kernel") == nullptr) return invalid(named + " needs \"kernel\"");
  if (pool && !stride_given) {
    l.stride_h = l.kernel_h;
    l.stride_w = l.kernel_w;
  }
  return l;
}

void append_pair(JsonLine& line, std::string_view key, std::size_t h, std::size_t w, bool one) {
  if (one) {
    line.add(key, uint64_t{w});
  } else {
    const uint32_t values[] = {static_cast<uint32_t>(h), static_cast<uint32_t>(w)};
    line.add(key, std::span<const uint32_t>(values));
  }
}

std::string layer_to_json(const LayerSpec& l) {
  JsonLine line;
  const bool conv = l.kind == LayerKind::conv2d || l.kind == LayerKind::depthwise_conv2d;
  const bool pool = l.kind == LayerKind::max_pool2d || l.kind == LayerKind::avg_pool2d;
  line.add("type", l.conv1d ? std::string_view("conv1d") : layer_kind_name(l.kind));
  if (l.kind == LayerKind::dense) line.add("units", uint64_t{l.units});
  if (l.kind == LayerKind::conv2d) line.add("filters", uint64_t{l.units});
  if (conv || pool) {
    append_pair(line, "kernel", l.kernel_h, l.kernel_w, l.conv1d);
    append_pair(line, "stride", l.stride_h, l.stride_w, l.conv1d);
    if (conv) append_pair(line, "dilation", l.dilation_h, l.dilation_w, l.conv1d);
    line.add("padding", l.padding == Padding::same ? "same" : "valid");
  }
  if (conv || l.kind == LayerKind::dense) line.add("bias", l.bias);
  std::string out = line.str();
  if (l.kind == LayerKind::dropout) {
    // The shortest text that reads back as the same float (JsonLine keeps 6 digits).
    out.pop_back();
    out += ",\"rate\":" + layer_token(l).substr(7) + "}";
  }
  return out;
}

}  // namespace

Result<ModelSpec> ModelSpec::from_json(std::string_view json) {
  if (json.size() > kMaxJsonBytes) return invalid("larger than " + std::to_string(kMaxJsonBytes) + " bytes");
  Result<JsonValue> doc = parse_json(json);
  if (!doc) return invalid(std::string(doc.status().message()));
  if (doc->type != Type::object) return invalid("the document must be an object");
  for (const auto& [key, value] : doc->members) {
    if (key != "input" && key != "layers" && key != "loss" && key != "init") {
      return invalid("unknown key \"" + key + "\" (input, layers, loss, init)");
    }
  }
  const JsonValue* input = doc->find("input");
  if (input == nullptr || input->type != Type::array || (input->items.size() != 3 && input->items.size() != 1)) {
    return invalid("\"input\" must be [h, w, c] or [d]");
  }
  Shape shape;
  std::size_t dims[3] = {1, 1, 1};
  for (std::size_t i = 0; i < input->items.size(); ++i) {
    Result<std::size_t> n = positive(input->items[i], "\"input\"[" + std::to_string(i) + "]", kMaxWidth);
    if (!n) return n.status();
    dims[3 - input->items.size() + i] = *n;
  }
  shape = Shape{dims[0], dims[1], dims[2]};
  const JsonValue* layers = doc->find("layers");
  if (layers == nullptr || layers->type != Type::array) return invalid("\"layers\" must be an array");
  if (layers->items.size() > kMaxLayers) return invalid("more than " + std::to_string(kMaxLayers) + " layers");
  std::vector<LayerSpec> list;
  for (std::size_t i = 0; i < layers->items.size(); ++i) {
    Result<LayerSpec> layer = layer_from_json(layers->items[i], i);
    if (!layer) return layer.status();
    list.push_back(*layer);
  }
  LossKind loss = LossKind::softmax_cross_entropy;
  if (const JsonValue* v = doc->find("loss")) {
    const std::string name = v->type == Type::string ? v->string : "";
    if (name == "softmax_cross_entropy" || name == "xent") {
      loss = LossKind::softmax_cross_entropy;
    } else if (name == "squared") {
      loss = LossKind::squared;
    } else if (name == "logistic") {
      loss = LossKind::logistic;
    } else {
      return invalid("\"loss\" must be \"softmax_cross_entropy\", \"squared\" or \"logistic\"");
    }
  }
  InitKind init = InitKind::he_uniform;
  if (const JsonValue* v = doc->find("init")) {
    if (v->type != Type::string || (v->string != "he_uniform" && v->string != "zeros")) {
      return invalid("\"init\" must be \"he_uniform\" or \"zeros\"");
    }
    init = v->string == "zeros" ? InitKind::zeros : InitKind::he_uniform;
  }
  Result<ModelSpec> spec = from_layers(shape, std::move(list), loss, init);
  if (!spec) return invalid(std::string(spec.status().message()));
  return spec;
}

std::string ModelSpec::to_json() const {
  std::string out = "{\"input\":[" + std::to_string(input.h) + "," + std::to_string(input.w) + "," +
                    std::to_string(input.c) + "],\"layers\":[";
  for (std::size_t i = 0; i < layers.size(); ++i) out += (i ? ",\n  " : "\n  ") + layer_to_json(layers[i]);
  out += "\n],\"loss\":\"" + std::string(loss_name(loss)) + "\",\"init\":\"" + std::string(init_name(init)) + "\"}\n";
  return out;
}

}  // namespace edgefl
