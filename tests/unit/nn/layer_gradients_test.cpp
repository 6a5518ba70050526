// Every non-Dense layer on its own, against a float64 model of what it computes (written
// independently of runtime/src/nn/layers: per sample, straight from the definitions):
// the forward pass, and the input and parameter gradients against central differences of that
// model. Odd shapes: stride 2, padding same and valid, dilation 2, 3/5/7 channels, batch 11
// (one 8-lane block and a remainder). Dense is covered by nn_test.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/nn/layer.hpp"

using namespace edgefl;

namespace {

constexpr std::size_t kBatch = 11;

// TensorFlow's padding: same gives ceil(in / stride) outputs, the odd padding cell at the end.
std::size_t reference_pad(std::size_t in, std::size_t out, std::size_t k, std::size_t s, std::size_t d,
                          Padding padding) {
  if (padding == Padding::valid) return 0;
  const long total = long((out - 1) * s + (k - 1) * d + 1) - long(in);
  return total > 0 ? std::size_t(total / 2) : 0;
}

// One sample: x [h][w][c], params as laid out in layer_spec.hpp; returns y [h][w][c].
std::vector<double> reference_forward(const LayerSpec& l, Shape in, Shape out, const std::vector<double>& x,
                                      const std::vector<double>& p) {
  std::vector<double> y(out.size(), 0.0);
  auto at = [&](std::size_t yy, std::size_t xx, std::size_t c) { return x[(yy * in.w + xx) * in.c + c]; };
  switch (l.kind) {
    case LayerKind::relu:
      for (std::size_t j = 0; j < y.size(); ++j) y[j] = std::max(x[j], 0.0);
      return y;
    case LayerKind::relu6:
      for (std::size_t j = 0; j < y.size(); ++j) y[j] = std::min(std::max(x[j], 0.0), 6.0);
      return y;
    case LayerKind::flatten:
    case LayerKind::dropout:  // evaluation
      return x;
    case LayerKind::global_avg_pool:
      for (std::size_t c = 0; c < in.c; ++c) {
        for (std::size_t yy = 0; yy < in.h; ++yy)
          for (std::size_t xx = 0; xx < in.w; ++xx) y[c] += at(yy, xx, c) / double(in.h * in.w);
      }
      return y;
    default:
      break;
  }
  const bool pool = l.kind == LayerKind::max_pool2d || l.kind == LayerKind::avg_pool2d;
  const std::size_t dh = pool ? 1 : l.dilation_h, dw = pool ? 1 : l.dilation_w;
  const std::size_t pt = reference_pad(in.h, out.h, l.kernel_h, l.stride_h, dh, l.padding);
  const std::size_t pl = reference_pad(in.w, out.w, l.kernel_w, l.stride_w, dw, l.padding);
  for (std::size_t oy = 0; oy < out.h; ++oy) {
    for (std::size_t ox = 0; ox < out.w; ++ox) {
      for (std::size_t o = 0; o < out.c; ++o) {
        double acc = l.kind == LayerKind::max_pool2d ? -std::numeric_limits<double>::infinity() : 0.0;
        std::size_t cells = 0;
        for (std::size_t ky = 0; ky < l.kernel_h; ++ky) {
          for (std::size_t kx = 0; kx < l.kernel_w; ++kx) {
            const long iy = long(oy * l.stride_h + ky * dh) - long(pt);
            const long ix = long(ox * l.stride_w + kx * dw) - long(pl);
            if (iy < 0 || ix < 0 || iy >= long(in.h) || ix >= long(in.w)) continue;
            ++cells;
            if (l.kind == LayerKind::conv2d) {
              for (std::size_t c = 0; c < in.c; ++c) {
                acc += p[((o * l.kernel_h + ky) * l.kernel_w + kx) * in.c + c] * at(iy, ix, c);
              }
            } else if (l.kind == LayerKind::depthwise_conv2d) {
              acc += p[(ky * l.kernel_w + kx) * in.c + o] * at(iy, ix, o);
            } else if (l.kind == LayerKind::max_pool2d) {
              acc = std::max(acc, at(iy, ix, o));
            } else {
              acc += at(iy, ix, o);
            }
          }
        }
        if (l.kind == LayerKind::avg_pool2d) acc /= double(cells);
        const std::size_t weights = l.kind == LayerKind::conv2d ? out.c * l.kernel_h * l.kernel_w * in.c
                                                                : l.kernel_h * l.kernel_w * in.c;
        if (!pool && l.bias) acc += p[weights + o];
        y[(oy * out.w + ox) * out.c + o] = acc;
      }
    }
  }
  return y;
}

struct Setup {
  ModelSpec spec;
  std::vector<std::unique_ptr<Layer>> layers;
  Layer& layer() { return *layers[0]; }
};

Setup setup(const char* input, const char* token) {
  auto spec = ModelSpec::parse(std::string("in:") + input + " " + token + " flatten dense2");
  REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
  Setup s{*spec, make_layers(*spec)};
  return s;
}

double rel_error(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

// Sum over outputs of r * y for sample s (or every sample), in float64, from the model.
double reference_objective(const Layer& l, const std::vector<double>& x, const std::vector<double>& p,
                           const std::vector<double>& r, std::size_t only = kBatch) {
  const std::size_t n_in = l.input_shape().size(), n_out = l.output_shape().size();
  double total = 0.0;
  for (std::size_t s = 0; s < kBatch; ++s) {
    if (only != kBatch && s != only) continue;
    std::vector<double> xs(n_in);
    for (std::size_t j = 0; j < n_in; ++j) xs[j] = x[j * kBatch + s];
    std::vector<double> y = reference_forward(l.spec(), l.input_shape(), l.output_shape(), xs, p);
    for (std::size_t j = 0; j < n_out; ++j) total += r[j * kBatch + s] * y[j];
  }
  return total;
}

void check_layer(const char* input, const char* token, double input_scale = 1.0) {
  INFO("in:" << std::string(input) << " " << std::string(token));
  Setup s = setup(input, token);
  Layer& layer = s.layer();
  const std::size_t n_in = layer.input_shape().size(), n_out = layer.output_shape().size();
  const std::size_t n_p = layer.param_count();
  Rng rng(17);
  std::vector<float> x(n_in * kBatch), p(n_p), r(n_out * kBatch);
  for (float& v : x) v = static_cast<float>(input_scale * rng.normal());
  for (float& v : p) v = static_cast<float>(0.5 * rng.normal());
  for (float& v : r) v = static_cast<float>(rng.normal());
  const std::vector<double> xd(x.begin(), x.end()), pd(p.begin(), p.end()), rd(r.begin(), r.end());

  // Forward: the layer's output, sample by sample, against the float64 model.
  std::vector<float> buffer(std::max(n_in, n_out) * kBatch);
  std::copy(x.begin(), x.end(), buffer.begin());
  std::vector<float> y_own(n_out * kBatch);
  float* y = layer.in_place() ? buffer.data() : y_own.data();
  const LayerContext ctx{};
  REQUIRE(layer.forward(ctx, {p.data(), buffer.data(), y, kBatch}).ok());
  double max_diff = 0.0;
  for (std::size_t smp = 0; smp < kBatch; ++smp) {
    std::vector<double> xs(n_in);
    for (std::size_t j = 0; j < n_in; ++j) xs[j] = xd[j * kBatch + smp];
    std::vector<double> want = reference_forward(layer.spec(), layer.input_shape(), layer.output_shape(), xs, pd);
    for (std::size_t j = 0; j < n_out; ++j) max_diff = std::max(max_diff, std::fabs(y[j * kBatch + smp] - want[j]));
  }
  CHECK(max_diff < 1e-4);

  // Backward with dy = r: the gradients of sum(r * y).
  std::vector<float> dx_own(n_in * kBatch), grads(n_p);
  std::vector<float> dy(r);
  float* dx = layer.in_place() ? dy.data() : dx_own.data();
  REQUIRE(layer.backward(ctx, {p.data(), buffer.data(), y, dy.data(), dx, grads.data(), nullptr, kBatch}).ok());

  const double eps = 1e-6;
  std::vector<double> numeric_dx(n_in * kBatch), analytic_dx(dx, dx + n_in * kBatch);
  std::vector<double> xp = xd;
  for (std::size_t j = 0; j < xp.size(); ++j) {
    const std::size_t sample = j % kBatch;  // x[j] belongs to one sample only
    xp[j] = xd[j] + eps;
    const double up = reference_objective(layer, xp, pd, rd, sample);
    xp[j] = xd[j] - eps;
    const double down = reference_objective(layer, xp, pd, rd, sample);
    xp[j] = xd[j];
    numeric_dx[j] = (up - down) / (2 * eps);
  }
  CHECK(rel_error(analytic_dx, numeric_dx) < 1e-4);

  // Each parameter tensor on its own, so an error in the bias cannot hide in the weights.
  std::vector<double> pp = pd;
  for (const ParamTensor& t : layer.parameters()) {
    INFO("tensor " << t.name);
    std::vector<double> numeric(t.size()), analytic(t.size());
    for (std::size_t j = 0; j < t.size(); ++j) {
      const std::size_t k = t.offset - layer.param_offset() + j;
      pp[k] = pd[k] + eps;
      const double up = reference_objective(layer, xd, pp, rd);
      pp[k] = pd[k] - eps;
      const double down = reference_objective(layer, xd, pp, rd);
      pp[k] = pd[k];
      numeric[j] = (up - down) / (2 * eps);
      analytic[j] = grads[k];
    }
    CHECK(rel_error(analytic, numeric) < 1e-4);
  }
}

}  // namespace

TEST_CASE("conv2d: forward and gradients match a float64 model on odd shapes") {
  check_layer("7x6x3", "conv3x3x5");              // same padding
  check_layer("7x6x3", "conv3x3x5,s2");           // stride 2, same: odd padding at the end
  check_layer("7x6x3", "conv3x3x5,s2,valid");
  check_layer("9x8x3", "conv3x3x7,d2");           // dilation 2
  check_layer("9x8x5", "conv3x2x7,s2x1,d2,valid");
  check_layer("6x5x5", "conv1x1x3,nobias");
  check_layer("4x4x3", "conv5x5x2");              // a kernel wider than the input, padding same
}

TEST_CASE("conv1d: a 1xK convolution over a 1xWxC window") {
  check_layer("1x17x5", "conv1d5x7,s2");
  check_layer("1x16x3", "conv1d3x5,d2,valid");
}

TEST_CASE("depthwise conv2d: forward and gradients match a float64 model on odd shapes") {
  check_layer("7x6x5", "dwconv3x3");
  check_layer("7x6x5", "dwconv3x3,s2,valid");
  check_layer("9x9x3", "dwconv3x3,d2");
  check_layer("8x7x7", "dwconv5x3,s2,nobias");
}

TEST_CASE("pooling: max, average and global average match a float64 model") {
  check_layer("7x6x3", "maxpool2");               // the odd row and column are dropped (valid)
  check_layer("7x7x5", "maxpool3x3,s2,same");
  check_layer("7x6x3", "avgpool2");
  check_layer("7x7x5", "avgpool3x3,s2,same");     // border windows average fewer cells
  check_layer("5x4x7", "gap");
}

TEST_CASE("relu, relu6 and flatten") {
  check_layer("3x4x5", "relu");
  check_layer("3x4x5", "relu6", 5.0);  // inputs well past 6 on both sides
  check_layer("3x4x5", "flatten");
}

TEST_CASE("dropout: the same seeded mask scales forward and backward, identity in evaluation") {
  Setup s = setup("4x5x3", "dropout0.3");
  Layer& layer = s.layer();
  const std::size_t n = layer.input_shape().size() * kBatch;
  std::vector<float> x(n), y(n), y_again(n), y_next(n), dy(n), dx(n);
  Rng rng(5);
  for (float& v : x) v = static_cast<float>(rng.normal());
  for (float& v : dy) v = static_cast<float>(rng.normal());
  LayerContext ctx{};
  REQUIRE(layer.forward(ctx, {nullptr, x.data(), y.data(), kBatch}).ok());
  CHECK(std::equal(x.begin(), x.end(), y.begin()));  // evaluation

  ctx.training = true;
  ctx.dropout_seed = 42;
  ctx.pass = 7;
  REQUIRE(layer.forward(ctx, {nullptr, x.data(), y.data(), kBatch}).ok());
  REQUIRE(layer.backward(ctx, {nullptr, x.data(), y.data(), dy.data(), dx.data(), nullptr, nullptr, kBatch}).ok());
  REQUIRE(layer.forward(ctx, {nullptr, x.data(), y_again.data(), kBatch}).ok());
  ctx.pass = 8;
  REQUIRE(layer.forward(ctx, {nullptr, x.data(), y_next.data(), kBatch}).ok());
  const float scale = 1.0f / 0.7f;
  std::size_t dropped = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const bool kept = y[j] != 0.0f;
    dropped += !kept;
    CHECK(y[j] == (kept ? x[j] * scale : 0.0f));
    CHECK(dx[j] == (kept ? dy[j] * scale : 0.0f));  // the same mask in both directions
  }
  CHECK(std::equal(y.begin(), y.end(), y_again.begin()));   // a function of seed and pass
  CHECK(!std::equal(y.begin(), y.end(), y_next.begin()));   // a new mask each pass
  CHECK(dropped > n / 5);  // 30% of 660 elements: 198 expected
  CHECK(dropped < n * 2 / 5);
}

TEST_CASE("max pooling: a tied window (ReLU zeros) sends the gradient to its first cell only") {
  Setup s = setup("2x4x1", "maxpool2");
  Layer& layer = s.layer();
  // Two samples: window 0 all zero in both; window 1 ties between cells 1 and 3 in sample 0.
  // x[h][w][c][batch], cells in window order (0,0) (0,1) (1,0) (1,1).
  const std::vector<float> x = {0, 0, 0, 0, 2, 1, 5, 3,   // row 0: w0 w1 | w2 w3
                                0, 0, 0, 0, 5, 0, 3, 3};  // row 1
  std::vector<float> y(2 * 2), dy = {1, 2, 3, 4}, dx(8 * 2);
  const LayerContext ctx{};
  REQUIRE(layer.forward(ctx, {nullptr, x.data(), y.data(), 2}).ok());
  CHECK(y == std::vector<float>{0, 0, 5, 3});
  REQUIRE(layer.backward(ctx, {nullptr, x.data(), y.data(), dy.data(), dx.data(), nullptr, nullptr, 2}).ok());
  // Window 0: cell (0,0) takes both samples' gradient. Window 1, sample 0: 5 at (0,3) first;
  // sample 1: 3 at (0,3) and (1,3), the first in window order is (0,3).
  CHECK(dx == std::vector<float>{1, 2, 0, 0, 0, 0, 3, 4,
                                 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("max pooling: all-zero windows over 3 channels and 5 samples send each gradient to one cell") {
  Setup s = setup("4x4x3", "maxpool2");
  Layer& layer = s.layer();
  const std::size_t b = 5, n_in = 4 * 4 * 3, n_out = 2 * 2 * 3;
  std::vector<float> x(n_in * b, 0.0f), y(n_out * b), dy(n_out * b), dx(n_in * b);
  for (std::size_t j = 0; j < dy.size(); ++j) dy[j] = float(j + 1);
  const LayerContext ctx{};
  REQUIRE(layer.forward(ctx, {nullptr, x.data(), y.data(), b}).ok());
  REQUIRE(layer.backward(ctx, {nullptr, x.data(), y.data(), dy.data(), dx.data(), nullptr, nullptr, b}).ok());
  for (std::size_t oy = 0; oy < 2; ++oy) {
    for (std::size_t ox = 0; ox < 2; ++ox) {
      for (std::size_t j = 0; j < 3 * b; ++j) {  // channel-major, batch innermost
        const float g = dy[(oy * 2 + ox) * 3 * b + j];
        CHECK(dx[((2 * oy) * 4 + 2 * ox) * 3 * b + j] == g);  // the window's first cell
        CHECK(dx[((2 * oy) * 4 + 2 * ox + 1) * 3 * b + j] == 0.0f);
        CHECK(dx[((2 * oy + 1) * 4 + 2 * ox) * 3 * b + j] == 0.0f);
        CHECK(dx[((2 * oy + 1) * 4 + 2 * ox + 1) * 3 * b + j] == 0.0f);
      }
    }
  }
}
