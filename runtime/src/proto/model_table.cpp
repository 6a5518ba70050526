#include "model_table.hpp"

#include <string>
#include <vector>

#include "validate.hpp"

namespace edgefl::proto_detail {
namespace {

constexpr uint8_t kLayerKinds = static_cast<uint8_t>(LayerKind::dropout) + 1;
constexpr uint8_t kPaddings = static_cast<uint8_t>(Padding::valid) + 1;
constexpr uint8_t kLosses = static_cast<uint8_t>(LossKind::logistic) + 1;
constexpr uint8_t kInits = static_cast<uint8_t>(InitKind::zeros) + 1;

Status unknown(std::string_view what, uint8_t raw) {
  return Status(StatusCode::unknown_enum,
                std::string(what) + " has unknown value " + std::to_string(raw));
}

Result<LayerSpec> read_layer(const fb::Layer& in, std::size_t index) {
  const std::string what = "task.model.layers[" + std::to_string(index) + "]";
  if (in.kind() >= kLayerKinds) return unknown(what + ".kind", in.kind());
  if (in.padding() >= kPaddings) return unknown(what + ".padding", in.padding());
  // Fields that do not apply to the kind keep its defaults, so a table equals the text's spec
  // whatever a peer wrote there.
  const LayerKind kind = static_cast<LayerKind>(in.kind());
  const bool conv = kind == LayerKind::conv2d || kind == LayerKind::depthwise_conv2d;
  const bool windowed = conv || kind == LayerKind::max_pool2d || kind == LayerKind::avg_pool2d;
  LayerSpec layer = LayerSpec::of(kind);
  if (kind == LayerKind::dense || kind == LayerKind::conv2d) layer.units = in.units();
  if (windowed) {
    layer.kernel_h = in.kernel_h();
    layer.kernel_w = in.kernel_w();
    layer.stride_h = in.stride_h();
    layer.stride_w = in.stride_w();
    layer.padding = static_cast<Padding>(in.padding());
  }
  if (conv) {
    layer.dilation_h = in.dilation_h();
    layer.dilation_w = in.dilation_w();
  }
  if (kind == LayerKind::conv2d) layer.conv1d = in.conv1d();
  if (layer.has_parameters()) layer.bias = in.bias();
  if (kind == LayerKind::dropout) layer.rate = in.rate();
  return layer;
}

}  // namespace

flatbuffers::Offset<fb::Model> write_model(flatbuffers::FlatBufferBuilder& b,
                                           const ModelSpec& spec) {
  std::vector<flatbuffers::Offset<fb::Layer>> layers;
  layers.reserve(spec.layers.size());
  for (const LayerSpec& l : spec.layers) {
    layers.push_back(
        fb::CreateLayer(b, static_cast<uint8_t>(l.kind), static_cast<uint32_t>(l.units),
                        static_cast<uint32_t>(l.kernel_h), static_cast<uint32_t>(l.kernel_w),
                        static_cast<uint32_t>(l.stride_h), static_cast<uint32_t>(l.stride_w),
                        static_cast<uint32_t>(l.dilation_h), static_cast<uint32_t>(l.dilation_w),
                        static_cast<uint8_t>(l.padding), l.bias, l.conv1d, l.rate));
  }
  const auto list = b.CreateVector(layers);
  return fb::CreateModel(b, static_cast<uint32_t>(spec.input.h),
                         static_cast<uint32_t>(spec.input.w), static_cast<uint32_t>(spec.input.c),
                         list, static_cast<uint8_t>(spec.loss), static_cast<uint8_t>(spec.init));
}

Result<ModelSpec> read_model(const fb::Model& in, const DecodeLimits& limits) {
  const uint32_t dims[] = {in.input_h(), in.input_w(), in.input_c()};
  for (uint32_t dim : dims) {
    if (dim == 0 || dim > ModelSpec::kMaxWidth) {
      return Status(StatusCode::out_of_range,
                    "task.model.input dimensions must be in 1..2^20, got " +
                        std::to_string(in.input_h()) + "x" + std::to_string(in.input_w()) + "x" +
                        std::to_string(in.input_c()));
    }
  }
  if (in.loss() >= kLosses) return unknown("task.model.loss", in.loss());
  if (in.init_kind() >= kInits) return unknown("task.model.init_kind", in.init_kind());
  std::vector<LayerSpec> layers;
  if (const auto* list = in.layers()) {
    EDGEFL_RETURN_IF_ERROR(check_list(list->size(), "task.model.layers", limits));
    if (list->size() > ModelSpec::kMaxLayers) {
      return Status(StatusCode::too_large, "task.model has " + std::to_string(list->size()) +
                                               " layers, limit is " +
                                               std::to_string(ModelSpec::kMaxLayers));
    }
    for (flatbuffers::uoffset_t i = 0; i < list->size(); ++i) {
      Result<LayerSpec> layer = read_layer(*list->Get(i), i);
      if (!layer) return layer.status();
      layers.push_back(*layer);
    }
  }
  Result<ModelSpec> spec = ModelSpec::from_layers(
      Shape{in.input_h(), in.input_w(), in.input_c()}, std::move(layers),
      static_cast<LossKind>(in.loss()), static_cast<InitKind>(in.init_kind()));
  if (!spec) return spec.status().with_context("task.model");
  return spec;
}

}  // namespace edgefl::proto_detail
