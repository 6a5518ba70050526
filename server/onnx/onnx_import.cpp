// The ONNX graph walk: one node at a time along the chain, constants folded as they come.
#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "edgefl/io/model_tensors.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "onnx_constant.hpp"
#include "onnx_model.hpp"

namespace edgefl::onnx_io {

namespace {

constexpr int64_t kMinOpset = 11, kMaxOpset = 18;
constexpr int kMaxNodes = 4096;

// The activation the chain has reached: NCHW (spatial) or [N, D] in ONNX, HWC in the runtime.
struct Activation {
  std::string name;
  Shape shape;
  bool spatial = false;
};

std::string ints_text(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (std::size_t k = 0; k < values.size(); ++k)
    text += (k ? ", " : "") + std::to_string(values[k]);
  return text + "]";
}

bool default_domain(const std::string& domain) {
  return domain.empty() || domain == "ai.onnx";
}

class GraphReader {
 public:
  Result<ImportedModel> read(const onnx::ModelProto& model);

 private:
  Status read_input(const onnx::GraphProto& graph);
  Status node(const onnx::NodeProto& n);

  Status constant_node(const onnx::NodeProto& n);
  Status shape_node(const onnx::NodeProto& n);
  Status gather_node(const onnx::NodeProto& n);
  Status unsqueeze_node(const onnx::NodeProto& n);
  Status concat_node(const onnx::NodeProto& n);
  Status reshape_node(const onnx::NodeProto& n);
  Status conv_node(const onnx::NodeProto& n);
  Status pool_node(const onnx::NodeProto& n, LayerKind kind);
  Status pad_node(const onnx::NodeProto& n);
  Status clip_node(const onnx::NodeProto& n);
  Status gemm_node(const onnx::NodeProto& n, bool matmul);
  Status add_node(const onnx::NodeProto& n);
  Status dropout_node(const onnx::NodeProto& n);

  // Checks the node's attributes are among `known` (anything else is refused).
  Status attributes(const onnx::NodeProto& n, std::initializer_list<std::string_view> known) const;
  int64_t attr_int(const onnx::NodeProto& n, std::string_view name, int64_t fallback) const;
  float attr_float(const onnx::NodeProto& n, std::string_view name, float fallback) const;
  std::vector<int64_t> attr_ints(const onnx::NodeProto& n, std::string_view name,
                                 std::vector<int64_t> fallback) const;
  Status activation_input(const onnx::NodeProto& n, int k) const;
  Result<const Constant*> constant_input(const onnx::NodeProto& n, int k) const;
  bool has_input(const onnx::NodeProto& n, int k) const {
    return n.input_size() > k && !n.input(k).empty();
  }
  Result<Padding> padding(const onnx::NodeProto& n, std::size_t kh, std::size_t kw, std::size_t sh,
                          std::size_t sw, std::size_t dh, std::size_t dw) const;
  Status add_layer(const onnx::NodeProto& n, const LayerSpec& layer);
  Status refuse(const onnx::NodeProto& n, const std::string& why) const;

  std::unordered_map<std::string, Constant> constants_;
  Activation act_;
  Shape input_;
  std::vector<LayerSpec> layers_;
  std::vector<ShapedTensor> tensors_;  // PyTorch layouts, initialiser names
  std::string open_matmul_;            // output of a MatMul whose bias Add may follow
};

Status GraphReader::refuse(const onnx::NodeProto& n, const std::string& why) const {
  return make_status(StatusCode::invalid_argument,
                     "node '" + n.name() + "' (" + n.op_type() + "): " + why);
}

Status GraphReader::attributes(const onnx::NodeProto& n,
                               std::initializer_list<std::string_view> known) const {
  for (const onnx::AttributeProto& a : n.attribute()) {
    if (std::find(known.begin(), known.end(), a.name()) != known.end()) continue;
    std::string supported;
    for (std::string_view name : known)
      supported += (supported.empty() ? "" : ", ") + std::string(name);
    return refuse(
        n, "attribute '" + a.name() + "' is not supported (" +
               (supported.empty() ? std::string("it takes none") : "supported: " + supported) +
               ")");
  }
  return Status();
}

int64_t GraphReader::attr_int(const onnx::NodeProto& n, std::string_view name,
                              int64_t fallback) const {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

float GraphReader::attr_float(const onnx::NodeProto& n, std::string_view name,
                              float fallback) const {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) return a.f();
  return fallback;
}

std::vector<int64_t> GraphReader::attr_ints(const onnx::NodeProto& n, std::string_view name,
                                            std::vector<int64_t> fallback) const {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return fallback;
}

Status GraphReader::activation_input(const onnx::NodeProto& n, int k) const {
  if (n.input_size() <= k) return refuse(n, "input " + std::to_string(k) + " is missing");
  if (n.input(k) != act_.name) {
    return refuse(n, "reads '" + n.input(k) + "', not the output of the node before ('" +
                         act_.name + "'): only chains of layers are supported");
  }
  return Status();
}

Result<const Constant*> GraphReader::constant_input(const onnx::NodeProto& n, int k) const {
  if (!has_input(n, k)) return refuse(n, "input " + std::to_string(k) + " is missing");
  auto found = constants_.find(n.input(k));
  if (found == constants_.end())
    return refuse(n, "input '" + n.input(k) + "' must be an initialiser or a constant");
  return &found->second;
}

Status GraphReader::add_layer(const onnx::NodeProto& n, const LayerSpec& layer) {
  Result<Shape> out = layer_output_shape(layer, act_.shape, layers_.size());
  if (!out) return refuse(n, out.status().message());
  layers_.push_back(layer);
  act_.shape = *out;
  act_.name = n.output(0);
  return Status();
}

Status GraphReader::read_input(const onnx::GraphProto& graph) {
  std::unordered_set<std::string> initialisers;
  for (const onnx::TensorProto& t : graph.initializer()) initialisers.insert(t.name());
  const onnx::ValueInfoProto* input = nullptr;
  for (const onnx::ValueInfoProto& v : graph.input()) {
    if (initialisers.contains(v.name())) continue;
    if (input != nullptr) {
      return make_status(
          StatusCode::invalid_argument,
          "the graph has more than one input ('" + input->name() + "', '" + v.name() + "')");
    }
    input = &v;
  }
  if (input == nullptr) return make_status(StatusCode::invalid_argument, "the graph has no input");
  const std::string where = "input '" + input->name() + "': ";
  if (!input->type().has_tensor_type() ||
      input->type().tensor_type().elem_type() != onnx::TensorProto::FLOAT)
    return make_status(StatusCode::invalid_argument, where + "not a FLOAT tensor");
  const auto& dims = input->type().tensor_type().shape().dim();
  std::vector<std::size_t> sizes;
  for (int k = 1; k < dims.size(); ++k) {
    if (!dims[k].has_dim_value() || dims[k].dim_value() <= 0 ||
        dims[k].dim_value() > static_cast<int64_t>(ModelSpec::kMaxWidth)) {
      return make_status(StatusCode::invalid_argument,
                         where + "dimension " + std::to_string(k) +
                             " must be a fixed size (only the batch may vary)");
    }
    sizes.push_back(static_cast<std::size_t>(dims[k].dim_value()));
  }
  if (sizes.size() == 3) {
    input_ = Shape{sizes[1], sizes[2], sizes[0]};
    act_.spatial = true;
  } else if (sizes.size() == 1) {
    input_ = Shape{1, 1, sizes[0]};
  } else {
    return make_status(StatusCode::invalid_argument, where + "rank " + std::to_string(dims.size()) +
                                                         ": must be [N, C, H, W] or [N, D]");
  }
  act_.name = input->name();
  act_.shape = input_;
  return Status();
}

Result<ImportedModel> GraphReader::read(const onnx::ModelProto& model) {
  bool opset = false;
  for (const onnx::OperatorSetIdProto& id : model.opset_import()) {
    if (!default_domain(id.domain())) continue;
    if (id.version() < kMinOpset || id.version() > kMaxOpset) {
      return make_status(StatusCode::version_mismatch,
                         "opset " + std::to_string(id.version()) + " is not supported (" +
                             std::to_string(kMinOpset) + " to " + std::to_string(kMaxOpset) + ")");
    }
    opset = true;
  }
  if (!opset)
    return make_status(StatusCode::invalid_argument, "no opset of the default ONNX domain");
  const onnx::GraphProto& graph = model.graph();
  if (graph.node_size() > kMaxNodes)
    return make_status(StatusCode::too_large, std::to_string(graph.node_size()) + " nodes");
  for (const onnx::TensorProto& t : graph.initializer()) {
    Result<Constant> c = read_constant(t);
    if (!c) return c.status();
    if (!constants_.emplace(t.name(), std::move(*c)).second)
      return make_status(StatusCode::invalid_argument,
                         "initialiser '" + t.name() + "' appears twice");
  }
  EDGEFL_RETURN_IF_ERROR(read_input(graph));
  for (const onnx::NodeProto& n : graph.node()) EDGEFL_RETURN_IF_ERROR(node(n));
  if (graph.output_size() != 1 || graph.output(0).name() != act_.name) {
    return make_status(StatusCode::invalid_argument,
                       "the graph's one output must be the last layer's ('" + act_.name + "')");
  }
  if (layers_.empty()) return make_status(StatusCode::invalid_argument, "the graph has no layers");
  Result<ModelSpec> spec = ModelSpec::from_layers(input_, layers_, LossKind::softmax_cross_entropy);
  if (!spec) return spec.status();
  ImportedModel imported{*spec, std::vector<float>(spec->parameter_count()), {}};
  EDGEFL_RETURN_IF_ERROR(params_from_tensors(*spec, tensors_, imported.params));
  std::unordered_set<std::string> seen;
  for (const ShapedTensor& t : tensors_) {
    if (!seen.insert(t.name).second) {
      return make_status(StatusCode::invalid_argument,
                         "initialiser '" + t.name +
                             "' is the weights of two layers: tied weights are not supported");
    }
    imported.tensor_names.push_back(t.name);
  }
  return imported;
}

Status GraphReader::node(const onnx::NodeProto& n) {
  if (!default_domain(n.domain())) return refuse(n, "domain '" + n.domain() + "' is not supported");
  if (n.output_size() < 1 || n.output(0).empty()) return refuse(n, "has no output");
  const std::string& op = n.op_type();
  if (op == "Constant") return constant_node(n);
  if (op == "Shape") return shape_node(n);
  if (op == "Gather") return gather_node(n);
  if (op == "Unsqueeze") return unsqueeze_node(n);
  if (op == "Concat") return concat_node(n);
  if (op == "Identity") {
    EDGEFL_RETURN_IF_ERROR(attributes(n, {}));
    if (auto c = constants_.find(n.input_size() > 0 ? n.input(0) : ""); c != constants_.end()) {
      Constant copy = c->second;
      constants_[n.output(0)] = std::move(copy);
      return Status();
    }
    EDGEFL_RETURN_IF_ERROR(activation_input(n, 0));
    act_.name = n.output(0);
    return Status();
  }
  if (op == "Add") return add_node(n);
  EDGEFL_RETURN_IF_ERROR(activation_input(n, 0));
  if (op == "Relu") {
    EDGEFL_RETURN_IF_ERROR(attributes(n, {}));
    return add_layer(n, LayerSpec::of(LayerKind::relu));
  }
  if (op == "Clip") return clip_node(n);
  if (op == "Conv") return conv_node(n);
  if (op == "MaxPool") return pool_node(n, LayerKind::max_pool2d);
  if (op == "AveragePool") return pool_node(n, LayerKind::avg_pool2d);
  if (op == "Pad") return pad_node(n);
  if (op == "GlobalAveragePool") {
    EDGEFL_RETURN_IF_ERROR(attributes(n, {}));
    if (!act_.spatial) return refuse(n, "needs an [N, C, H, W] input");
    return add_layer(n, LayerSpec::of(LayerKind::global_avg_pool));
  }
  if (op == "Flatten") {
    EDGEFL_RETURN_IF_ERROR(attributes(n, {"axis"}));
    if (attr_int(n, "axis", 1) != 1) return refuse(n, "axis must be 1 (one row per sample)");
    act_.spatial = false;
    return add_layer(n, LayerSpec::of(LayerKind::flatten));
  }
  if (op == "Reshape") return reshape_node(n);
  if (op == "Gemm") return gemm_node(n, false);
  if (op == "MatMul") return gemm_node(n, true);
  if (op == "Dropout") return dropout_node(n);
  return refuse(n, "operator not supported; supported: " + std::string(kSupportedOps));
}

Status GraphReader::constant_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(
      attributes(n, {"value", "value_float", "value_floats", "value_int", "value_ints"}));
  if (n.attribute_size() != 1) return refuse(n, "needs exactly one value attribute");
  const onnx::AttributeProto& a = n.attribute(0);
  Constant c;
  if (a.name() == "value") {
    Result<Constant> read = read_constant(a.t());
    if (!read) return refuse(n, read.status().message());
    c = std::move(*read);
  } else if (a.name() == "value_float") {
    c.floats = {a.f()};
  } else if (a.name() == "value_floats") {
    c.floats.assign(a.floats().begin(), a.floats().end());
    c.dims = {static_cast<int64_t>(c.floats.size())};
  } else if (a.name() == "value_int") {
    c.integer = true;
    c.ints = {a.i()};
  } else {
    c.integer = true;
    c.ints.assign(a.ints().begin(), a.ints().end());
    c.dims = {static_cast<int64_t>(c.ints.size())};
  }
  constants_[n.output(0)] = std::move(c);
  return Status();
}

Status GraphReader::shape_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {}));
  Constant shape;
  shape.integer = true;
  if (auto c = constants_.find(n.input_size() > 0 ? n.input(0) : ""); c != constants_.end()) {
    shape.ints = c->second.dims;
  } else {
    EDGEFL_RETURN_IF_ERROR(activation_input(n, 0));
    const auto dim = [](std::size_t v) { return static_cast<int64_t>(v); };
    shape.ints = act_.spatial ? std::vector<int64_t>{kBatchDim, dim(act_.shape.c),
                                                     dim(act_.shape.h), dim(act_.shape.w)}
                              : std::vector<int64_t>{kBatchDim, dim(act_.shape.size())};
  }
  shape.dims = {static_cast<int64_t>(shape.ints.size())};
  constants_[n.output(0)] = std::move(shape);
  return Status();
}

Status GraphReader::gather_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {"axis"}));
  Result<const Constant*> data = constant_input(n, 0);
  if (!data) return data.status();
  Result<const Constant*> indices = constant_input(n, 1);
  if (!indices) return indices.status();
  const Constant& d = **data;
  if (attr_int(n, "axis", 0) != 0 || d.dims.size() != 1 || !d.integer || !(*indices)->integer ||
      (*indices)->dims.size() > 1) {
    return refuse(
        n, "only indices along axis 0 of a 1-D integer constant (shape arithmetic) are supported");
  }
  Constant out;
  out.integer = true;
  out.dims = (*indices)->dims;
  const int64_t size = static_cast<int64_t>(d.ints.size());
  for (int64_t index : (*indices)->ints) {
    if (index < -size || index >= size)
      return refuse(n, "index " + std::to_string(index) + " is out of range");
    out.ints.push_back(d.ints[static_cast<std::size_t>(index < 0 ? index + size : index)]);
  }
  constants_[n.output(0)] = std::move(out);
  return Status();
}

Status GraphReader::unsqueeze_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {"axes"}));
  Result<const Constant*> data = constant_input(n, 0);
  if (!data) return data.status();
  std::vector<int64_t> axes = attr_ints(n, "axes", {});
  if (has_input(n, 1)) {  // opset 13 and later
    Result<const Constant*> given = constant_input(n, 1);
    if (!given) return given.status();
    axes = (*given)->ints;
  }
  Constant out = **data;
  const int64_t rank = static_cast<int64_t>(out.dims.size() + axes.size());
  std::vector<bool> inserted(static_cast<std::size_t>(rank), false);
  for (int64_t axis : axes) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank || inserted[static_cast<std::size_t>(a)])
      return refuse(n, "axes " + ints_text(axes) + " are invalid");
    inserted[static_cast<std::size_t>(a)] = true;
  }
  std::vector<int64_t> dims;
  std::size_t next = 0;
  for (bool one : inserted) dims.push_back(one ? 1 : out.dims[next++]);
  out.dims = std::move(dims);
  constants_[n.output(0)] = std::move(out);
  return Status();
}

Status GraphReader::concat_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {"axis"}));
  const int64_t axis = attr_int(n, "axis", 0);
  Constant out;
  out.integer = true;
  for (int k = 0; k < n.input_size(); ++k) {
    Result<const Constant*> part = constant_input(n, k);
    if (!part) return part.status();
    if (!(*part)->integer || (*part)->dims.size() != 1 || (axis != 0 && axis != -1))
      return refuse(n, "only 1-D integer constants (shape arithmetic) can be concatenated");
    out.ints.insert(out.ints.end(), (*part)->ints.begin(), (*part)->ints.end());
  }
  out.dims = {static_cast<int64_t>(out.ints.size())};
  constants_[n.output(0)] = std::move(out);
  return Status();
}

Status GraphReader::reshape_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {"allowzero"}));
  Result<const Constant*> target = constant_input(n, 1);
  if (!target) return target.status();
  const std::vector<int64_t>& t = (*target)->ints;
  const int64_t width = static_cast<int64_t>(act_.shape.size());
  // x.view(x.size(0), -1) and its static forms: one row of all features per sample.
  bool flatten = false;
  if ((*target)->integer && t.size() == 2 && attr_int(n, "allowzero", 0) == 0) {
    const bool batch_first = t[0] == kBatchDim || t[0] == 0 || t[0] >= 1;
    flatten = (batch_first && (t[1] == -1 || t[1] == width)) || (t[0] == -1 && t[1] == width);
  }
  if (!flatten) {
    std::vector<int64_t> shown = t;
    std::replace(shown.begin(), shown.end(), kBatchDim, int64_t{-1});
    return refuse(n, "only a reshape to [batch, " + std::to_string(width) +
                         "] (a flatten) is supported, not " +
                         ((*target)->integer ? ints_text(shown) : std::string("a float shape")));
  }
  act_.spatial = false;
  return add_layer(n, LayerSpec::of(LayerKind::flatten));
}

Result<Padding> GraphReader::padding(const onnx::NodeProto& n, std::size_t kh, std::size_t kw,
                                     std::size_t sh, std::size_t sw, std::size_t dh,
                                     std::size_t dw) const {
  const std::string auto_pad = [&] {
    for (const onnx::AttributeProto& a : n.attribute())
      if (a.name() == "auto_pad") return a.s();
    return std::string("NOTSET");
  }();
  if (auto_pad == "VALID") return Padding::valid;
  if (auto_pad == "SAME_UPPER") return Padding::same;
  if (auto_pad != "NOTSET")
    return refuse(n, "auto_pad " + auto_pad + " is not supported (NOTSET, VALID, SAME_UPPER)");
  const std::vector<int64_t> pads = attr_ints(n, "pads", {0, 0, 0, 0});
  if (pads.size() != 4) return refuse(n, "pads " + ints_text(pads) + ": need 4 values");
  bool valid = true, same = true;
  const std::size_t in[2] = {act_.shape.h, act_.shape.w}, k[2] = {kh, kw}, s[2] = {sh, sw},
                    d[2] = {dh, dw};
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t begin = pads[axis], end = pads[axis + 2];
    if (begin < 0 || end < 0) return refuse(n, "pads " + ints_text(pads) + " are negative");
    valid = valid && begin == 0 && end == 0;
    const std::size_t span = (k[axis] - 1) * d[axis] + 1;
    const std::size_t padded = in[axis] + static_cast<std::size_t>(begin + end);
    const std::size_t out = padded >= span ? (padded - span) / s[axis] + 1 : 0;
    const std::size_t same_out = (in[axis] + s[axis] - 1) / s[axis];
    same = same && out == same_out &&
           static_cast<std::size_t>(begin) ==
               pad_before(in[axis], same_out, k[axis], s[axis], d[axis]);
  }
  if (valid) return Padding::valid;
  if (same) return Padding::same;
  return refuse(
      n,
      "pads " + ints_text(pads) + " on a " + to_string(act_.shape) +
          " input are neither none nor 'same' (ceil(in / stride) outputs, the odd padding cell at "
          "the end): use padding (k - 1) / 2 with stride 1, or none");
}

Status GraphReader::conv_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(
      attributes(n, {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"}));
  if (!act_.spatial) return refuse(n, "needs an [N, C, H, W] input");
  Result<const Constant*> weight = constant_input(n, 1);
  if (!weight) return weight.status();
  const Constant& w = **weight;
  if (w.integer || w.dims.size() != 4 || std::find(w.dims.begin(), w.dims.end(), 0) != w.dims.end())
    return refuse(n, "only 2-D convolutions with float weights are supported, not weights " +
                         ints_text(w.dims));
  const auto size = [](int64_t v) { return static_cast<std::size_t>(v); };
  const std::size_t filters = size(w.dims[0]), group_in = size(w.dims[1]), kh = size(w.dims[2]),
                    kw = size(w.dims[3]);
  const std::vector<int64_t> kernel{w.dims[2], w.dims[3]};
  if (attr_ints(n, "kernel_shape", kernel) != kernel)
    return refuse(n, "kernel_shape does not match the weights " + ints_text(w.dims));
  const std::vector<int64_t> strides = attr_ints(n, "strides", {1, 1}),
                             dilations = attr_ints(n, "dilations", {1, 1});
  if (strides.size() != 2 || dilations.size() != 2 || strides[0] < 1 || strides[1] < 1 ||
      dilations[0] < 1 || dilations[1] < 1)
    return refuse(n, "strides " + ints_text(strides) + " or dilations " + ints_text(dilations) +
                         " are invalid");
  const std::size_t channels = act_.shape.c;
  const int64_t group = attr_int(n, "group", 1);
  LayerSpec layer = LayerSpec::conv(kh, kw, filters, size(strides[0]));
  layer.stride_w = size(strides[1]);
  layer.dilation_h = size(dilations[0]);
  layer.dilation_w = size(dilations[1]);
  if (group == 1 && group_in == channels) {
    layer.kind = LayerKind::conv2d;
  } else if (group == static_cast<int64_t>(channels) && filters == channels && group_in == 1) {
    layer.kind = LayerKind::depthwise_conv2d;
    layer.units = 0;
  } else {
    return refuse(n, "group " + std::to_string(group) + " with weights " + ints_text(w.dims) +
                         " on " + std::to_string(channels) +
                         " channels: only group 1 and depthwise (group = channels = "
                         "filters) are supported");
  }
  Result<Padding> pad =
      padding(n, kh, kw, layer.stride_h, layer.stride_w, layer.dilation_h, layer.dilation_w);
  if (!pad) return pad.status();
  layer.padding = *pad;
  layer.bias = has_input(n, 2);
  std::vector<ShapedTensor> tensors;
  tensors.push_back({n.input(1), {w.dims.begin(), w.dims.end()}, w.floats});
  if (layer.bias) {
    Result<const Constant*> bias = constant_input(n, 2);
    if (!bias) return bias.status();
    if ((*bias)->integer || (*bias)->size() != filters)
      return refuse(n, "the bias must hold one float per filter");
    tensors.push_back({n.input(2), {filters}, (*bias)->floats});
  }
  EDGEFL_RETURN_IF_ERROR(add_layer(n, layer));
  for (ShapedTensor& t : tensors) tensors_.push_back(std::move(t));
  return Status();
}

Status GraphReader::pool_node(const onnx::NodeProto& n, LayerKind kind) {
  if (kind == LayerKind::max_pool2d) {
    EDGEFL_RETURN_IF_ERROR(attributes(n, {"kernel_shape", "strides", "pads", "dilations",
                                          "ceil_mode", "storage_order", "auto_pad"}));
    if (n.output_size() > 1 && !n.output(1).empty())
      return refuse(n, "the Indices output is not supported");
  } else {
    EDGEFL_RETURN_IF_ERROR(attributes(
        n, {"kernel_shape", "strides", "pads", "ceil_mode", "count_include_pad", "auto_pad"}));
  }
  if (!act_.spatial) return refuse(n, "needs an [N, C, H, W] input");
  const std::vector<int64_t> kernel = attr_ints(n, "kernel_shape", {});
  const std::vector<int64_t> strides = attr_ints(n, "strides", {1, 1});
  if (kernel.size() != 2 || strides.size() != 2 || kernel[0] < 1 || kernel[1] < 1 ||
      strides[0] < 1 || strides[1] < 1)
    return refuse(n, "kernel_shape " + ints_text(kernel) + " or strides " + ints_text(strides) +
                         " are not 2-D");
  if (attr_ints(n, "dilations", {1, 1}) != std::vector<int64_t>{1, 1})
    return refuse(n, "dilations must be 1");
  if (attr_int(n, "ceil_mode", 0) != 0) return refuse(n, "ceil_mode 1 is not supported");
  if (attr_int(n, "storage_order", 0) != 0) return refuse(n, "storage_order 1 is not supported");
  LayerSpec layer = LayerSpec::pool(kind, 1);
  layer.kernel_h = static_cast<std::size_t>(kernel[0]);
  layer.kernel_w = static_cast<std::size_t>(kernel[1]);
  layer.stride_h = static_cast<std::size_t>(strides[0]);
  layer.stride_w = static_cast<std::size_t>(strides[1]);
  Result<Padding> pad =
      padding(n, layer.kernel_h, layer.kernel_w, layer.stride_h, layer.stride_w, 1, 1);
  if (!pad) return pad.status();
  layer.padding = *pad;
  if (kind == LayerKind::avg_pool2d && *pad == Padding::same &&
      attr_int(n, "count_include_pad", 0) != 0) {
    return refuse(n,
                  "count_include_pad 1 with padding: the runtime leaves padding out of the mean "
                  "(torch: AvgPool2d(count_include_pad=False) or padding 0)");
  }
  return add_layer(n, layer);
}

Status GraphReader::pad_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {"mode"}));
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.s() != "constant") return refuse(n, "mode '" + a.s() + "' is not supported");
  Result<const Constant*> pads = constant_input(n, 1);
  if (!pads) return pads.status();
  const bool zero =
      std::all_of((*pads)->ints.begin(), (*pads)->ints.end(), [](int64_t p) { return p == 0; });
  if (!(*pads)->integer || !zero) {
    return refuse(
        n,
        "only an all-zero Pad is supported (torch's before AvgPool2d without padding); for padded "
        "average pooling use AvgPool2d(count_include_pad=False)");
  }
  act_.name = n.output(0);  // the identity
  return Status();
}

Status GraphReader::clip_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {}));
  std::optional<float> bound[2];
  for (int k = 1; k <= 2; ++k) {
    if (!has_input(n, k)) continue;
    Result<const Constant*> c = constant_input(n, k);
    if (!c) return c.status();
    if ((*c)->integer || (*c)->size() != 1) return refuse(n, "min and max must be float scalars");
    bound[k - 1] = (*c)->floats[0];
  }
  if (bound[0] == 0.0f && bound[1] == 6.0f) return add_layer(n, LayerSpec::of(LayerKind::relu6));
  if (bound[0] == 0.0f && !bound[1]) return add_layer(n, LayerSpec::of(LayerKind::relu));
  return refuse(n, "only Clip(0, 6) (ReLU6) and Clip(0) (ReLU) are supported");
}

Status GraphReader::gemm_node(const onnx::NodeProto& n, bool matmul) {
  if (matmul) {
    EDGEFL_RETURN_IF_ERROR(attributes(n, {}));
  } else {
    EDGEFL_RETURN_IF_ERROR(attributes(n, {"alpha", "beta", "transA", "transB"}));
    if (attr_float(n, "alpha", 1.0f) != 1.0f || attr_float(n, "beta", 1.0f) != 1.0f ||
        attr_int(n, "transA", 0) != 0)
      return refuse(n, "only alpha 1, beta 1 and transA 0 are supported");
  }
  if (act_.spatial) return refuse(n, "needs an [N, D] input: flatten first");
  Result<const Constant*> weight = constant_input(n, 1);
  if (!weight) return weight.status();
  const Constant& w = **weight;
  const bool transposed =
      !matmul && attr_int(n, "transB", 0) != 0;  // [out, in], as nn.Linear holds it
  const std::size_t in = act_.shape.size();
  if (w.integer || w.dims.size() != 2 ||
      static_cast<std::size_t>(w.dims[transposed ? 1 : 0]) != in) {
    return refuse(
        n, "weights " + ints_text(w.dims) + " do not take the " + std::to_string(in) + " inputs");
  }
  const std::size_t out = static_cast<std::size_t>(w.dims[transposed ? 0 : 1]);
  ShapedTensor weights{n.input(1), {out, in}, w.floats};
  if (!transposed) {
    for (std::size_t i = 0; i < in; ++i)
      for (std::size_t o = 0; o < out; ++o) weights.values[o * in + i] = w.floats[i * out + o];
  }
  LayerSpec layer = LayerSpec::dense_layer(out, !matmul && has_input(n, 2));
  std::optional<ShapedTensor> bias;
  if (layer.bias) {
    Result<const Constant*> c = constant_input(n, 2);
    if (!c) return c.status();
    if ((*c)->integer || (*c)->size() != out || (*c)->dims.empty())
      return refuse(n, "the bias must hold one float per output (" + std::to_string(out) + ")");
    bias = ShapedTensor{n.input(2), {out}, (*c)->floats};
  }
  EDGEFL_RETURN_IF_ERROR(add_layer(n, layer));
  tensors_.push_back(std::move(weights));
  if (bias) tensors_.push_back(std::move(*bias));
  open_matmul_ = matmul ? n.output(0) : std::string();
  return Status();
}

Status GraphReader::add_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {}));
  const bool after_matmul = !open_matmul_.empty() && act_.name == open_matmul_ &&
                            n.input_size() == 2 &&
                            (n.input(0) == act_.name) != (n.input(1) == act_.name);
  if (!after_matmul) return refuse(n, "Add is supported only as the bias right after a MatMul");
  const std::string& other = n.input(n.input(0) == act_.name ? 1 : 0);
  auto c = constants_.find(other);
  const std::size_t out = layers_.back().units;
  if (c == constants_.end() || c->second.integer || c->second.size() != out ||
      c->second.dims.empty())
    return refuse(
        n, "the bias '" + other + "' must be a constant of " + std::to_string(out) + " floats");
  layers_.back().bias = true;
  tensors_.push_back({other, {out}, c->second.floats});
  open_matmul_.clear();
  act_.name = n.output(0);
  return Status();
}

Status GraphReader::dropout_node(const onnx::NodeProto& n) {
  EDGEFL_RETURN_IF_ERROR(attributes(n, {"seed", "ratio"}));
  if (has_input(n, 2))
    return refuse(n, "the training_mode input is not supported (export in eval mode)");
  float rate = attr_float(n, "ratio", 0.5f);
  if (has_input(n, 1)) {
    Result<const Constant*> ratio = constant_input(n, 1);
    if (!ratio) return ratio.status();
    if ((*ratio)->integer || (*ratio)->size() != 1)
      return refuse(n, "ratio must be a float scalar");
    rate = (*ratio)->floats[0];
  }
  if (!(rate >= 0.0f && rate < 1.0f))
    return refuse(n, "ratio " + std::to_string(rate) + " is outside [0, 1)");
  LayerSpec layer = LayerSpec::of(LayerKind::dropout);
  layer.rate = rate;
  return add_layer(n, layer);
}

}  // namespace

Result<ImportedModel> import_onnx(std::span<const uint8_t> bytes, std::string_view origin) {
  const std::string where(origin);
  if (bytes.size() > kMaxOnnxBytes)
    return make_status(StatusCode::too_large, where + ": over 1 GiB");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return make_status(StatusCode::corrupt,
                       where + ": not an ONNX model (the protobuf does not parse)");
  GraphReader reader;
  Result<ImportedModel> imported = reader.read(model);
  if (!imported) return imported.status().with_context(where);
  return imported;
}

Result<ImportedModel> read_onnx(const std::string& path) {
  Result<std::vector<std::byte>> bytes = read_file(path, kMaxOnnxBytes);
  if (!bytes) return bytes.status();
  return import_onnx(std::span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()),
                     path);
}

}  // namespace edgefl::onnx_io
