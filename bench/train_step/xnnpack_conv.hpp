// XNNPACK's convolution operators against edgefl's conv passes, per Conv2D layer of the benched
// CNNs and batch, one thread. Debian 12's XNNPACK (2022) has convolution2d (forward) and
// deconvolution2d (the input gradient is a transposed convolution with the same weights) but no
// weight-gradient operator, and both pack their weights when created. Weights change every
// training step, so a step on XNNPACK pays: creating the operator (packing), running it, and
// transposing between edgefl's feature-major [h*w*c][batch] activations and XNNPACK's NHWC.
// Each part is timed on its own; edgefl's passes through one-layer Networks with the tail
// T = "flatten dense1 loss:squared" (the loss takes one output):
//   forward         in:HxWxC convKxKxF T, Network::forward
//   weight gradient the same Network's forward_backward minus its forward (a first layer
//                   computes no input gradient)
//   input gradient  forward_backward of in:HxWxC dwconv1x1 convKxKxF T minus that of the first
//                   (the 1x1 depthwise layer makes the conv compute its input gradient)
// The tail and the depthwise layer count on edgefl's side: its times are upper bounds.
// Before timing, XNNPACK's forward output and its deconvolution are checked against the layer's
// forward pass and input gradient written out from their definitions, so the timed operators
// compute what the layer needs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace edgefl::bench {

struct ConvLayerCase {
  std::string name;                      // e.g. "fedavg_cnn.conv2"
  std::size_t h, w, c, kernel, filters;  // stride 1, dilation 1, "same" padding, odd kernel
};

// The Conv2D layers of the FedAvg CNN and of the small CNN.
std::vector<ConvLayerCase> benched_conv_layers();

// Milliseconds per step (median slice) of each part.
struct ConvOpTiming {
  double edgefl_forward = 0, edgefl_weight_grad = 0, edgefl_input_grad = 0;
  double xnn_forward_create = 0, xnn_forward_run = 0, xnn_forward_transpose = 0;
  double xnn_input_grad_create = 0, xnn_input_grad_run = 0, xnn_input_grad_transpose = 0;
  double forward_max_error = 0,
         input_grad_max_error = 0;  // of the checks, relative to the largest value
};

// Times one layer at one batch over `slices` alternating slices of `slice_seconds` per part;
// false (with a message on stderr) when XNNPACK is missing or an operator fails or disagrees.
bool time_conv_ops(const ConvLayerCase& layer, std::size_t batch, int slices, double slice_seconds,
                   ConvOpTiming& out);

}  // namespace edgefl::bench
