// The layer families behind make_layers (edgefl/nn/layer.hpp). Private to runtime/src/nn.
#pragma once

#include <memory>

#include "edgefl/nn/layer.hpp"

namespace edgefl {

// fuse_relu: the ReLU after this Dense layer is applied here (see make_layers).
std::unique_ptr<Layer> make_dense(LayerGeometry g, bool fuse_relu);
std::unique_ptr<Layer> make_conv2d(LayerGeometry g);
std::unique_ptr<Layer> make_depthwise_conv2d(LayerGeometry g);
// max_pool2d, avg_pool2d, global_avg_pool.
std::unique_ptr<Layer> make_pool(LayerGeometry g);
// relu, relu6, flatten; fused: the Dense layer before already applied this ReLU.
std::unique_ptr<Layer> make_elementwise(LayerGeometry g, bool fused);
// `index`: the layer's position, one of the inputs of its masks.
std::unique_ptr<Layer> make_dropout(LayerGeometry g, std::size_t index);

}  // namespace edgefl
