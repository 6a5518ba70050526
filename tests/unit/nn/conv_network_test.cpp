// Conv models through the Network on every backend: finite differences of the whole model,
// agreement of the fast backends (conv layers on the direct GEMM tiles) with the reference
// (conv layers on their loops) over 10 SGD steps, the same bits on 1 and 2 threads, the fused
// train_step, and gradient accumulation.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/nn/network.hpp"
#include "edgefl/optim/optimizer.hpp"

#include "compute_support.hpp"
#include "network_test_support.hpp"

using namespace edgefl;
using edgefl::testing::context;

using edgefl::testing::fill_batch;
using edgefl::testing::max_rel_error;
using edgefl::testing::rel_error;

namespace {

// Odd shapes: stride 2 with same and valid padding, dilation 2, 3/5/7 channels, depthwise,
// pools with a remainder, conv1d; every layer kind between them. The last has convs on 30 and
// 17 channels (conv2d_gemm.cpp's in-place window runs, cut by padding and by dilation), and 270
// taps: every GEMM tile shape of its passes, with remainders. The sixth has ReLUs fused into
// the convs before them and into the disjoint max pools after them (pools that cover their
// input exactly, and one with a padding cell). The seventh's window has 588 rows, more than
// one forward GEMM reads through its row table (conv2d_gemm.cpp), and no bias.
const char* const kConvModels[] = {
    "in:9x7x3 conv3x3x5,s2 relu maxpool2 flatten dense7 relu dense4 loss:xent",
    "in:8x8x3 conv3x3x7,d2 relu6 dwconv3x3,s2,valid relu avgpool2,same gap dense3 loss:xent",
    "in:1x19x5 conv1d5x7,s2 relu conv1d3x3,valid flatten dense1,nobias loss:logistic",
    "in:6x5x2 conv3x3x3,valid relu flatten dense1 loss:squared",
    "in:7x6x30 conv3x3x17,s2 relu conv3x3x9,d2 flatten dense3 loss:xent",
    "in:10x10x2 conv3x3x4 relu maxpool2 conv3x3x6,valid relu maxpool2,same flatten dense3 loss:xent",
    "in:9x9x12 conv7x7x3,s2,nobias relu flatten dense2 loss:xent",
};

FloatBuffer random_params(const ModelSpec& spec, uint64_t seed) {
  FloatBuffer params(spec.parameter_count());
  REQUIRE(init_parameters(spec, params.span(), seed).ok());
  Rng rng(seed + 1);
  for (float& w : params.span()) w += static_cast<float>(0.05 * rng.normal());  // biases off zero
  return params;
}

std::vector<Backend> backends() {
#ifdef EDGEFL_HAVE_XNNPACK
  return {Backend::reference, Backend::xnnpack, Backend::direct};
#else
  return {Backend::reference, Backend::direct};  // a build without XNNPACK
#endif
}

}  // namespace

TEST_CASE("conv models: gradients match finite differences on every backend") {
  // Float32 differences across kinks (ReLU6 and ReLU on every conv output) are noise of the
  // order of eps; the second model is checked without them here (each layer is checked
  // exactly on its own in layer_gradients_test.cpp).
  const char* const models[] = {kConvModels[0], "in:8x8x3 conv3x3x7,d2 dwconv3x3,s2,valid avgpool2,same gap dense3",
                                kConvModels[2], kConvModels[3]};
  for (const char* text : models) {
    auto spec = ModelSpec::parse(text);
    REQUIRE_MESSAGE(spec.ok(), spec.status().to_string());
    for (Backend backend : backends()) {
      INFO(std::string(text) << " on " << backend_name(backend));
      auto ctx = context(backend);
      const std::size_t batch = 5;
      auto net = Network::create(*spec, *ctx, {batch, false});
      REQUIRE(net.ok());
      fill_batch(**net, batch, 11);
      FloatBuffer params = random_params(*spec, 3), grads(spec->parameter_count());
      REQUIRE((*net)->forward_backward(params.span(), grads.span(), batch, 1.0f / batch, false).ok());
      FloatBuffer numeric(spec->parameter_count());
      const float eps = 1e-3f;
      for (std::size_t i = 0; i < params.size(); ++i) {
        const float saved = params[i];
        params[i] = saved + eps;
        const double up = (*net)->forward(params.span(), batch)->loss_sum;
        params[i] = saved - eps;
        const double down = (*net)->forward(params.span(), batch)->loss_sum;
        params[i] = saved;
        numeric[i] = static_cast<float>((up - down) / (2 * eps) / batch);
      }
      for (const LayerGeometry& g : spec->geometry()) {
        for (const ParamTensor& t : g.params) {
          INFO(describe(g.spec) << " " << t.name);
          CHECK(rel_error(grads.span().subspan(t.offset, t.size()), numeric.span().subspan(t.offset, t.size())) <
                5e-3);
        }
      }
    }
  }
}

TEST_CASE("conv models: XNNPACK and direct agree with reference over 10 SGD steps") {
  for (const char* text : kConvModels) {
    auto spec = ModelSpec::parse(text);
    REQUIRE(spec.ok());
    auto ref_ctx = context(Backend::reference);
    for (Backend backend : backends()) {
      if (backend == Backend::reference) continue;
      auto fast_ctx = context(backend);
      REQUIRE(fast_ctx->backend() == backend);
      for (std::size_t batch : {1u, 7u, 13u}) {
        auto fast = Network::create(*spec, *fast_ctx, {batch, false});
        auto ref = Network::create(*spec, *ref_ctx, {batch, false});
        REQUIRE((fast.ok() && ref.ok()));
        FloatBuffer px = random_params(*spec, 5), pr = px.clone();
        FloatBuffer gx(px.size()), gr(px.size());
        const std::size_t outputs = spec->output_size();
        for (int step = 0; step < 10; ++step) {
          fill_batch(**fast, batch, 100 + step);
          fill_batch(**ref, batch, 100 + step);
          auto sx = (*fast)->forward_backward(px.span(), gx.span(), batch, 1.0f / batch, false);
          auto sr = (*ref)->forward_backward(pr.span(), gr.span(), batch, 1.0f / batch, false);
          REQUIRE((sx.ok() && sr.ok()));
          INFO(backend_name(backend) << " " << std::string(text) << " batch " << batch << " step " << step);
          std::span<const float> lx((*fast)->logits(), outputs * batch), lr((*ref)->logits(), outputs * batch);
          CHECK(max_rel_error(lx, lr) < 1e-4);
          for (const LayerGeometry& g : spec->geometry()) {
            for (const ParamTensor& t : g.params) {
              CHECK(max_rel_error(gx.span().subspan(t.offset, t.size()), gr.span().subspan(t.offset, t.size())) <
                    1e-4);
            }
          }
          for (std::size_t i = 0; i < px.size(); ++i) {
            px[i] -= 0.05f * gx[i];
            pr[i] -= 0.05f * gr[i];
          }
        }
        CHECK(max_rel_error(px.span(), pr.span()) < 1e-4);
      }
    }
  }
}

TEST_CASE("conv models: the direct conv path gives the same bits on 1 and 2 threads") {
  // Enough filters and taps that every GEMM's rows split over both threads; the input gradient
  // splits channels of whole window runs (undilated) and of single taps (dilated). Small passes
  // stay on the calling thread (pooled_gemm.cpp); the third model's larger passes at batch 32
  // are shared: the forward pass and the input gradient of conv2 and conv3, the weight
  // gradient's GEMM blocks (conv2) and its batch-lane tiles (conv3, 7 filters: fewer than a
  // vector of any ISA's GEMM).
  const char* const models[] = {"in:10x9x3 conv5x5x32,s2 relu conv3x3x20 relu conv3x3x6,d2 flatten dense5 loss:xent",
                                kConvModels[4],
                                "in:6x6x8 conv3x3x32 relu conv3x3x64 relu conv3x3x7 relu maxpool2 flatten dense5 loss:xent"};
  for (const char* text : models) {
    auto spec = ModelSpec::parse(text);
    REQUIRE(spec.ok());
    auto one = context(Backend::direct, 1);
    auto two = context(Backend::direct, 2);
    for (std::size_t batch : {5u, 32u}) {
      INFO(std::string(text) << " batch " << batch);
      auto a = Network::create(*spec, *one, {batch, false});
      auto b = Network::create(*spec, *two, {batch, false});
      REQUIRE((a.ok() && b.ok()));
      fill_batch(**a, batch, 21);
      fill_batch(**b, batch, 21);
      FloatBuffer params = random_params(*spec, 8);
      FloatBuffer ga(params.size()), gb(params.size());
      REQUIRE((*a)->forward_backward(params.span(), ga.span(), batch, 1.0f / batch, false).ok());
      REQUIRE((*b)->forward_backward(params.span(), gb.span(), batch, 1.0f / batch, false).ok());
      const std::size_t outputs = spec->output_size() * batch;
      CHECK(std::equal((*a)->logits(), (*a)->logits() + outputs, (*b)->logits()));
      CHECK(std::equal(ga.span().begin(), ga.span().end(), gb.span().begin()));
    }
  }
}

TEST_CASE("conv models: train_step is forward_backward then the optimizer step, bit for bit") {
  const char* text = "in:8x8x3 conv3x3x7,d2 relu6 dwconv3x3,s2,valid relu dropout0.25 gap dense3 loss:xent";
  auto spec = ModelSpec::parse(text);
  REQUIRE(spec.ok());
  for (Backend backend : backends()) {
    auto ctx = context(backend);
    const std::size_t batch = 9;
    auto fused_net = Network::create(*spec, *ctx, {batch, false});
    auto plain_net = Network::create(*spec, *ctx, {batch, false});
    REQUIRE((fused_net.ok() && plain_net.ok()));
    (*fused_net)->set_dropout_seed(4);
    (*plain_net)->set_dropout_seed(4);  // the same masks step by step
    OptimizerConfig config{OptimizerKind::adamw, 0.01f, 0.9f, 1e-3f};
    auto fused_opt = Optimizer::create(config, spec->parameter_count());
    auto plain_opt = Optimizer::create(config, spec->parameter_count());
    REQUIRE((fused_opt.ok() && plain_opt.ok()));
    FloatBuffer fused = random_params(*spec, 2), plain = fused.clone();
    FloatBuffer fused_grads(fused.size()), plain_grads(fused.size());
    INFO(backend_name(backend));
    for (int step = 0; step < 4; ++step) {
      fill_batch(**fused_net, batch, 40 + step);
      fill_batch(**plain_net, batch, 40 + step);
      auto a = (*fused_net)->train_step(fused.span(), fused_grads.span(), batch, 1.0f / batch, *fused_opt);
      auto b = (*plain_net)->forward_backward(plain.span(), plain_grads.span(), batch, 1.0f / batch, false);
      REQUIRE((a.ok() && b.ok()));
      REQUIRE(plain_opt->step(plain.span(), plain_grads.span()).ok());
      CHECK(a->loss_sum == b->loss_sum);
    }
    CHECK(std::equal(fused.span().begin(), fused.span().end(), plain.span().begin()));
    CHECK(std::equal(fused_grads.span().begin(), fused_grads.span().end(), plain_grads.span().begin()));
  }
}

TEST_CASE("conv models: accumulating micro-batches gives the gradient of the whole batch") {
  auto spec = ModelSpec::parse(kConvModels[0]);
  REQUIRE(spec.ok());
  const std::size_t dim = spec->input_size();
  for (Backend backend : backends()) {
    auto ctx = context(backend);
    auto big = Network::create(*spec, *ctx, {12, false});
    auto small = Network::create(*spec, *ctx, {4, true});
    REQUIRE((big.ok() && small.ok()));
    fill_batch(**big, 12, 9);
    FloatBuffer params = random_params(*spec, 1), g_big(params.size()), g_acc(params.size());
    REQUIRE((*big)->forward_backward(params.span(), g_big.span(), 12, 1.0f / 12, false).ok());
    for (std::size_t chunk = 0; chunk < 3; ++chunk) {
      for (std::size_t j = 0; j < dim; ++j) {
        for (std::size_t s = 0; s < 4; ++s) (*small)->input()[j * 4 + s] = (*big)->input()[j * 12 + chunk * 4 + s];
      }
      for (std::size_t s = 0; s < 4; ++s) (*small)->targets()[s] = (*big)->targets()[chunk * 4 + s];
      REQUIRE((*small)->forward_backward(params.span(), g_acc.span(), 4, 1.0f / 12, chunk > 0).ok());
    }
    INFO(backend_name(backend));
    CHECK(rel_error(g_acc.span(), g_big.span()) < 1e-5);
  }
}

TEST_CASE("conv layers: one sample's parameter gradient equals a batch-1 pass of that sample") {
  auto spec = ModelSpec::parse(kConvModels[1]);
  REQUIRE(spec.ok());
  auto ctx = context(Backend::reference);
  const std::size_t batch = 6;
  auto net = Network::create(*spec, *ctx, {batch, false});
  auto one = Network::create(*spec, *ctx, {1, false});
  REQUIRE((net.ok() && one.ok()));
  fill_batch(**net, batch, 21);
  FloatBuffer params = random_params(*spec, 8), grads(params.size()), single(params.size());

  // Records every conv tensor's per-sample gradients during the batch pass.
  struct Recorder final : BackwardObserver {
    std::vector<std::vector<float>> per_tensor;  // [tensor][sample * size + j]
    std::vector<std::size_t> offsets;
    std::size_t batch = 0;
    void on_dense_backward(std::size_t, const DenseLayout&, const float*, const float*, std::size_t) override {}
    void on_tensor_backward(const TensorBackward& t) override {
      std::vector<float> all(t.param().size() * t.batch);
      for (std::size_t s = 0; s < t.batch; ++s) t.sample_gradient(s, all.data() + s * t.param().size());
      per_tensor.push_back(std::move(all));
      offsets.push_back(t.param().offset);
    }
  } recorder;
  (*net)->set_backward_observer(&recorder);
  REQUIRE((*net)->forward_backward(params.span(), grads.span(), batch, 1.0f, false).ok());
  REQUIRE(recorder.per_tensor.size() == 4);  // conv and depthwise, weights and bias each

  const std::size_t dim = spec->input_size();
  for (std::size_t s = 0; s < batch; ++s) {
    for (std::size_t j = 0; j < dim; ++j) (*one)->input()[j] = (*net)->input()[j * batch + s];
    (*one)->targets()[0] = (*net)->targets()[s];
    REQUIRE((*one)->forward_backward(params.span(), single.span(), 1, 1.0f, false).ok());
    for (std::size_t t = 0; t < recorder.per_tensor.size(); ++t) {
      const std::size_t size = recorder.per_tensor[t].size() / batch;
      INFO("sample " << s << " tensor " << t);
      CHECK(rel_error(std::span<const float>(recorder.per_tensor[t]).subspan(s * size, size),
                      single.span().subspan(recorder.offsets[t], size)) < 1e-5);
    }
  }
}
