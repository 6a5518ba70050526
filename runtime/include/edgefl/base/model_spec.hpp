// ModelSpec: the small textual description of a model that the server sends to devices.
//
//   mlp:784-256-128-10:relu     Dense 784->256, ReLU, Dense 256->128, ReLU, Dense 128->10,
//                               softmax cross-entropy loss
//   linear:1000-1               one Dense layer without bias; squared loss (regression)
//   linear:1000-1:logistic      the same with logistic loss (labels 0/1)
//
//   Result<ModelSpec> spec = ModelSpec::parse("mlp:784-256-128-10:relu");
//   spec->parameter_count();   // 235146
//
// The flat parameter layout is fixed by the spec, so a device and the server agree on it
// without sending shapes: for each Dense layer in order, its weights as [out][in] row-major
// (the kernel layout of XNNPACK's fully-connected operator), then its bias [out] if it has one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgefl/base/status.hpp"

namespace edgefl {

enum class ModelKind : uint8_t { mlp, linear };
enum class LossKind : uint8_t { softmax_cross_entropy, squared, logistic };

// Where one Dense layer's tensors sit inside the flat parameter buffer.
struct DenseLayout {
  std::size_t inputs = 0;
  std::size_t outputs = 0;
  std::size_t weight_offset = 0;  // [outputs][inputs]
  std::size_t bias_offset = 0;    // [outputs]; meaningless when !has_bias
  bool has_bias = true;
};

struct ModelSpec {
  // Sanity limits for specs that arrive from the network.
  static constexpr std::size_t kMaxLayers = 16;
  static constexpr std::size_t kMaxWidth = 1u << 20;
  static constexpr std::size_t kMaxParameters = std::size_t{1} << 28;

  ModelKind kind = ModelKind::mlp;
  std::vector<std::size_t> widths;  // input width, hidden widths..., output width
  LossKind loss = LossKind::softmax_cross_entropy;

  // Parses and validates; errors name the offending part of the text.
  static Result<ModelSpec> parse(std::string_view text);
  // Canonical text; parse(to_string()) gives back an equal spec.
  std::string to_string() const;

  std::size_t input_size() const { return widths.front(); }
  std::size_t output_size() const { return widths.back(); }
  std::size_t dense_count() const { return widths.size() - 1; }
  bool has_bias() const { return kind == ModelKind::mlp; }
  std::vector<DenseLayout> dense_layouts() const;
  std::size_t parameter_count() const;

  bool operator==(const ModelSpec&) const = default;
};

}  // namespace edgefl
