// PALSGD local steps (docs/algorithms.md §3) and their composition with the server's outer step.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgefl/nn/model.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/aggregate/server_strategy.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/train/trainer.hpp"

using namespace edgefl;

namespace {

struct Fixture {
  Fixture() {
    auto made = make_blobs({3, 6, 240, 2.0f, 1.0f, 8});
    REQUIRE(made.ok());
    data = std::move(*made);
    auto ctx_made = ComputeContext::create(Backend::reference, 1);
    REQUIRE(ctx_made.ok());
    ctx = std::move(*ctx_made);
  }
  std::unique_ptr<LocalTrainer> trainer(std::size_t micro = 8) {
    auto t = LocalTrainer::create(spec, *ctx, {micro, true});
    REQUIRE(t.ok());
    return std::move(*t);
  }
  FloatBuffer init(uint64_t seed) { return Model::create(spec, seed).value().params().clone(); }

  ModelSpec spec = ModelSpec::parse("mlp:6-10-3:relu").value();
  Dataset data;
  std::unique_ptr<ComputeContext> ctx;
};

// `local_steps` steps of `optimizer` on batches of `batch`.
TrainConfig steps_of(OptimizerConfig optimizer, std::size_t batch, std::size_t local_steps) {
  TrainConfig cfg;
  cfg.optimizer = optimizer;
  cfg.batch_size = batch;
  cfg.local_steps = local_steps;
  return cfg;
}

bool same_bits(const FloatBuffer& a, const FloatBuffer& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// First seed whose first PALSGD coin flip is (pull = true) or is not (pull = false) a pull step.
uint64_t seed_with_first_flip(float p, bool pull) {
  for (uint64_t seed = 1;; ++seed) {
    Rng r = palsgd_flag_rng(seed);
    if ((r.uniform() < p) == pull) return seed;
  }
}

}  // namespace

TEST_CASE("palsgd with p = 0 is bit-identical to plain local training (a DiLoCo worker)") {
  Fixture f;
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::adamw, 0.01f, 0.9f, 0.01f};
  cfg.batch_size = 12;
  cfg.local_steps = 9;
  cfg.seed = 21;
  FloatBuffer plain = f.init(3), palsgd = plain.clone(), global = plain.clone();
  auto a = f.trainer(), b = f.trainer();
  for (int round = 0; round < 2; ++round) {  // AdamW state carries over rounds in both
    auto ma = a->train(plain.span(), DatasetView(f.data), cfg);
    TrainConfig with = cfg;
    with.palsgd = {0.0f, 0.7f, 0};
    auto mb = b->train(palsgd.span(), DatasetView(f.data), with, global.span());
    REQUIRE(ma.ok());
    REQUIRE(mb.ok());
    CHECK(mb->pull_steps == 0);
    CHECK(mb->gradient_steps == 9);
    CHECK(mb->mean_loss == ma->mean_loss);
    cfg.seed += 1;
  }
  CHECK(same_bits(plain, palsgd));
}

TEST_CASE("a pull step moves x toward the global copy by lr*rho/p and skips the gradient") {
  Fixture f;
  TrainConfig cfg = steps_of({OptimizerKind::adamw, 0.02f}, 8, 1);
  cfg.palsgd = {0.4f, 0.5f, 0};
  cfg.start_step = 5;  // past the warm-up's first step, which is always a gradient step
  cfg.seed = seed_with_first_flip(0.4f, true);
  FloatBuffer x = f.init(1), z = f.init(2), expected = x.clone();
  const float c = 0.02f * 0.5f / 0.4f;
  for (std::size_t i = 0; i < x.size(); ++i) expected[i] = x[i] - c * (x[i] - z[i]);
  auto trainer = f.trainer();
  auto m = trainer->train(x.span(), DatasetView(f.data), cfg, z.span());
  REQUIRE(m.ok());
  CHECK(m->pull_steps == 1);
  CHECK(m->gradient_steps == 0);
  CHECK(m->samples == 0);
  CHECK(trainer->optimizer()->steps() == 0);  // AdamW's step count (bias correction) untouched
  CHECK(same_bits(x, expected));
}

TEST_CASE("pull steps follow the seeded coin flips, and only after the warm-up") {
  Fixture f;
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::momentum, 0.05f, 0.9f};
  cfg.batch_size = 10;
  cfg.local_steps = 60;
  cfg.seed = 77;
  cfg.palsgd = {0.3f, 1.0f, /*warmup_steps=*/20};
  cfg.start_step = 8;  // 12 warm-up steps left, then step 20 (a gradient step), then flips
  Rng flips = palsgd_flag_rng(cfg.seed);
  std::size_t expected_pulls = 0;
  for (int s = 13; s < 60; ++s) expected_pulls += flips.uniform() < 0.3f ? 1 : 0;
  REQUIRE(expected_pulls > 0);
  REQUIRE(expected_pulls < 48);

  FloatBuffer x = f.init(4), z = f.init(4);
  auto trainer = f.trainer();
  auto m = trainer->train(x.span(), DatasetView(f.data), cfg, z.span());
  REQUIRE(m.ok());
  CHECK(m->steps == 60);
  CHECK(m->pull_steps == expected_pulls);
  CHECK(m->gradient_steps == 60 - expected_pulls);
  CHECK(m->samples == 10 * (60 - expected_pulls));
  CHECK(trainer->optimizer()->steps() == 60 - expected_pulls);
  CHECK(trainer->optimizer()->config().lr == 0.05f);  // the 1/(1-p) scaling does not leak out

  // Entirely inside the warm-up: no flips, identical to plain training.
  FloatBuffer warm = f.init(4), plain = f.init(4);
  cfg.local_steps = 5;
  cfg.start_step = 0;
  auto mw = f.trainer()->train(warm.span(), DatasetView(f.data), cfg, z.span());
  TrainConfig no_palsgd = cfg;
  no_palsgd.palsgd = {};
  REQUIRE(f.trainer()->train(plain.span(), DatasetView(f.data), no_palsgd).ok());
  REQUIRE(mw.ok());
  CHECK(mw->pull_steps == 0);
  CHECK(same_bits(warm, plain));
}

TEST_CASE("palsgd gradient steps use lr / (1 - p)") {
  Fixture f;
  TrainConfig cfg = steps_of({OptimizerKind::sgd, 0.04f}, 16, 1);
  cfg.palsgd = {0.2f, 1.0f, 0};
  cfg.start_step = 1;
  cfg.seed = seed_with_first_flip(0.2f, false);
  FloatBuffer x = f.init(6), z = f.init(9), reference = x.clone();
  auto m = f.trainer()->train(x.span(), DatasetView(f.data), cfg, z.span());
  REQUIRE(m.ok());
  CHECK(m->gradient_steps == 1);

  TrainConfig plain = cfg;
  plain.palsgd = {};
  plain.optimizer.lr = 0.04f / (1.0f - 0.2f);
  REQUIRE(f.trainer()->train(reference.span(), DatasetView(f.data), plain).ok());
  CHECK(same_bits(x, reference));
  FloatBuffer unscaled = f.init(6);
  plain.optimizer.lr = 0.04f;
  REQUIRE(f.trainer()->train(unscaled.span(), DatasetView(f.data), plain).ok());
  CHECK_FALSE(same_bits(x, unscaled));
}

TEST_CASE("the pull coefficient uses the scheduled lr of its global step") {
  // lr 0.02 warming up linearly over 10 steps: step 5 runs at 0.02 * 6 / 10 = 0.012, so the
  // pull coefficient is 0.012 * 0.5 / 0.4 = 0.015 (the constant lr would give 0.025).
  Fixture f;
  TrainConfig cfg = steps_of({OptimizerKind::adamw, 0.02f}, 8, 1);
  cfg.palsgd = {0.4f, 0.5f, 0};
  cfg.lr_schedule = {.kind = LrScheduleKind::linear_warmup, .warmup_steps = 10};
  cfg.start_step = 5;
  cfg.seed = seed_with_first_flip(0.4f, true);
  FloatBuffer x = f.init(1), z = f.init(2), expected = x.clone();
  auto m = f.trainer()->train(x.span(), DatasetView(f.data), cfg, z.span());
  REQUIRE(m.ok());
  REQUIRE(m->pull_steps == 1);
  double largest_error = 0.0, largest_move = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = double(expected[i]) - 0.015 * (double(expected[i]) - z[i]);
    largest_error = std::max(largest_error, std::abs(want - x[i]));
    largest_move = std::max(largest_move, std::abs(double(expected[i]) - x[i]));
  }
  CHECK(largest_move > 1e-3);
  CHECK(largest_error < 1e-6);
}

TEST_CASE("the first step after the warm-up is a gradient step, flips start with the next") {
  Fixture f;
  TrainConfig cfg = steps_of({OptimizerKind::sgd, 0.05f}, 8, 1);
  cfg.palsgd = {0.4f, 1.0f, /*warmup_steps=*/3};
  cfg.start_step = 3;
  cfg.seed = seed_with_first_flip(0.4f, true);  // a pull if step 3 drew a flip
  FloatBuffer x = f.init(1), z = f.init(2);
  auto m = f.trainer()->train(x.span(), DatasetView(f.data), cfg, z.span());
  REQUIRE(m.ok());
  CHECK(m->gradient_steps == 1);
  CHECK(m->pull_steps == 0);

  cfg.local_steps = 20;  // steps 4..22 draw the stream's first 19 flips
  Rng flips = palsgd_flag_rng(cfg.seed);
  std::size_t expected_pulls = 0;
  for (int s = 0; s < 19; ++s) expected_pulls += flips.uniform() < 0.4f ? 1 : 0;
  auto m20 = f.trainer()->train(x.span(), DatasetView(f.data), cfg, z.span());
  REQUIRE(m20.ok());
  CHECK(m20->pull_steps == expected_pulls);
}

TEST_CASE("gradient steps follow the lr schedule of their global step") {
  // SGD, lr 0.1 warming up over 4 steps, starting at global step 1: the step runs at 0.05.
  Fixture f;
  TrainConfig cfg = steps_of({OptimizerKind::sgd, 0.1f}, 8, 1);
  cfg.seed = 5;
  cfg.lr_schedule = {.kind = LrScheduleKind::linear_warmup, .warmup_steps = 4};
  cfg.start_step = 1;
  FloatBuffer scheduled = f.init(3), half = scheduled.clone();
  auto trainer = f.trainer();
  REQUIRE(trainer->train(scheduled.span(), DatasetView(f.data), cfg).ok());
  CHECK(trainer->optimizer()->config().lr == 0.1f);  // the schedule does not leak out
  TrainConfig plain = cfg;
  plain.lr_schedule = {};
  plain.optimizer.lr = 0.05f;
  REQUIRE(f.trainer()->train(half.span(), DatasetView(f.data), plain).ok());
  CHECK(same_bits(scheduled, half));
}

TEST_CASE("gradient() is the first batch gradient, and clip_norm scales a step's gradient to the norm") {
  Fixture f;
  TrainConfig cfg = steps_of({OptimizerKind::sgd, 0.5f}, 16, 1);
  cfg.seed = 9;
  FloatBuffer x0 = f.init(7);
  auto probe = f.trainer();
  auto g = probe->gradient(x0.span(), DatasetView(f.data), cfg);
  REQUIRE(g.ok());
  CHECK(g->samples == 16);
  std::vector<float> grad(probe->gradients().begin(), probe->gradients().end());
  double norm = 0.0;
  for (float v : grad) norm += double(v) * v;
  norm = std::sqrt(norm);
  REQUIRE(norm > 0.05);

  FloatBuffer plain = x0.clone();  // one SGD step: x0 - lr g
  REQUIRE(f.trainer()->train(plain.span(), DatasetView(f.data), cfg).ok());
  const float clip = static_cast<float>(norm / 4);
  cfg.clip_norm = clip;
  FloatBuffer clipped = x0.clone();  // x0 - lr g clip / (|g| + 1e-6)
  REQUIRE(f.trainer()->train(clipped.span(), DatasetView(f.data), cfg).ok());
  double plain_error = 0.0, clipped_error = 0.0;
  const double factor = clip / (norm + 1e-6);
  for (std::size_t i = 0; i < x0.size(); ++i) {
    plain_error = std::max(plain_error, std::abs(double(x0[i]) - 0.5 * grad[i] - plain[i]));
    clipped_error = std::max(clipped_error, std::abs(double(x0[i]) - 0.5 * factor * grad[i] - clipped[i]));
  }
  CHECK(plain_error < 1e-6);
  CHECK(clipped_error < 1e-6);
  cfg.clip_norm = -1.0f;
  CHECK(f.trainer()->train(clipped.span(), DatasetView(f.data), cfg).status().code() == StatusCode::invalid_argument);
}

TEST_CASE("palsgd settings are checked") {
  Fixture f;
  FloatBuffer x = f.init(1), z = f.init(1);
  auto trainer = f.trainer();
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::sgd, 0.1f};
  cfg.local_steps = 2;
  auto code = [&](PalsgdConfig pc, std::span<const float> global) {
    cfg.palsgd = pc;
    return trainer->train(x.span(), DatasetView(f.data), cfg, global).status().code();
  };
  CHECK(code({1.0f, 0.1f, 0}, z.span()) == StatusCode::invalid_argument);
  CHECK(code({-0.1f, 0.1f, 0}, z.span()) == StatusCode::invalid_argument);
  CHECK(code({0.2f, -1.0f, 0}, z.span()) == StatusCode::invalid_argument);
  CHECK(code({0.05f, 1.0f, 0}, z.span()) == StatusCode::invalid_argument);  // 0.1 * 1 / 0.05 = 2 > 1
  CHECK(code({0.2f, 1.0f, 0}, {}) == StatusCode::shape_mismatch);
  CHECK(code({0.2f, 1.0f, 0}, z.span().first(3)) == StatusCode::shape_mismatch);
  CHECK(code({0.2f, 1.0f, 0}, z.span()) == StatusCode::ok);
}

TEST_CASE("DiLoCo with outer lr 1 and momentum 0 is plain Local SGD averaging") {
  // Two simulations with the same seeds: DiLoCo (devices send delta = local - global, the
  // server applies the nesterov outer step with lr 1, momentum 0) and Local SGD (the server
  // averages the local models). They differ only by float rounding.
  Fixture f;
  auto part = partition_iid(f.data, 2, 3);
  REQUIRE(part.ok());
  TrainConfig cfg = steps_of({OptimizerKind::adamw, 0.01f}, 8, 6);
  StrategySettings settings;
  settings.server_lr = 1.0;
  settings.momentum = 0.0;
  auto strategy = make_server_strategy("diloco", settings, f.spec.parameter_count());
  REQUIRE(strategy.ok());
  FloatBuffer diloco_global = f.init(5), local_sgd_global = diloco_global.clone();
  std::unique_ptr<LocalTrainer> diloco[2] = {f.trainer(), f.trainer()};
  std::unique_ptr<LocalTrainer> local_sgd[2] = {f.trainer(), f.trainer()};
  const std::size_t P = diloco_global.size();
  for (int round = 0; round < 3; ++round) {
    FloatBuffer mean_delta(P), average(P);
    mean_delta.fill(0.0f);
    average.fill(0.0f);
    for (int m = 0; m < 2; ++m) {
      DatasetView shard(f.data, part->clients[m]);
      TrainConfig worker = cfg;
      worker.seed = 100 * round + m;
      worker.palsgd = {0.0f, 0.5f, 0};  // PALSGD with p = 0 is the DiLoCo worker
      FloatBuffer x = diloco_global.clone();
      REQUIRE(diloco[m]->train(x.span(), shard, worker, diloco_global.span()).ok());
      for (std::size_t i = 0; i < P; ++i) mean_delta[i] += 0.5f * (x[i] - diloco_global[i]);

      worker.palsgd = {};
      FloatBuffer y = local_sgd_global.clone();
      REQUIRE(local_sgd[m]->train(y.span(), shard, worker).ok());
      for (std::size_t i = 0; i < P; ++i) average[i] += 0.5f * y[i];
    }
    REQUIRE((*strategy)->apply(diloco_global.span(), mean_delta.span()).ok());
    local_sgd_global.assign(average.span());
    double diff = 0.0, scale = 0.0, moved = 0.0;
    for (std::size_t i = 0; i < P; ++i) {
      diff = std::max(diff, std::abs(double(diloco_global[i]) - local_sgd_global[i]));
      scale = std::max(scale, std::abs(double(local_sgd_global[i])));
      moved = std::max(moved, std::abs(double(mean_delta[i])));
    }
    INFO("round " << round << " max diff " << diff << " max |param| " << scale);
    CHECK(moved > 1e-3);  // the models really moved
    CHECK(diff <= 1e-5 * scale);
  }
}
