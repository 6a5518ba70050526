#include <doctest/doctest.h>

#include <cstdio>

#include "edgefl/data/idx_reader.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/train/trainer.hpp"

using namespace edgefl;

TEST_CASE("centralised mlp:784-256-128-10, SGD momentum, batch 32 reaches 88% on Fashion-MNIST in 10 epochs") {
  auto fm = load_fashion_mnist();
  REQUIRE_MESSAGE(fm.ok(), fm.status().to_string());
  auto spec = ModelSpec::parse("mlp:784-256-128-10:relu");
  REQUIRE(spec.ok());
  auto ctx = ComputeContext::create(default_backend(), 1);  // what a device runs
  REQUIRE(ctx.ok());
  auto trainer = LocalTrainer::create(*spec, **ctx, {32, false});
  REQUIRE(trainer.ok());
  FloatBuffer params = Model::create(*spec, 1).value().params().clone();
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::momentum, 0.01f, 0.9f};
  cfg.batch_size = 32;
  double best = 0;
  for (int epoch = 1; epoch <= 10; ++epoch) {
    // Step decay (0.02, then halved every 4 epochs): the constant-rate run ends within a few
    // tenths of a point of 88% (88.3-88.6% at 0.005-0.02), too close for a test to rely on.
    cfg.optimizer.lr = 0.02f / static_cast<float>(1 << ((epoch - 1) / 4));
    cfg.seed = 1000 + epoch;
    auto m = (*trainer)->train(params.span(), DatasetView(fm->train), cfg);
    REQUIRE(m.ok());
    auto e = evaluate(*spec, **ctx, params.span(), DatasetView(fm->test));
    REQUIRE(e.ok());
    best = std::max(best, e->accuracy);
    std::fprintf(stderr, "epoch %d train loss %.4f test loss %.4f test accuracy %.4f\n", epoch, m->mean_loss,
                 e->loss, e->accuracy);
    MESSAGE("epoch " << epoch << " test accuracy " << e->accuracy);
  }
  CHECK(best >= 0.88);
}
