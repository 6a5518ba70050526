#include "xnnpack_conv.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "edgefl/base/rng.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/nn/network.hpp"

#ifdef EDGEFL_HAVE_XNNPACK
#include <xnnpack.h>
#endif

namespace edgefl::bench {

std::vector<ConvLayerCase> benched_conv_layers() {
  return {{"fedavg_cnn.conv1", 28, 28, 1, 5, 32},
          {"fedavg_cnn.conv2", 14, 14, 32, 5, 64},
          {"small_cnn.conv1", 28, 28, 1, 3, 8},
          {"small_cnn.conv2", 14, 14, 8, 3, 16}};
}

#ifndef EDGEFL_HAVE_XNNPACK
bool time_conv_ops(const ConvLayerCase&, std::size_t, int, double, ConvOpTiming&) {
  std::fprintf(
      stderr, "edgefl-bench-train-step: built without XNNPACK: no convolution operators to time\n");
  return false;
}
#else

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// XNNPACK reads a little past the end of its operands.
std::vector<float> padded(std::size_t n) {
  return std::vector<float>(n + 16, 0.0f);
}

// dst[c][r] = src[r][c], in 16x16 blocks.
void transpose(const float* src, std::size_t rows, std::size_t cols, float* dst) {
  constexpr std::size_t kBlock = 16;
  for (std::size_t r0 = 0; r0 < rows; r0 += kBlock) {
    for (std::size_t c0 = 0; c0 < cols; c0 += kBlock) {
      for (std::size_t r = r0; r < std::min(rows, r0 + kBlock); ++r) {
        for (std::size_t c = c0; c < std::min(cols, c0 + kBlock); ++c)
          dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

struct OperatorDeleter {
  void operator()(xnn_operator* op) const { xnn_delete_operator(op); }
};
using Operator = std::unique_ptr<xnn_operator, OperatorDeleter>;

// The layer's weights [filters][k][k][c], bias, and one batch of input x and output gradient dy,
// both NHWC and feature-major; with what XNNPACK writes.
struct Operands {
  Operands(const ConvLayerCase& l, std::size_t batch)
      : layer(l),
        batch(batch),
        in(l.h * l.w * l.c),
        out(l.h * l.w * l.filters),
        taps(l.kernel * l.kernel * l.c),
        weights(padded(l.filters * taps)),
        weights_t(padded(l.filters * taps)),
        bias(padded(l.filters)),
        x(padded(in * batch)),
        x_nhwc(padded(in * batch)),
        y_nhwc(padded(out * batch)),
        y(padded(out * batch)),
        dy(padded(out * batch)),
        dy_nhwc(padded(out * batch)),
        dx_nhwc(padded(in * batch)),
        dx(padded(in * batch)) {
    Rng rng(11);
    for (std::size_t i = 0; i < l.filters * taps; ++i) weights[i] = rng.uniform() - 0.5f;
    for (std::size_t i = 0; i < l.filters; ++i) bias[i] = rng.uniform() - 0.5f;
    for (std::size_t i = 0; i < in * batch; ++i) x[i] = rng.uniform();
    for (std::size_t i = 0; i < out * batch; ++i) dy[i] = rng.uniform() - 0.5f;
  }

  const ConvLayerCase& layer;
  std::size_t batch, in, out, taps;
  std::vector<float> weights, weights_t, bias, x, x_nhwc, y_nhwc, y, dy, dy_nhwc, dx_nhwc, dx;
};

constexpr float kInf = std::numeric_limits<float>::infinity();

// The part every timed operator shares once set up: the run, its destruction (counted as
// creation, as the step would pay it) and the NHWC output transposed back to feature-major
// [cols][rows]. Adds each part's milliseconds.
bool run_and_take_output(Operator op, const float* nhwc, std::size_t rows, std::size_t cols, float* out,
                         double& create_ms, double& run_ms, double& transpose_ms) {
  auto start = Clock::now();
  if (xnn_run_operator(op.get(), nullptr) != xnn_status_success) return false;
  run_ms += ms_since(start);
  start = Clock::now();
  op.reset();
  create_ms += ms_since(start);
  start = Clock::now();
  transpose(nhwc, rows, cols, out);
  transpose_ms += ms_since(start);
  return true;
}

// One training step's XNNPACK forward pass: operands in, a fresh operator (the weights are new
// each step), the run, the output back. Adds each part's milliseconds.
bool xnn_forward(Operands& o, double& create_ms, double& run_ms, double& transpose_ms) {
  const ConvLayerCase& l = o.layer;
  const uint32_t pad = uint32_t(l.kernel / 2), k = uint32_t(l.kernel);
  auto start = Clock::now();
  transpose(o.x.data(), o.in, o.batch, o.x_nhwc.data());
  transpose_ms += ms_since(start);
  start = Clock::now();
  xnn_operator_t raw = nullptr;
  if (xnn_create_convolution2d_nhwc_f32(pad, pad, pad, pad, k, k, 1, 1, 1, 1, 1, l.c, l.filters,
                                        l.c, l.filters, o.weights.data(), o.bias.data(), -kInf,
                                        kInf, 0, &raw) != xnn_status_success) {
    return false;
  }
  Operator op(raw);
  create_ms += ms_since(start);
  start = Clock::now();
  if (xnn_setup_convolution2d_nhwc_f32(op.get(), o.batch, l.h, l.w, o.x_nhwc.data(),
                                       o.y_nhwc.data(), nullptr) != xnn_status_success) {
    return false;
  }
  run_ms += ms_since(start);
  return run_and_take_output(std::move(op), o.y_nhwc.data(), o.batch, o.out, o.y.data(), create_ms, run_ms,
                             transpose_ms);
}

// The input gradient as XNNPACK's transposed convolution: dX = deconv(dY) with the weights
// regrouped as [c][k][k][filters] (its kernel layout: output channels first). Counted as creation.
bool xnn_input_grad(Operands& o, double& create_ms, double& run_ms, double& transpose_ms) {
  const ConvLayerCase& l = o.layer;
  const uint32_t pad = uint32_t(l.kernel / 2), k = uint32_t(l.kernel);
  auto start = Clock::now();
  transpose(o.dy.data(), o.out, o.batch, o.dy_nhwc.data());
  transpose_ms += ms_since(start);
  start = Clock::now();
  // weights [f][t][c] -> weights_t [c][t][f], t the k*k window taps
  const std::size_t window = l.kernel * l.kernel;
  for (std::size_t f = 0; f < l.filters; ++f) {
    for (std::size_t t = 0; t < window; ++t) {
      for (std::size_t c = 0; c < l.c; ++c) {
        o.weights_t[(c * window + t) * l.filters + f] = o.weights[(f * window + t) * l.c + c];
      }
    }
  }
  xnn_operator_t raw = nullptr;
  if (xnn_create_deconvolution2d_nhwc_f32(pad, pad, pad, pad, k, k, 1, 1, 1, 1, 1, l.filters, l.c,
                                          l.filters, l.c, o.weights_t.data(), nullptr, -kInf, kInf,
                                          0, &raw) != xnn_status_success) {
    return false;
  }
  Operator op(raw);
  create_ms += ms_since(start);
  start = Clock::now();
  if (xnn_setup_deconvolution2d_nhwc_f32(op.get(), o.batch, l.h, l.w, 0, 0, o.dy_nhwc.data(),
                                         o.dx_nhwc.data(), nullptr) != xnn_status_success) {
    return false;
  }
  run_ms += ms_since(start);
  return run_and_take_output(std::move(op), o.dx_nhwc.data(), o.batch, o.in, o.dx.data(), create_ms, run_ms,
                             transpose_ms);
}

// Largest |got - want| over the first two samples, relative to the largest |want|, with want
// the layer's forward pass (or, input_grad, its input gradient) written out from the definition
// on the feature-major operands.
double max_error(const Operands& o, bool input_grad) {
  const ConvLayerCase& l = o.layer;
  const long pad = long(l.kernel / 2);
  const std::size_t samples = std::min<std::size_t>(2, o.batch);
  double worst = 0, scale = 0;
  std::vector<double> want(input_grad ? o.in : o.out);
  for (std::size_t s = 0; s < samples; ++s) {
    std::fill(want.begin(), want.end(), 0.0);
    for (std::size_t oy = 0; oy < l.h; ++oy) {
      for (std::size_t ox = 0; ox < l.w; ++ox) {
        for (std::size_t f = 0; f < l.filters; ++f) {
          const std::size_t o_at = (oy * l.w + ox) * l.filters + f;
          if (!input_grad) want[o_at] = o.bias[f];
          for (std::size_t ky = 0; ky < l.kernel; ++ky) {
            for (std::size_t kx = 0; kx < l.kernel; ++kx) {
              const long iy = long(oy) + long(ky) - pad, ix = long(ox) + long(kx) - pad;
              if (iy < 0 || ix < 0 || iy >= long(l.h) || ix >= long(l.w)) continue;
              for (std::size_t c = 0; c < l.c; ++c) {
                const std::size_t i_at = (std::size_t(iy) * l.w + std::size_t(ix)) * l.c + c;
                const double w = o.weights[((f * l.kernel + ky) * l.kernel + kx) * l.c + c];
                if (input_grad) {
                  want[i_at] += w * o.dy[o_at * o.batch + s];
                } else {
                  want[o_at] += w * o.x[i_at * o.batch + s];
                }
              }
            }
          }
        }
      }
    }
    const std::vector<float>& got = input_grad ? o.dx : o.y;
    for (std::size_t i = 0; i < want.size(); ++i) {
      worst = std::max(worst, std::abs(double(got[i * o.batch + s]) - want[i]));
      scale = std::max(scale, std::abs(want[i]));
    }
  }
  return scale > 0 ? worst / scale : worst;
}

// A one-conv-layer Network of edgefl's direct backend; tail "flatten dense1 loss:squared" (the
// loss takes one output), timed as part of the conv passes (it makes edgefl's times an upper
// bound).
class EdgeflLayer {
 public:
  EdgeflLayer(const ComputeContext& ctx, const ConvLayerCase& l, std::size_t batch,
              bool with_input_grad)
      : batch_(batch) {
    char text[160];
    std::snprintf(text, sizeof text, "in:%zux%zux%zu %sconv%zux%zux%zu flatten dense1 loss:squared",
                  l.h, l.w, l.c, with_input_grad ? "dwconv1x1 " : "", l.kernel, l.kernel,
                  l.filters);
    auto spec = ModelSpec::parse(text);
    if (!spec) return;
    auto net = Network::create(*spec, ctx, {batch, false});
    auto model = Model::create(*spec, 1);
    if (!net || !model) return;
    net_ = std::move(*net);
    model_.emplace(std::move(*model));
    Rng rng(5);
    for (std::size_t i = 0; i < spec->input_size() * batch; ++i) net_->input()[i] = rng.uniform();
    for (std::size_t s = 0; s < batch; ++s) net_->targets()[s] = rng.uniform();
  }
  bool ok() const { return net_ != nullptr; }
  bool forward() { return net_->forward(model_->params().span(), batch_).ok(); }
  bool forward_backward() {
    return net_
        ->forward_backward(model_->params().span(), model_->grads().span(), batch_,
                           1.0f / float(batch_), false)
        .ok();
  }

 private:
  std::size_t batch_;
  std::unique_ptr<Network> net_;
  std::optional<Model> model_;
};

// Milliseconds per call of `step` over one slice (at least one call).
template <typename Step>
double slice_ms(double seconds, Step&& step) {
  std::size_t calls = 0;
  const auto start = Clock::now();
  do {
    if (!step()) return -1;
    ++calls;
  } while (ms_since(start) < 1000 * seconds);
  return ms_since(start) / double(calls);
}

}  // namespace

bool time_conv_ops(const ConvLayerCase& layer, std::size_t batch, int slices, double slice_seconds,
                   ConvOpTiming& out) {
  auto fail = [&](const char* what) {
    std::fprintf(stderr, "edgefl-bench-train-step: %s, batch %zu: %s\n", layer.name.c_str(), batch,
                 what);
    return false;
  };
  auto xnn_ctx = ComputeContext::create(Backend::xnnpack, 1);  // initialises XNNPACK
  auto direct = ComputeContext::create(Backend::direct, 1);
  if (!xnn_ctx || (*xnn_ctx)->backend() != Backend::xnnpack || !direct)
    return fail("XNNPACK or direct unavailable");
  // A first layer (c == 1 here) needs no input gradient.
  const bool input_grad = layer.c > 1;
  EdgeflLayer first(**direct, layer, batch, false);
  std::optional<EdgeflLayer> inner;
  if (input_grad) inner.emplace(**direct, layer, batch, true);
  if (!first.ok() || (inner && !inner->ok())) return fail("cannot build the edgefl networks");

  Operands o(layer, batch);
  double unused = 0;
  if (!xnn_forward(o, unused, unused, unused)) return fail("XNNPACK convolution2d failed");
  out.forward_max_error = max_error(o, false);
  if (input_grad) {
    if (!xnn_input_grad(o, unused, unused, unused)) return fail("XNNPACK deconvolution2d failed");
    out.input_grad_max_error = max_error(o, true);
  }
  if (out.forward_max_error > 1e-4 || out.input_grad_max_error > 1e-4)
    return fail("XNNPACK disagrees with the definition");

  std::vector<double> fwd, fb_first, fb_inner, f_create, f_run, f_tr, g_create, g_run, g_tr;
  for (int r = 0; r < slices; ++r) {
    fwd.push_back(slice_ms(slice_seconds, [&] { return first.forward(); }));
    fb_first.push_back(slice_ms(slice_seconds, [&] { return first.forward_backward(); }));
    if (inner)
      fb_inner.push_back(slice_ms(slice_seconds, [&] { return inner->forward_backward(); }));
    double create = 0, run = 0, tr = 0;
    std::size_t calls = 0;
    slice_ms(slice_seconds, [&] { return ++calls, xnn_forward(o, create, run, tr); });
    f_create.push_back(create / double(calls));
    f_run.push_back(run / double(calls));
    f_tr.push_back(tr / double(calls));
    if (!input_grad) continue;
    create = run = tr = 0;
    calls = 0;
    slice_ms(slice_seconds, [&] { return ++calls, xnn_input_grad(o, create, run, tr); });
    g_create.push_back(create / double(calls));
    g_run.push_back(run / double(calls));
    g_tr.push_back(tr / double(calls));
  }
  for (const auto* parts : {&fwd, &fb_first, &fb_inner}) {
    if (std::any_of(parts->begin(), parts->end(), [](double ms) { return ms < 0; }))
      return fail("an edgefl pass failed");
  }
  out.edgefl_forward = median(fwd);
  out.edgefl_weight_grad = median(fb_first) - out.edgefl_forward;
  out.xnn_forward_create = median(f_create);
  out.xnn_forward_run = median(f_run);
  out.xnn_forward_transpose = median(f_tr);
  if (input_grad) {
    out.edgefl_input_grad = median(fb_inner) - median(fb_first);
    out.xnn_input_grad_create = median(g_create);
    out.xnn_input_grad_run = median(g_run);
    out.xnn_input_grad_transpose = median(g_tr);
  }
  return true;
}

#endif  // EDGEFL_HAVE_XNNPACK

}  // namespace edgefl::bench
