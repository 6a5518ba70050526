#include <doctest/doctest.h>

#include <cmath>

#include "edgefl/nn/model.hpp"
#include "edgefl/data/partition.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/train/trainer.hpp"

#include "compute_support.hpp"

using namespace edgefl;
using edgefl::testing::context;

namespace {

}  // namespace

TEST_CASE("local training on blobs learns, reports metrics, and is bit-identical per seed") {
  auto data = make_blobs({4, 8, 800, 3.0f, 1.0f, 2});
  REQUIRE(data.ok());
  auto part = partition_iid(*data, 2, 1);
  DatasetView train(*data, part->clients[0]), held_out(*data, part->clients[1]);
  auto spec = ModelSpec::parse("mlp:8-16-4:relu");
  auto ctx = context(Backend::xnnpack);
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::momentum, 0.05f, 0.9f};
  cfg.batch_size = 16;
  cfg.epochs = 3;
  cfg.seed = 11;

  FloatBuffer first[2];
  for (FloatBuffer& params : first) {
    params = Model::create(*spec, 5).value().params().clone();
    auto trainer = LocalTrainer::create(*spec, *ctx, {16, true});
    REQUIRE(trainer.ok());
    auto before = evaluate(*spec, *ctx, params.span(), held_out);
    REQUIRE(before.ok());
    auto m = (*trainer)->train(params.span(), train, cfg);
    REQUIRE(m.ok());
    CHECK(m->samples == 3 * 400);
    CHECK(m->steps == 3 * 25);
    CHECK(m->mean_loss < before->loss);
    auto after = evaluate(*spec, *ctx, params.span(), held_out);
    REQUIRE(after.ok());
    CHECK(after->samples == 400);
    CHECK(after->accuracy > 0.9);
    CHECK(after->loss < before->loss);
  }
  CHECK(std::equal(first[0].span().begin(), first[0].span().end(), first[1].span().begin()));

  // Local-steps mode, and a different seed gives a different model.
  FloatBuffer other = Model::create(*spec, 5).value().params().clone();
  auto trainer = LocalTrainer::create(*spec, *ctx, {16, true});
  REQUIRE(trainer.ok());
  cfg.seed = 12;
  cfg.local_steps = 7;
  auto m = (*trainer)->train(other.span(), train, cfg);
  REQUIRE(m.ok());
  CHECK(m->steps == 7);
  CHECK(m->samples == 7 * 16);
  CHECK((*trainer)->optimizer()->steps() == 7);
}

TEST_CASE("a logical batch above the micro-batch trains like the same batch in one piece") {
  auto data = make_blobs({3, 6, 120, 2.0f, 1.0f, 3});
  auto spec = ModelSpec::parse("mlp:6-10-3:relu");
  REQUIRE(spec.ok());
  auto ctx = context(Backend::reference);
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::adamw, 0.01f, 0.9f, 0.01f};
  cfg.batch_size = 24;
  cfg.epochs = 2;
  FloatBuffer whole = Model::create(*spec, 1).value().params().clone(), pieces = whole.clone();
  auto big = LocalTrainer::create(*spec, *ctx, {24, false});
  REQUIRE(big.ok());
  auto small = LocalTrainer::create(*spec, *ctx, {5, true});
  REQUIRE(small.ok());
  REQUIRE((*big)->train(whole.span(), DatasetView(*data), cfg).ok());
  REQUIRE((*small)->train(pieces.span(), DatasetView(*data), cfg).ok());
  for (std::size_t i = 0; i < whole.size(); ++i) CHECK(pieces[i] == doctest::Approx(whole[i]).epsilon(1e-4));

  auto no_acc = LocalTrainer::create(*spec, *ctx, {5, false});
  REQUIRE(no_acc.ok());
  CHECK((*no_acc)->train(pieces.span(), DatasetView(*data), cfg).status().code() == StatusCode::failed_precondition);
}

TEST_CASE("local GD on overparameterised linear regression approaches the min-norm interpolator") {
  // d > n: plain GD from w0 = 0 converges to X^T (X X^T)^-1 y, which fits every sample.
  auto task = make_linear_task({20, 60, 1, 0.0f, 0.0f, false, 3});
  REQUIRE(task.ok());
  auto spec = ModelSpec::parse("linear:60-1");
  REQUIRE(spec.ok());
  auto ctx = context(Backend::xnnpack);
  FloatBuffer w = Model::create(*spec, 0).value().params().clone();
  auto trainer = LocalTrainer::create(*spec, *ctx, {20, false});
  REQUIRE(trainer.ok());
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::sgd, 0.2f};
  cfg.batch_size = 20;  // full batch
  cfg.local_steps = 500;
  auto m = (*trainer)->train(w.span(), DatasetView(task->data), cfg);
  REQUIRE(m.ok());
  auto e = evaluate(*spec, *ctx, w.span(), DatasetView(task->data));
  CHECK(e->loss < 1e-6);
  CHECK(e->accuracy == 0.0);

  auto logistic = make_linear_task({40, 80, 1, 0.0f, 0.0f, true, 5});
  REQUIRE(logistic.ok());
  auto lspec = ModelSpec::parse("linear:80-1:logistic");
  REQUIRE(lspec.ok());
  FloatBuffer lw = Model::create(*lspec, 0).value().params().clone();
  auto ltrainer = LocalTrainer::create(*lspec, *ctx, {40, false});
  REQUIRE(ltrainer.ok());
  cfg.local_steps = 300;
  REQUIRE((*ltrainer)->train(lw.span(), DatasetView(logistic->data), cfg).ok());
  CHECK(evaluate(*lspec, *ctx, lw.span(), DatasetView(logistic->data)).value().accuracy == 1.0);
}

TEST_CASE("batch size 0 is full-batch GD: micro-batches accumulate the whole shard's exact gradient") {
  auto task = make_linear_task({20, 60, 2, 3.0f, 0.0f, false, 4});
  REQUIRE(task.ok());
  auto spec = ModelSpec::parse("linear:60-1");
  REQUIRE(spec.ok());
  auto ctx = context(Backend::reference);
  auto run = [&](std::size_t micro, std::size_t batch) {
    FloatBuffer w = Model::create(*spec, 0).value().params().clone();
    auto trainer = LocalTrainer::create(*spec, *ctx, {micro, true});
    REQUIRE(trainer.ok());
    TrainConfig cfg;
    cfg.optimizer = {OptimizerKind::sgd, 0.01f};
    cfg.batch_size = batch;
    cfg.local_steps = 25;
    auto m = (*trainer)->train(w.span(), DatasetView(task->data), cfg);
    REQUIRE(m.ok());
    CHECK(m->steps == 25);
    CHECK(m->samples == 25 * std::min<std::size_t>(batch == 0 ? 20 : batch, 20));
    return w;
  };
  FloatBuffer streamed = run(6, 0);   // four micro-batches (6, 6, 6, 2) per step
  FloatBuffer one_pass = run(20, 20);  // the whole shard in one fused step
  FloatBuffer sampled = run(20, 5);    // mini-batches: a different trajectory
  double diff = 0, norm = 0, sampled_diff = 0;
  for (std::size_t i = 0; i < streamed.size(); ++i) {
    diff = std::max(diff, double(std::abs(streamed[i] - one_pass[i])));
    sampled_diff = std::max(sampled_diff, double(std::abs(sampled[i] - one_pass[i])));
    norm = std::max(norm, double(std::abs(one_pass[i])));
  }
  CHECK(norm > 0.01);
  CHECK(diff <= 1e-5 * norm);
  CHECK(sampled_diff > 1e-3 * norm);

  TrainConfig adaptive;
  adaptive.batch_size = 0;
  adaptive.local_steps = 1;
  adaptive.adaptive.test = BatchTest::norm;
  FloatBuffer w(spec->parameter_count());
  auto trainer = LocalTrainer::create(*spec, *ctx, {20, true});
  REQUIRE(trainer.ok());
  CHECK((*trainer)->train(w.span(), DatasetView(task->data), adaptive).status().code() == StatusCode::invalid_argument);
}

TEST_CASE("trainer rejects mismatched data and configs") {
  auto data = make_blobs({3, 6, 30});
  REQUIRE(data.ok());
  auto spec = ModelSpec::parse("mlp:5-4-3:relu");
  REQUIRE(spec.ok());
  auto ctx = context(Backend::reference);
  auto trainer = LocalTrainer::create(*spec, *ctx);
  REQUIRE(trainer.ok());
  FloatBuffer params(spec->parameter_count());
  TrainConfig cfg;
  CHECK((*trainer)->train(params.span(), DatasetView(*data), cfg).status().code() == StatusCode::shape_mismatch);
  std::vector<uint32_t> none;
  CHECK((*trainer)->train(params.span(), DatasetView(*data, none), cfg).status().code() == StatusCode::invalid_argument);
  cfg.optimizer.lr = -1;
  auto good = make_blobs({3, 5, 30});
  REQUIRE(good.ok());
  CHECK((*trainer)->train(params.span(), DatasetView(*good), cfg).status().code() == StatusCode::invalid_argument);
}
