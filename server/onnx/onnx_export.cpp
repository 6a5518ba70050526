// The inference graph of a model: one ONNX node per layer, NCHW throughout.
#include "edgefl/io/model_tensors.hpp"
#include "edgefl/store/atomic_file.hpp"
#include "onnx_model.hpp"

#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h (ONNX_ML=1)

namespace edgefl::onnx_io {

namespace {

constexpr int64_t kOpset = 14;
constexpr int64_t kIrVersion = 7;

class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto& graph) : graph_(graph) {}

  // A node reading the current tensor (and `extra` inputs), writing the next one.
  onnx::NodeProto& node(const std::string& op, const std::string& scope,
                        std::vector<std::string> extra = {}) {
    onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type(op);
    n.set_name("/" + scope + "/" + op);
    n.add_input(current_);
    for (const std::string& input : extra) n.add_input(input);
    current_ = "/" + scope + "/" + op + "_output_0";
    n.add_output(current_);
    return n;
  }
  // A scalar Constant node's output.
  std::string scalar(const std::string& scope, const std::string& what, float value) {
    onnx::NodeProto& n = *graph_.add_node();
    n.set_op_type("Constant");
    n.set_name("/" + scope + "/" + what);
    n.add_output("/" + scope + "/" + what + "_output_0");
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name("value");
    a.set_type(onnx::AttributeProto::TENSOR);
    a.mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
    a.mutable_t()->add_float_data(value);
    return n.output(0);
  }
  void initialiser(const ShapedTensor& tensor, std::vector<int64_t> dims) {
    onnx::TensorProto& t = *graph_.add_initializer();
    t.set_name(tensor.name);
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t.add_dims(d);
    t.set_raw_data(reinterpret_cast<const char*>(tensor.values.data()),
                   tensor.values.size() * sizeof(float));
  }
  void input(const std::string& name) { current_ = name; }
  const std::string& current() const { return current_; }
  void rename_last_output(const std::string& name) {
    graph_.mutable_node(graph_.node_size() - 1)->set_output(0, name);
    current_ = name;
  }

 private:
  onnx::GraphProto& graph_;
  std::string current_;
};

void ints(onnx::NodeProto& n, const std::string& name, std::vector<int64_t> values) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a.add_ints(v);
}

void integer(onnx::NodeProto& n, const std::string& name, int64_t value) {
  onnx::AttributeProto& a = *n.add_attribute();
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(value);
}

// ONNX pads [top, left, bottom, right] of a conv or pool layer.
std::vector<int64_t> pads_of(const LayerGeometry& g) {
  if (g.spec.padding == Padding::valid) return {0, 0, 0, 0};
  const std::size_t in[2] = {g.in.h, g.in.w}, out[2] = {g.out.h, g.out.w};
  const std::size_t k[2] = {g.spec.kernel_h, g.spec.kernel_w},
                    s[2] = {g.spec.stride_h, g.spec.stride_w};
  const std::size_t d[2] = {g.spec.dilation_h, g.spec.dilation_w};
  std::vector<int64_t> pads(4);
  for (int axis = 0; axis < 2; ++axis) {
    const std::size_t needed = (out[axis] - 1) * s[axis] + (k[axis] - 1) * d[axis] + 1;
    const std::size_t total = needed > in[axis] ? needed - in[axis] : 0;
    const std::size_t before = pad_before(in[axis], out[axis], k[axis], s[axis], d[axis]);
    pads[axis] = static_cast<int64_t>(before);
    pads[axis + 2] = static_cast<int64_t>(total - before);
  }
  return pads;
}

void value_info(onnx::ValueInfoProto& v, const std::string& name, std::vector<int64_t> dims) {
  v.set_name(name);
  onnx::TypeProto_Tensor& t = *v.mutable_type()->mutable_tensor_type();
  t.set_elem_type(onnx::TensorProto::FLOAT);
  t.mutable_shape()->add_dim()->set_dim_param("batch");
  for (int64_t d : dims) t.mutable_shape()->add_dim()->set_dim_value(d);
}

bool spatial_model(const ModelSpec& spec) {
  for (const LayerSpec& l : spec.layers) {
    switch (l.kind) {
      case LayerKind::conv2d:
      case LayerKind::depthwise_conv2d:
      case LayerKind::max_pool2d:
      case LayerKind::avg_pool2d:
      case LayerKind::global_avg_pool:
        return true;
      default:
        break;
    }
  }
  return !spec.input.flat();
}

}  // namespace

Result<std::string> export_onnx(const ModelSpec& spec, std::span<const float> params,
                                std::span<const std::string> names) {
  Result<SafetensorsFile> tensors = model_tensors(spec, params, names);
  if (!tensors) return tensors.status();
  onnx::ModelProto model;
  model.set_ir_version(kIrVersion);
  model.set_producer_name("edgefl");
  model.set_doc_string(spec.to_string());
  onnx::OperatorSetIdProto& opset = *model.add_opset_import();
  opset.set_domain("");
  opset.set_version(kOpset);
  onnx::GraphProto& graph = *model.mutable_graph();
  graph.set_name("edgefl");
  GraphWriter w(graph);

  bool spatial = spatial_model(spec);
  const auto dim = [](std::size_t v) { return static_cast<int64_t>(v); };
  value_info(*graph.add_input(), "input",
             spatial ? std::vector<int64_t>{dim(spec.input.c), dim(spec.input.h), dim(spec.input.w)}
                     : std::vector<int64_t>{dim(spec.input.size())});
  w.input("input");

  const std::vector<LayerGeometry> layers = spec.geometry();
  std::size_t next_tensor = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const LayerGeometry& g = layers[i];
    const std::string scope = "layers." + std::to_string(i);
    std::vector<std::string> weights;
    for (std::size_t t = 0; t < g.params.size(); ++t)
      weights.push_back(tensors->tensors[next_tensor + t].name);
    switch (g.spec.kind) {
      case LayerKind::conv2d:
      case LayerKind::depthwise_conv2d: {
        const bool depthwise = g.spec.kind == LayerKind::depthwise_conv2d;
        const int64_t filters = dim(depthwise ? g.in.c : g.spec.units);
        w.initialiser(tensors->tensors[next_tensor], {filters, depthwise ? 1 : dim(g.in.c),
                                                      dim(g.spec.kernel_h), dim(g.spec.kernel_w)});
        if (g.params.size() > 1) w.initialiser(tensors->tensors[next_tensor + 1], {filters});
        onnx::NodeProto& n = w.node("Conv", scope, weights);
        ints(n, "dilations", {dim(g.spec.dilation_h), dim(g.spec.dilation_w)});
        integer(n, "group", depthwise ? dim(g.in.c) : 1);
        ints(n, "kernel_shape", {dim(g.spec.kernel_h), dim(g.spec.kernel_w)});
        ints(n, "pads", pads_of(g));
        ints(n, "strides", {dim(g.spec.stride_h), dim(g.spec.stride_w)});
        break;
      }
      case LayerKind::max_pool2d:
      case LayerKind::avg_pool2d: {
        const bool max = g.spec.kind == LayerKind::max_pool2d;
        onnx::NodeProto& n = w.node(max ? "MaxPool" : "AveragePool", scope);
        if (!max) integer(n, "count_include_pad", 0);
        ints(n, "kernel_shape", {dim(g.spec.kernel_h), dim(g.spec.kernel_w)});
        ints(n, "pads", pads_of(g));
        ints(n, "strides", {dim(g.spec.stride_h), dim(g.spec.stride_w)});
        break;
      }
      case LayerKind::global_avg_pool:
        w.node("GlobalAveragePool", scope);
        break;
      case LayerKind::flatten:
        integer(w.node("Flatten", scope), "axis", 1);
        spatial = false;
        break;
      case LayerKind::dense: {
        if (spatial) {  // the runtime's 1x1xC after gap is [N, C, 1, 1] here
          integer(w.node("Flatten", scope + "/flatten"), "axis", 1);
          spatial = false;
        }
        w.initialiser(tensors->tensors[next_tensor], {dim(g.spec.units), dim(g.in.size())});
        if (g.params.size() > 1)
          w.initialiser(tensors->tensors[next_tensor + 1], {dim(g.spec.units)});
        integer(w.node("Gemm", scope, weights), "transB", 1);
        break;
      }
      case LayerKind::relu:
        w.node("Relu", scope);
        break;
      case LayerKind::relu6: {
        const std::string low = w.scalar(scope, "min", 0.0f), high = w.scalar(scope, "max", 6.0f);
        w.node("Clip", scope, {low, high});
        break;
      }
      case LayerKind::dropout:
        break;  // identity in inference
    }
    next_tensor += g.params.size();
  }
  if (graph.node_size() == 0 || graph.node(graph.node_size() - 1).output(0) != w.current())
    w.node("Identity", "output");
  w.rename_last_output("output");
  const Shape out = layers.back().out;
  value_info(*graph.add_output(), "output",
             spatial ? std::vector<int64_t>{dim(out.c), dim(out.h), dim(out.w)}
                     : std::vector<int64_t>{dim(out.size())});
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return make_status(StatusCode::internal, "the ONNX model does not serialise");
  return bytes;
}

Status write_onnx(const std::string& path, const ModelSpec& spec, std::span<const float> params,
                  std::span<const std::string> names) {
  Result<std::string> bytes = export_onnx(spec, params, names);
  if (!bytes) return bytes.status();
  return atomic_write_file(path, std::as_bytes(std::span(*bytes)));
}

}  // namespace edgefl::onnx_io
