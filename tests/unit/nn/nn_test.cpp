#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "edgefl/nn/compute.hpp"
#include "edgefl/train/memory_plan.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/nn/network.hpp"
#include "edgefl/optim/optimizer.hpp"
#include "edgefl/base/rng.hpp"

#include "compute_support.hpp"
#include "network_test_support.hpp"

using namespace edgefl;
using edgefl::testing::context;
using edgefl::testing::direct_isa_under_test;

using edgefl::testing::fill_batch;
using edgefl::testing::max_rel_error;
using edgefl::testing::rel_error;

namespace {

FloatBuffer random_params(const ModelSpec& spec, uint64_t seed) {
  FloatBuffer params(spec.parameter_count());
  REQUIRE(init_parameters(spec, params.span(), seed).ok());
  if (spec.kind == ModelKind::linear) {  // zero init would make the check trivial
    Rng rng(seed);
    for (float& w : params.span()) w = static_cast<float>(0.3 * rng.normal());
  }
  return params;
}

void gradient_check(const char* text, Backend backend) {
  auto spec = ModelSpec::parse(text);
  REQUIRE(spec.ok());
  auto ctx = context(backend);
  const std::size_t batch = 5;
  auto net = Network::create(*spec, *ctx, {batch, false});
  REQUIRE(net.ok());
  fill_batch(**net, batch, 11);
  FloatBuffer params = random_params(*spec, 3);
  FloatBuffer grads(spec->parameter_count());
  auto stats = (*net)->forward_backward(params.span(), grads.span(), batch, 1.0f / batch, false);
  REQUIRE(stats.ok());

  // Central differences of the mean loss, one parameter at a time.
  FloatBuffer numeric(spec->parameter_count());
  const float eps = 1e-2f;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const float saved = params[i];
    params[i] = saved + eps;
    double up = (*net)->forward(params.span(), batch)->loss_sum;
    params[i] = saved - eps;
    double down = (*net)->forward(params.span(), batch)->loss_sum;
    params[i] = saved;
    numeric[i] = static_cast<float>((up - down) / (2 * eps) / batch);
  }
  INFO(text << " on " << backend_name(backend));
  CHECK(rel_error(grads.span(), numeric.span()) < 2e-3);
  // Every layer's slice agrees on its own, so an error in a small layer cannot hide.
  for (const DenseLayout& l : spec->dense_layouts()) {
    auto w = [&](FloatBuffer& b) { return b.span().subspan(l.weight_offset, l.inputs * l.outputs); };
    CHECK(rel_error(w(grads), w(numeric)) < 2e-3);
    if (l.has_bias) {
      CHECK(rel_error(grads.span().subspan(l.bias_offset, l.outputs),
                      numeric.span().subspan(l.bias_offset, l.outputs)) < 2e-3);
    }
  }
}

}  // namespace

TEST_CASE("gradients match finite differences for Dense, ReLU and every loss") {
  for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
    gradient_check("mlp:6-7-5-4:relu", backend);      // Dense + ReLU + softmax cross-entropy
    gradient_check("linear:9-1", backend);            // squared loss
    gradient_check("linear:9-1:logistic", backend);   // logistic loss
  }
}

// Both fast backends against the reference: the real model, and odd widths and batches that
// leave every remainder tile of the direct kernels (rows, vector columns, scalar columns).
TEST_CASE("XNNPACK and direct agree with reference on forward, gradients and 10 SGD steps") {
  for (Backend backend : {Backend::xnnpack, Backend::direct}) {
#ifndef EDGEFL_HAVE_XNNPACK
    if (backend == Backend::xnnpack) continue;  // a build without XNNPACK (EDGEFL_WITH_XNNPACK=OFF)
#endif
    for (const char* text : {"mlp:784-256-128-10:relu", "mlp:37-29-13-5:relu"}) {
      auto spec = ModelSpec::parse(text);
      REQUIRE(spec.ok());
      auto fast_ctx = context(backend);
      REQUIRE(fast_ctx->backend() == backend);
      auto ref_ctx = context(Backend::reference);
      const std::size_t outputs = spec->output_size();
      for (std::size_t batch : {1u, 7u, 32u, 45u}) {
        auto fast = Network::create(*spec, *fast_ctx, {batch, false});
        auto ref = Network::create(*spec, *ref_ctx, {batch, false});
        REQUIRE((fast.ok() && ref.ok()));
        FloatBuffer px = random_params(*spec, 5), pr = px.clone();
        FloatBuffer gx(spec->parameter_count()), gr(spec->parameter_count());
        for (int step = 0; step < 10; ++step) {
          fill_batch(**fast, batch, 100 + step);
          fill_batch(**ref, batch, 100 + step);
          auto sx = (*fast)->forward_backward(px.span(), gx.span(), batch, 1.0f / batch, false);
          auto sr = (*ref)->forward_backward(pr.span(), gr.span(), batch, 1.0f / batch, false);
          REQUIRE((sx.ok() && sr.ok()));
          std::span<const float> lx((*fast)->logits(), outputs * batch), lr((*ref)->logits(), outputs * batch);
          INFO(backend_name(backend) << " " << text << " batch " << batch << " step " << step);
          CHECK(max_rel_error(lx, lr) < 1e-4);
          CHECK(std::fabs(sx->loss_sum - sr->loss_sum) <= 1e-4 * std::fabs(sr->loss_sum));
          for (const DenseLayout& l : spec->dense_layouts()) {
            CHECK(max_rel_error(gx.span().subspan(l.weight_offset, l.inputs * l.outputs),
                                gr.span().subspan(l.weight_offset, l.inputs * l.outputs)) < 1e-4);
            CHECK(max_rel_error(gx.span().subspan(l.bias_offset, l.outputs),
                                gr.span().subspan(l.bias_offset, l.outputs)) < 1e-4);
          }
          for (std::size_t i = 0; i < px.size(); ++i) {
            px[i] -= 0.1f * gx[i];
            pr[i] -= 0.1f * gr[i];
          }
        }
        CHECK(max_rel_error(px.span(), pr.span()) < 1e-4);
      }
    }
  }
}

// train_step runs the same arithmetic in another order (input gradient before the update of
// each layer, the update in row panels), so it must match the two-call step exactly.
TEST_CASE("train_step is forward_backward then the optimizer step, bit for bit") {
  for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
    for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::nesterov,
                               OptimizerKind::adamw}) {
      for (const char* text : {"mlp:784-256-128-10:relu", "mlp:37-29-13-5:relu", "linear:9-1:logistic"}) {
        auto spec = ModelSpec::parse(text);
        REQUIRE(spec.ok());
        auto ctx = context(backend);
        const std::size_t batch = 13;
        auto net = Network::create(*spec, *ctx, {batch, false});
        REQUIRE(net.ok());
        OptimizerConfig config{kind, 0.05f, 0.9f, 1e-3f};
        auto fused_opt = Optimizer::create(config, spec->parameter_count());
        auto plain_opt = Optimizer::create(config, spec->parameter_count());
        REQUIRE((fused_opt.ok() && plain_opt.ok()));
        FloatBuffer fused = random_params(*spec, 2), plain = fused.clone();
        FloatBuffer fused_grads(fused.size()), plain_grads(fused.size());
        INFO(backend_name(backend) << " " << optimizer_name(kind) << " " << text);
        for (int step = 0; step < 4; ++step) {
          fill_batch(**net, batch, 40 + step);
          auto a = (*net)->train_step(fused.span(), fused_grads.span(), batch, 1.0f / batch, *fused_opt);
          auto b = (*net)->forward_backward(plain.span(), plain_grads.span(), batch, 1.0f / batch, false);
          REQUIRE((a.ok() && b.ok()));
          REQUIRE(plain_opt->step(plain.span(), plain_grads.span()).ok());
          CHECK(a->loss_sum == b->loss_sum);
          CHECK(a->correct == b->correct);
        }
        CHECK(std::equal(fused.span().begin(), fused.span().end(), plain.span().begin()));
        CHECK(std::equal(fused_grads.span().begin(), fused_grads.span().end(), plain_grads.span().begin()));
        CHECK(std::equal(fused_opt->state().begin(), fused_opt->state().end(), plain_opt->state().begin()));
        CHECK(fused_opt->steps() == 4);
      }
    }
  }
}

TEST_CASE("train_step refuses a mismatched optimizer or batch and leaves parameters and optimizer alone") {
  auto spec = ModelSpec::parse("mlp:6-5-3:relu");
  REQUIRE(spec.ok());
  auto ctx = context(Backend::direct);
  auto net = Network::create(*spec, *ctx, {4, false});
  REQUIRE(net.ok());
  auto opt = Optimizer::create({OptimizerKind::momentum, 0.1f, 0.9f}, spec->parameter_count() + 1);
  REQUIRE(opt.ok());
  FloatBuffer params = random_params(*spec, 1), before = params.clone(), grads(params.size());
  fill_batch(**net, 4, 1);
  CHECK((*net)->train_step(params.span(), grads.span(), 4, 0.25f, *opt).status().code() ==
        StatusCode::shape_mismatch);
  auto fitting = Optimizer::create({OptimizerKind::momentum, 0.1f, 0.9f}, spec->parameter_count());
  REQUIRE(fitting.ok());
  CHECK((*net)->train_step(params.span(), grads.span(), 5, 0.2f, *fitting).status().code() ==
        StatusCode::out_of_range);  // batch above the planned 4
  CHECK(std::equal(params.span().begin(), params.span().end(), before.span().begin()));
  CHECK(opt->steps() == 0);
  CHECK(fitting->steps() == 0);
}

TEST_CASE("accumulating micro-batches gives the gradient of the whole batch") {
  auto spec = ModelSpec::parse("mlp:20-16-3:relu");
  REQUIRE(spec.ok());
  for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
    auto ctx = context(backend);
    auto big = Network::create(*spec, *ctx, {12, false});
    auto small = Network::create(*spec, *ctx, {4, true});
    REQUIRE((big.ok() && small.ok()));
    fill_batch(**big, 12, 9);
    FloatBuffer params = random_params(*spec, 1);
    FloatBuffer g_big(params.size()), g_acc(params.size());
    REQUIRE((*big)->forward_backward(params.span(), g_big.span(), 12, 1.0f / 12, false).ok());
    for (std::size_t chunk = 0; chunk < 3; ++chunk) {
      // Copy samples [4 chunk, 4 chunk + 4) out of the feature-major big batch.
      for (std::size_t j = 0; j < 20; ++j) {
        for (std::size_t s = 0; s < 4; ++s) (*small)->input()[j * 4 + s] = (*big)->input()[j * 12 + chunk * 4 + s];
      }
      for (std::size_t s = 0; s < 4; ++s) (*small)->targets()[s] = (*big)->targets()[chunk * 4 + s];
      REQUIRE((*small)->forward_backward(params.span(), g_acc.span(), 4, 1.0f / 12, chunk > 0).ok());
    }
    CHECK(rel_error(g_acc.span(), g_big.span()) < 1e-5);
  }
}

TEST_CASE("network rejects wrong shapes and oversize batches") {
  auto spec = ModelSpec::parse("mlp:4-3-2:relu");
  REQUIRE(spec.ok());
  auto ctx = context(Backend::reference);
  auto net = Network::create(*spec, *ctx, {8, false});
  REQUIRE(net.ok());
  FloatBuffer params(spec->parameter_count()), wrong(3), grads(spec->parameter_count());
  CHECK((*net)->forward(wrong.span(), 2).status().code() == StatusCode::shape_mismatch);
  CHECK((*net)->forward(params.span(), 9).status().code() == StatusCode::out_of_range);
  CHECK((*net)->forward(params.span(), 0).status().code() == StatusCode::out_of_range);
  CHECK((*net)->forward_backward(params.span(), grads.span(), 2, 1.0f, true).status().code() ==
        StatusCode::failed_precondition);
  CHECK(Network::create(*spec, *ctx, {0, false}).status().code() == StatusCode::out_of_range);
  CHECK(ComputeContext::create(Backend::xnnpack, 0).status().code() == StatusCode::out_of_range);
}

TEST_CASE("planned workspace stays within the memory-plan bound") {
  for (const char* text : {"mlp:784-256-128-10:relu", "linear:1000-1", "mlp:3-2:relu"}) {
    auto spec = ModelSpec::parse(text);
    REQUIRE(spec.ok());
    for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
      auto ctx = context(backend);
      for (std::size_t batch : {1u, 32u, 100u}) {
        auto net = Network::create(*spec, *ctx, {batch, true});
        REQUIRE(net.ok());
        const std::size_t bound = workspace_base_bytes(*spec, backend, true) +
                                  batch * activation_bytes_per_sample(*spec, backend);
        INFO(text << " " << backend_name(backend) << " batch " << batch);
        CHECK((*net)->workspace_bytes() <= bound);
        // A bound, not a wild over-estimate, where it matters (for a 3-2 model the fixed
        // XNNPACK padding allowance dominates; on armhf the real tiles are smaller still).
        if (batch == 100 && spec->parameter_count() > 100000) {
          CHECK((*net)->workspace_bytes() * 2 >= bound);
        }
      }
    }
  }
  auto spec = ModelSpec::parse("mlp:784-256-128-10:relu");
  REQUIRE(spec.ok());
  CHECK(fixed_state_bytes(*spec, OptimizerKind::adamw) == 4 * 235146 * 4);
  const std::size_t budget = 8u << 20;
  const std::size_t micro = max_micro_batch(budget, *spec, Backend::xnnpack, OptimizerKind::momentum);
  CHECK(micro > 32);
  CHECK(fixed_state_bytes(*spec, OptimizerKind::momentum) + workspace_base_bytes(*spec, Backend::xnnpack, true) +
            micro * activation_bytes_per_sample(*spec, Backend::xnnpack) <= budget);
  CHECK(max_micro_batch(1000, *spec, Backend::xnnpack, OptimizerKind::momentum) == 0);
}

TEST_CASE("model: builder, layers, deterministic init and per-layer views") {
  auto built = ModelBuilder(784).dense(256).relu().dense(10).softmax_cross_entropy().build();
  REQUIRE(built.ok());
  CHECK(built->to_string() == "mlp:784-256-10:relu");
  CHECK(ModelBuilder(5).dense(1, false).logistic_loss().build()->to_string() == "linear:5-1:logistic");
  CHECK(!ModelBuilder(5).dense(4).dense(3).softmax_cross_entropy().build().ok());
  CHECK(!ModelBuilder(5).dense(4).relu().softmax_cross_entropy().build().ok());
  CHECK(!ModelBuilder(5).dense(2).squared_loss().build().ok());
  CHECK(!ModelBuilder(5).dense(2).build().ok());

  auto layers = layers_of(*built);
  REQUIRE(layers.size() == 3);
  CHECK(layers[1].kind == LayerKind::relu);

  auto a = Model::create(*built, 7), b = Model::create(*built, 7), c = Model::create(*built, 8);
  REQUIRE((a.ok() && b.ok() && c.ok()));
  CHECK(std::equal(a->params().span().begin(), a->params().span().end(), b->params().span().begin()));
  CHECK(!std::equal(a->params().span().begin(), a->params().span().end(), c->params().span().begin()));
  const float bound = std::sqrt(6.0f / 784.0f);  // He-uniform over the layer's fan-in
  float largest = 0.0f;
  for (float w : a->dense_weights(0)) largest = std::max(largest, std::fabs(w));
  CHECK(largest <= bound);
  CHECK(largest > 0.99f * bound);  // 200k draws reach the edge of the range
  for (float bias : a->dense_bias(0)) CHECK(bias == 0.0f);
  CHECK(a->dense_weights(1).data() == a->params().data() + 784 * 256 + 256);
  CHECK(a->dense_bias(1).size() == 10);
  CHECK(a->grads().size() == a->params().size());
  auto linear = Model::create(ModelSpec::parse("linear:50-1").value(), 1);
  REQUIRE(linear.ok());
  for (float w : linear->params().span()) CHECK(w == 0.0f);
  FloatBuffer small(3);
  CHECK(init_parameters(*built, small.span(), 1).code() == StatusCode::shape_mismatch);
}

TEST_CASE("direct backend runs the kernel asked for, or the widest the CPU has") {
  const std::string_view best = direct_kernel_isa(DirectIsa::best);
  CHECK((best == "avx512f" || best == "avx2+fma" || best == "portable"));
  CHECK(direct_kernel_isa(DirectIsa::portable) == "portable");
  CHECK(direct_kernel_isa(DirectIsa::avx2) != "avx512f");
  CHECK(context(Backend::direct)->direct_kernel_isa() == direct_kernel_isa(direct_isa_under_test()));
  CHECK(parse_direct_isa("avx2").value() == DirectIsa::avx2);
  CHECK(parse_direct_isa("sse9").status().code() == StatusCode::invalid_argument);
  // auto picks direct exactly where it has vector kernels.
  CHECK((default_backend() == Backend::direct) == (best != "portable"));
  CHECK(resolve_backend("auto").value() == default_backend());
  CHECK(resolve_backend("direct").value() == Backend::direct);
  CHECK(resolve_backend("fast").status().code() == StatusCode::invalid_argument);
}

TEST_CASE("the ISA cap given to the compute context decides which direct kernel computes") {
  // Portable code has no FMA, while optimised builds fuse the AVX kernels' multiply-adds: on a
  // CPU with AVX2 or AVX-512 the two steps then differ in the last bits. (Unoptimised builds
  // fuse nothing, and every kernel gives the same bits.)
  const ModelSpec spec = ModelSpec::parse("mlp:784-256-10:relu").value();
  const std::size_t batch = 32;
  std::vector<FloatBuffer> stepped;
  for (DirectIsa isa : {DirectIsa::portable, DirectIsa::best}) {
    auto ctx = ComputeContext::create(Backend::direct, 1, isa);
    REQUIRE(ctx.ok());
    auto net = Network::create(spec, **ctx, {batch, false});
    auto opt = Optimizer::create({OptimizerKind::sgd, 0.1f, 0.0f, 0.0f}, spec.parameter_count());
    REQUIRE((net.ok() && opt.ok()));
    FloatBuffer params = random_params(spec, 3), grads(params.size());
    fill_batch(**net, batch, 9);
    REQUIRE((*net)->train_step(params.span(), grads.span(), batch, 1.0f / batch, *opt).ok());
    stepped.push_back(std::move(params));
  }
  const bool same = std::equal(stepped[0].span().begin(), stepped[0].span().end(), stepped[1].span().begin());
#if defined(__OPTIMIZE__)
  CHECK(same == (direct_kernel_isa(DirectIsa::best) == "portable"));
#else
  CHECK(same);
#endif
}

TEST_CASE("the direct backend gives the same bits on one thread and on three") {
  for (const char* text : {"mlp:784-256-128-10:relu", "mlp:37-29-13-5:relu"}) {
    auto spec = ModelSpec::parse(text);
    REQUIRE(spec.ok());
    auto one = context(Backend::direct, 1);
    auto three = context(Backend::direct, 3);
    REQUIRE(three->backend() == Backend::direct);
    const std::size_t batch = 45;
    auto net_one = Network::create(*spec, *one, {batch, false});
    auto net_three = Network::create(*spec, *three, {batch, false});
    REQUIRE((net_one.ok() && net_three.ok()));
    OptimizerConfig config{OptimizerKind::adamw, 0.01f, 0.9f, 1e-2f};
    auto opt_one = Optimizer::create(config, spec->parameter_count());
    auto opt_three = Optimizer::create(config, spec->parameter_count());
    REQUIRE((opt_one.ok() && opt_three.ok()));
    FloatBuffer p1 = random_params(*spec, 4), p3 = p1.clone(), g1(p1.size()), g3(p1.size());
    INFO(text);
    for (int step = 0; step < 3; ++step) {
      fill_batch(**net_one, batch, 70 + step);
      fill_batch(**net_three, batch, 70 + step);
      auto a = (*net_one)->train_step(p1.span(), g1.span(), batch, 1.0f / batch, *opt_one);
      auto b = (*net_three)->train_step(p3.span(), g3.span(), batch, 1.0f / batch, *opt_three);
      REQUIRE((a.ok() && b.ok()));
      CHECK(a->loss_sum == b->loss_sum);
    }
    CHECK(std::equal(p1.span().begin(), p1.span().end(), p3.span().begin()));
    CHECK(std::equal(g1.span().begin(), g1.span().end(), g3.span().begin()));
  }
}
