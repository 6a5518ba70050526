// The layer families behind make_layers (edgefl/nn/layer.hpp). Private to runtime/src/nn.
#pragma once

#include <memory>

#include "edgefl/nn/layer.hpp"

namespace edgefl {

// fuse_relu: the ReLU after this Dense layer is applied here (see make_layers).
std::unique_ptr<Layer> make_dense(LayerGeometry g, bool fuse_relu);
// fuse_relu: the ReLU after this Conv2D layer is applied here, pixel by pixel.
std::unique_ptr<Layer> make_conv2d(LayerGeometry g, bool fuse_relu);
std::unique_ptr<Layer> make_depthwise_conv2d(LayerGeometry g);
// max_pool2d, avg_pool2d, global_avg_pool. relu_before: the layer before is a ReLU whose
// backward mask this pool applies (only where pool_fuses_relu_backward).
std::unique_ptr<Layer> make_pool(LayerGeometry g, bool relu_before);
bool pool_fuses_relu_backward(const LayerSpec& pool);
// relu, relu6, flatten. fused_forward: the Dense or Conv2D layer before already applied this
// ReLU; fused_backward: the pool after applies its backward mask.
std::unique_ptr<Layer> make_elementwise(LayerGeometry g, bool fused_forward, bool fused_backward);
// `index`: the layer's position, one of the inputs of its masks.
std::unique_ptr<Layer> make_dropout(LayerGeometry g, std::size_t index);

}  // namespace edgefl
