#include "edgefl/base/layer_spec.hpp"

#include <charconv>

#include "text_parts.hpp"

namespace edgefl {

namespace {

// Kernel, stride and dilation sides are at most this; anything larger is a typo or an attack.
constexpr std::size_t kMaxExtent = 256;
// Dense outputs and conv filters.
constexpr std::size_t kMaxUnits = std::size_t{1} << 20;

Status invalid_token(std::string_view token, std::string why) {
  return make_status(StatusCode::invalid_argument, "layer '" + std::string(token) + "': " + std::move(why));
}

std::string pair_text(std::size_t a, std::size_t b) {
  return a == b ? std::to_string(a) : std::to_string(a) + "x" + std::to_string(b);
}

bool is_conv(LayerKind kind) { return kind == LayerKind::conv2d || kind == LayerKind::depthwise_conv2d; }
bool is_pool(LayerKind kind) { return kind == LayerKind::max_pool2d || kind == LayerKind::avg_pool2d; }

// Output length of one axis, or 0 when the (dilated) kernel does not fit a valid input.
std::size_t axis_out(std::size_t in, std::size_t kernel, std::size_t stride, std::size_t dilation, Padding padding) {
  if (padding == Padding::same) return (in + stride - 1) / stride;
  const std::size_t span = (kernel - 1) * dilation + 1;
  return in < span ? 0 : (in - span) / stride + 1;
}

Status check_extents(const LayerSpec& l, std::size_t index) {
  const std::size_t extents[] = {l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h, l.dilation_w};
  for (std::size_t e : extents) {
    if (e == 0 || e > kMaxExtent) {
      return make_status(StatusCode::invalid_argument, "layer " + std::to_string(index) + " (" + describe(l) +
                                                           "): kernel, stride and dilation must be in [1, " +
                                                           std::to_string(kMaxExtent) + "]");
    }
  }
  return Status();
}

}  // namespace

std::string to_string(Shape shape) {
  return std::to_string(shape.h) + "x" + std::to_string(shape.w) + "x" + std::to_string(shape.c);
}

std::size_t ParamTensor::size() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

LayerSpec LayerSpec::dense_layer(std::size_t outputs, bool bias) {
  LayerSpec l;
  l.kind = LayerKind::dense;
  l.units = outputs;
  l.bias = bias;
  return l;
}

LayerSpec LayerSpec::conv(std::size_t kh, std::size_t kw, std::size_t filters, std::size_t stride, Padding padding) {
  LayerSpec l;
  l.kind = LayerKind::conv2d;
  l.units = filters;
  l.kernel_h = kh;
  l.kernel_w = kw;
  l.stride_h = l.stride_w = stride;
  l.padding = padding;
  return l;
}

LayerSpec LayerSpec::of(LayerKind kind) {
  LayerSpec l;
  l.kind = kind;
  l.bias = kind == LayerKind::dense || is_conv(kind);
  if (is_pool(kind)) l.padding = Padding::valid;
  return l;
}

LayerSpec LayerSpec::pool(LayerKind kind, std::size_t size) {
  LayerSpec l = of(kind);
  l.kernel_h = l.kernel_w = l.stride_h = l.stride_w = size;
  return l;
}

std::string_view layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::dense: return "dense";
    case LayerKind::relu: return "relu";
    case LayerKind::relu6: return "relu6";
    case LayerKind::conv2d: return "conv2d";
    case LayerKind::depthwise_conv2d: return "depthwise_conv2d";
    case LayerKind::max_pool2d: return "max_pool2d";
    case LayerKind::avg_pool2d: return "avg_pool2d";
    case LayerKind::global_avg_pool: return "global_avg_pool";
    case LayerKind::flatten: return "flatten";
    case LayerKind::dropout: return "dropout";
  }
  return "unknown";
}

std::string describe(const LayerSpec& l) {
  std::string out(layer_kind_name(l.kind));
  if (l.kind == LayerKind::dense) return out + " " + std::to_string(l.units);
  if (l.kind == LayerKind::dropout) return out + " " + layer_token(l).substr(7);
  if (!is_conv(l.kind) && !is_pool(l.kind)) return out;
  out += " " + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w);
  if (l.kind == LayerKind::conv2d) out += ", " + std::to_string(l.units) + " filters";
  if (l.stride_h != 1 || l.stride_w != 1) out += ", stride " + pair_text(l.stride_h, l.stride_w);
  if (l.dilation_h != 1 || l.dilation_w != 1) out += ", dilation " + pair_text(l.dilation_h, l.dilation_w);
  out += l.padding == Padding::same ? ", padding same" : ", padding valid";
  return out;
}

std::string layer_token(const LayerSpec& l) {
  std::string out;
  switch (l.kind) {
    case LayerKind::dense:
      return "dense" + std::to_string(l.units) + (l.bias ? "" : ",nobias");
    case LayerKind::relu:
    case LayerKind::relu6:
    case LayerKind::flatten:
      return std::string(layer_kind_name(l.kind));
    case LayerKind::global_avg_pool:
      return "gap";
    case LayerKind::dropout: {
      char text[32];
      auto [end, error] = std::to_chars(text, text + sizeof text, l.rate);
      (void)error;
      return "dropout" + std::string(text, end);
    }
    case LayerKind::conv2d:
      out = l.conv1d ? "conv1d" + std::to_string(l.kernel_w) + "x" + std::to_string(l.units)
                     : "conv" + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w) + "x" +
                           std::to_string(l.units);
      break;
    case LayerKind::depthwise_conv2d:
      out = "dwconv" + std::to_string(l.kernel_h) + "x" + std::to_string(l.kernel_w);
      break;
    case LayerKind::max_pool2d:
    case LayerKind::avg_pool2d:
      out = (l.kind == LayerKind::max_pool2d ? "maxpool" : "avgpool") + pair_text(l.kernel_h, l.kernel_w);
      break;
  }
  const bool pool = is_pool(l.kind);
  const bool stride_default = pool ? l.stride_h == l.kernel_h && l.stride_w == l.kernel_w
                                   : l.stride_h == 1 && l.stride_w == 1;
  if (!stride_default) out += ",s" + (l.conv1d ? std::to_string(l.stride_w) : pair_text(l.stride_h, l.stride_w));
  if (l.dilation_h != 1 || l.dilation_w != 1) {
    out += ",d" + (l.conv1d ? std::to_string(l.dilation_w) : pair_text(l.dilation_h, l.dilation_w));
  }
  if (l.padding != (pool ? Padding::valid : Padding::same)) out += l.padding == Padding::same ? ",same" : ",valid";
  if (!pool && !l.bias) out += ",nobias";
  return out;
}

Result<LayerSpec> parse_layer_token(std::string_view token) {
  std::vector<std::string_view> parts = split(token, ',');
  const std::string_view head = parts[0];
  for (std::string_view exact : {"relu", "relu6", "flatten", "gap"}) {
    if (head != exact) continue;
    if (parts.size() > 1) return invalid_token(token, "takes no options");
    if (head == "relu") return LayerSpec::of(LayerKind::relu);
    if (head == "relu6") return LayerSpec::of(LayerKind::relu6);
    if (head == "flatten") return LayerSpec::of(LayerKind::flatten);
    return LayerSpec::of(LayerKind::global_avg_pool);
  }
  if (head.starts_with("dropout")) {
    if (parts.size() > 1) return invalid_token(token, "takes no options");
    std::string_view number = head.substr(7);
    LayerSpec l = LayerSpec::of(LayerKind::dropout);
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), l.rate);
    if (error != std::errc() || end != number.data() + number.size() || !(l.rate >= 0.0f && l.rate < 1.0f)) {
      return invalid_token(token, "dropout rate must be a number in [0, 1), e.g. dropout0.25");
    }
    return l;
  }
  struct Head {
    std::string_view prefix;
    LayerKind kind;
    std::size_t min_sizes, max_sizes;
    const char* example;
  };
  // Longest prefixes first: "conv1d" before "conv".
  const Head heads[] = {
      {"conv1d", LayerKind::conv2d, 2, 2, "conv1d5x32 (kernel 5, 32 filters)"},
      {"conv", LayerKind::conv2d, 3, 3, "conv3x3x16 (3x3 kernel, 16 filters)"},
      {"dwconv", LayerKind::depthwise_conv2d, 1, 2, "dwconv3x3"},
      {"maxpool", LayerKind::max_pool2d, 1, 2, "maxpool2 or maxpool3x3"},
      {"avgpool", LayerKind::avg_pool2d, 1, 2, "avgpool2 or avgpool3x3"},
      {"dense", LayerKind::dense, 1, 1, "dense10"},
  };
  const Head* match = nullptr;
  for (const Head& h : heads) {
    if (head.starts_with(h.prefix)) {
      match = &h;
      break;
    }
  }
  if (match == nullptr) {
    return invalid_token(token, "unknown layer (conv, conv1d, dwconv, maxpool, avgpool, gap, flatten, dense, relu, "
                                "relu6, dropout)");
  }
  LayerSpec l = LayerSpec::of(match->kind);
  l.conv1d = match->prefix == "conv1d";
  std::vector<std::size_t> n = parse_sizes(head.substr(match->prefix.size()), kMaxUnits);
  if (n.size() < match->min_sizes || n.size() > match->max_sizes) {
    return invalid_token(token, "expected sizes like " + std::string(match->example));
  }
  switch (match->kind) {
    case LayerKind::dense:
      l.units = n[0];
      break;
    case LayerKind::conv2d:
      l.kernel_h = l.conv1d ? 1 : n[0];
      l.kernel_w = l.conv1d ? n[0] : n[1];
      l.units = n.back();
      break;
    default:  // depthwise and pools: one size means a square window
      l.kernel_h = n[0];
      l.kernel_w = n.back();
      if (is_pool(l.kind)) {
        l.stride_h = l.kernel_h;
        l.stride_w = l.kernel_w;
      }
      break;
  }
  const bool spatial = match->kind != LayerKind::dense;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string_view option = parts[i];
    if (option == "nobias" && !is_pool(l.kind)) {
      l.bias = false;
    } else if ((option == "same" || option == "valid") && spatial) {
      l.padding = option == "same" ? Padding::same : Padding::valid;
    } else if ((option.starts_with("s") || option.starts_with("d")) && spatial &&
               (option[0] == 's' || is_conv(l.kind))) {
      std::vector<std::size_t> v = parse_sizes(option.substr(1), kMaxExtent);
      if (v.empty() || v.size() > (l.conv1d ? 1u : 2u)) {
        return invalid_token(token, "option '" + std::string(option) + "' needs one size" +
                                        (l.conv1d ? "" : " or HxW") + " in [1, " + std::to_string(kMaxExtent) + "]");
      }
      std::size_t& h = option[0] == 's' ? l.stride_h : l.dilation_h;
      std::size_t& w = option[0] == 's' ? l.stride_w : l.dilation_w;
      h = l.conv1d ? 1 : v[0];
      w = v.back();
    } else {
      return invalid_token(token, "unknown option '" + std::string(option) + "'");
    }
  }
  return l;
}

Result<Shape> layer_output_shape(const LayerSpec& l, Shape in, std::size_t index) {
  auto refuse = [&](const std::string& why) {
    return make_status(StatusCode::invalid_argument, "layer " + std::to_string(index) + " (" + describe(l) +
                                                         "): input " + to_string(in) + " " + why);
  };
  switch (l.kind) {
    case LayerKind::dense:
      if (l.units == 0 || l.units > kMaxUnits) return refuse("cannot feed a dense layer of that width");
      if (!in.flat()) return refuse("is not flat: put flatten or gap before a dense layer");
      return Shape{1, 1, l.units};
    case LayerKind::relu:
    case LayerKind::relu6:
      return in;
    case LayerKind::dropout:
      if (!(l.rate >= 0.0f && l.rate < 1.0f)) return refuse("cannot be dropped at a rate outside [0, 1)");
      return in;
    case LayerKind::flatten:
      return Shape{1, 1, in.size()};
    case LayerKind::global_avg_pool:
      return Shape{1, 1, in.c};
    case LayerKind::conv2d:
    case LayerKind::depthwise_conv2d:
    case LayerKind::max_pool2d:
    case LayerKind::avg_pool2d:
      break;
  }
  EDGEFL_RETURN_IF_ERROR(check_extents(l, index));
  if (l.kind == LayerKind::conv2d && (l.units == 0 || l.units > kMaxUnits)) {
    return refuse("cannot feed a convolution with that many filters");
  }
  if (is_pool(l.kind) && (l.dilation_h != 1 || l.dilation_w != 1)) return refuse("cannot be pooled with dilation");
  if (l.conv1d && (in.h != 1 || l.kernel_h != 1)) return refuse("is not a 1xWxC window, which conv1d needs");
  const std::size_t dh = is_pool(l.kind) ? 1 : l.dilation_h, dw = is_pool(l.kind) ? 1 : l.dilation_w;
  Shape out;
  out.h = axis_out(in.h, l.kernel_h, l.stride_h, dh, l.padding);
  out.w = axis_out(in.w, l.kernel_w, l.stride_w, dw, l.padding);
  out.c = l.kind == LayerKind::conv2d ? l.units : in.c;
  if (out.h == 0 || out.w == 0) {
    return refuse((l.dilation_h != 1 || l.dilation_w != 1) ? "is smaller than the dilated kernel"
                                                           : "is smaller than the kernel");
  }
  return out;
}

std::vector<ParamTensor> layer_parameters(const LayerSpec& l, Shape in, std::size_t offset) {
  std::vector<ParamTensor> tensors;
  std::vector<std::size_t> weights, bias;
  switch (l.kind) {
    case LayerKind::dense:
      weights = {l.units, in.size()};
      bias = {l.units};
      break;
    case LayerKind::conv2d:
      weights = {l.units, l.kernel_h, l.kernel_w, in.c};
      bias = {l.units};
      break;
    case LayerKind::depthwise_conv2d:
      weights = {l.kernel_h, l.kernel_w, in.c};
      bias = {in.c};
      break;
    default:
      return tensors;
  }
  tensors.push_back({"weights", offset, weights});
  if (l.bias) tensors.push_back({"bias", offset + tensors[0].size(), bias});
  return tensors;
}

std::size_t layer_fan_in(const LayerSpec& l, Shape in) {
  switch (l.kind) {
    case LayerKind::dense: return in.size();
    case LayerKind::conv2d: return l.kernel_h * l.kernel_w * in.c;
    case LayerKind::depthwise_conv2d: return l.kernel_h * l.kernel_w;
    default: return 0;
  }
}

std::size_t pad_before(std::size_t in, std::size_t out, std::size_t kernel, std::size_t stride, std::size_t dilation) {
  const std::size_t needed = (out - 1) * stride + (kernel - 1) * dilation + 1;
  return needed > in ? (needed - in) / 2 : 0;
}

}  // namespace edgefl
