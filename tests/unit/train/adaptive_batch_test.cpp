// Adaptive batch sizes: per-sample statistics against materialised per-sample gradients, the
// tests' formulas, gradient accumulation equivalence, and the trainer's batch trajectory.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "edgefl/train/adaptive_batch.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/train/trainer.hpp"

#include "compute_support.hpp"

using namespace edgefl;
using edgefl::testing::context;

namespace {

// Per-sample gradients g_i, one batch-1 backward pass each.
std::vector<std::vector<double>> per_sample_gradients(const ModelSpec& spec, const ComputeContext& ctx,
                                                      std::span<const float> params, const DatasetView& data,
                                                      std::span<const uint32_t> positions) {
  auto net = Network::create(spec, ctx, {1, false});
  REQUIRE(net.ok());
  FloatBuffer g(params.size());
  std::vector<uint32_t> scratch(1);
  std::vector<std::vector<double>> out;
  for (uint32_t pos : positions) {
    data.gather_transposed(std::span(&pos, 1), scratch, (*net)->input(), (*net)->targets());
    REQUIRE((*net)->forward_backward(params, g.span(), 1, 1.0f, false).ok());
    out.emplace_back(g.span().begin(), g.span().end());
  }
  return out;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

// The statistics of explicit per-sample gradients, per tensor: tensor p is [offset, offset + size).
GradientStatistics direct_statistics(const std::vector<std::vector<double>>& g,
                                     const std::vector<std::pair<std::size_t, std::size_t>>& tensors) {
  const std::size_t b = g.size();
  GradientStatistics s;
  s.batch = b;
  s.has_inner = true;
  for (auto [offset, size] : tensors) {
    auto part = [&](const std::vector<double>& v) {
      return std::vector<double>(v.begin() + offset, v.begin() + offset + size);
    };
    std::vector<double> mean(size, 0.0);
    for (const auto& gi : g)
      for (std::size_t j = 0; j < size; ++j) mean[j] += gi[offset + j] / double(b);
    TensorStatistics t;
    t.mean_sq_norm = dot(mean, mean);
    for (const auto& gi : g) {
      const auto gp = part(gi);
      t.sum_sq_norms += dot(gp, gp);
      const double ip = dot(gp, mean);
      t.sum_inner += ip;
      t.sum_inner_sq += ip * ip;
    }
    s.tensors.push_back(t);
  }
  return s;
}

// The model's parameter tensors: per Dense layer the weight matrix, then the bias.
std::vector<std::pair<std::size_t, std::size_t>> tensors_of(const ModelSpec& spec) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const DenseLayout& l : spec.dense_layouts()) {
    out.emplace_back(l.weight_offset, l.inputs * l.outputs);
    if (l.has_bias) out.emplace_back(l.bias_offset, l.outputs);
  }
  return out;
}

void check_close(double got, double want, double rel) {
  INFO("got " << got << " want " << want);
  CHECK(std::abs(got - want) <= rel * std::abs(want));
}

}  // namespace

TEST_CASE("per-sample gradient statistics match materialised per-sample gradients") {
  struct Case {
    const char* spec;
    std::size_t dim, classes;
  };
  for (Case c : {Case{"mlp:6-9-7-3:relu", 6, 3}, Case{"linear:6-1:logistic", 6, 2}}) {
    auto spec = ModelSpec::parse(c.spec);
    REQUIRE(spec.ok());
    auto data = make_blobs({c.classes, c.dim, 60, 1.5f, 1.0f, 4});
    REQUIRE(data.ok());
    for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
      auto ctx = context(backend);
      FloatBuffer params(spec->parameter_count());
      REQUIRE(init_parameters(*spec, params.span(), 2).ok());
      for (float& w : params.span()) w += 0.05f;  // the linear model starts at 0: move it off
      std::vector<uint32_t> positions = {3, 17, 4, 40, 22, 9, 58, 31, 12, 5, 27};
      DatasetView view(*data);
      auto direct =
          direct_statistics(per_sample_gradients(*spec, *ctx, params.span(), view, positions), tensors_of(*spec));
      // Micro-batch 4: three micro-batches per logical batch, statistics summed across them.
      auto trainer = LocalTrainer::create(*spec, *ctx, {4, true});
      REQUIRE(trainer.ok());
      for (BatchTest test : {BatchTest::norm, BatchTest::augmented_inner_product}) {
        INFO(c.spec << " " << backend_name(backend) << " " << batch_test_name(test));
        auto s = (*trainer)->gradient_statistics(params.span(), view, positions, test);
        REQUIRE(s.ok());
        CHECK(s->batch == positions.size());
        CHECK(s->has_inner == (test == BatchTest::augmented_inner_product));
        REQUIRE(s->tensors.size() == direct.tensors.size());
        for (std::size_t p = 0; p < direct.tensors.size(); ++p) {
          INFO("tensor " << p);
          const TensorStatistics &got = s->tensors[p], &want = direct.tensors[p];
          check_close(got.sum_sq_norms, want.sum_sq_norms, 1e-4);
          check_close(got.mean_sq_norm, want.mean_sq_norm, 1e-4);
          if (s->has_inner) {
            check_close(got.sum_inner, want.sum_inner, 1e-4);
            check_close(got.sum_inner_sq, want.sum_inner_sq, 1e-4);
          }
        }
      }
    }
  }
}

TEST_CASE("norm and augmented inner-product tests propose batches by their formulas") {
  // Four explicit per-sample gradients in R^3, as one tensor.
  std::vector<std::vector<double>> g = {{1, 0, 2}, {0.5, 1, 1.5}, {1.5, -1, 2.5}, {1, 0.2, 2}};
  GradientStatistics s = direct_statistics(g, {{0, 3}});
  std::vector<double> mean(3, 0.0);
  for (const auto& gi : g)
    for (int j = 0; j < 3; ++j) mean[j] += gi[j] / 4;
  double v = 0.0;  // Σ_i ‖g_i − ḡ‖² / (b − 1)
  for (const auto& gi : g)
    for (int j = 0; j < 3; ++j) v += (gi[j] - mean[j]) * (gi[j] - mean[j]) / 3;

  AdaptiveBatchConfig cfg{BatchTest::norm, 0.1, 0.5, 1.0, 1024, 0};
  auto r = propose_batch_size(s, cfg);
  REQUIRE(r.ok());
  check_close(r->variance, v, 1e-12);
  const auto want = static_cast<std::size_t>(std::ceil(v / (0.01 * s.mean_sq_norm())));
  REQUIRE(want > 4);
  CHECK(r->batch == want);
  CHECK_FALSE(r->passed);
  cfg.cap = want - 1;
  CHECK(propose_batch_size(s, cfg)->batch == want - 1);
  cfg.eta = 10.0;  // loose: the batch stays
  r = propose_batch_size(s, cfg);
  CHECK(r->passed);
  CHECK(r->batch == 4);

  // Augmented: max of the inner-product and orthogonality proposals, from explicit projections.
  double v_ip = 0.0, v_or = 0.0;
  const double g2 = s.mean_sq_norm();
  for (const auto& gi : g) {
    const double ip = dot(gi, mean);
    v_ip += (ip - g2) * (ip - g2) / 3;  // mean of ⟨g_i, ḡ⟩ is ‖ḡ‖²
    for (int j = 0; j < 3; ++j) {
      const double r_j = gi[j] - ip / g2 * mean[j];
      v_or += r_j * r_j / 3;  // the residuals have mean zero
    }
  }
  AdaptiveBatchConfig aug{BatchTest::augmented_inner_product, 0.1, 0.05, 0.05, 100000, 0};
  r = propose_batch_size(s, aug);
  REQUIRE(r.ok());
  const auto want_ip = static_cast<std::size_t>(std::ceil(v_ip / (0.05 * 0.05 * g2 * g2)));
  const auto want_or = static_cast<std::size_t>(std::ceil(v_or / (0.05 * 0.05 * g2)));
  CHECK(want_ip != want_or);
  CHECK(r->batch == std::max({std::size_t{4}, want_ip, want_or}));
  check_close(r->variance, std::max(v_ip, v_or), 1e-9);

  GradientStatistics no_inner = s;
  no_inner.has_inner = false;
  CHECK(propose_batch_size(no_inner, aug).status().code() == StatusCode::invalid_argument);
  GradientStatistics one = s;
  one.batch = 1;
  CHECK(propose_batch_size(one, cfg)->batch == 1);
  cfg.eta = 0.0;
  CHECK(propose_batch_size(s, cfg).status().code() == StatusCode::invalid_argument);
  CHECK(parse_batch_test("norm").value() == BatchTest::norm);
  CHECK(parse_batch_test("nrm").status().code() == StatusCode::invalid_argument);
}

TEST_CASE("the inner-product and orthogonality tests work per parameter tensor, the norm test either way") {
  // Three samples, tensor A = coordinates 0-1, tensor B = coordinate 2:
  //   g_1 = (1, 0 | 0), g_2 = (0, 1 | 1), g_3 = (2, 2 | 2);  ḡ^A = (1, 1), ḡ^B = 1, ‖ḡ‖² = 3.
  //   ⟨g_i^A, ḡ^A⟩ = 1, 1, 4 (Var 3);  ⟨g_i^B, ḡ^B⟩ = 0, 1, 2 (Var 1);  V_ip = 4
  //   (whole vector: ⟨g_i, ḡ⟩ = 1, 2, 6, Var 7: the covariance 3/2 of A and B counted twice).
  //   Orthogonal residuals: A (1/2)+(1/2)+0, B 0 (one coordinate), over b − 1 = 2: V_or = 1/2
  //   (whole vector: (2/3 + 2/3 + 0)/2 = 2/3).
  //   Norm: Σ‖g_i‖² = 15, V = (15 − 3·3)/2 = 3 either way.
  const std::vector<std::vector<double>> g = {{1, 0, 0}, {0, 1, 1}, {2, 2, 2}};
  const GradientStatistics per_tensor = direct_statistics(g, {{0, 2}, {2, 1}});
  const GradientStatistics whole = direct_statistics(g, {{0, 3}});

  AdaptiveBatchConfig aug{BatchTest::augmented_inner_product, 0.1, /*theta=*/0.1, /*nu=*/0.1, 100000, 0};
  auto r = propose_batch_size(per_tensor, aug);
  REQUIRE(r.ok());
  CHECK(r->variance == doctest::Approx(4.0));
  CHECK(r->batch == 45);  // inner product: ceil(4 / (0.01 · 9)) = 45; orthogonality ceil(0.5 / 0.03) = 17
  aug.theta = 1.0;        // inner product: ceil(4 / 9) = 1, so the orthogonality test decides
  r = propose_batch_size(per_tensor, aug);
  REQUIRE(r.ok());
  CHECK(r->batch == 17);
  // The whole vector as one tensor gives the cross-tensor numbers instead.
  CHECK(propose_batch_size(whole, aug)->batch == 23);  // ceil((2/3) / 0.03)
  aug.theta = 0.1;
  CHECK(propose_batch_size(whole, aug)->batch == 78);  // ceil(7 / 0.09)

  const AdaptiveBatchConfig norm{BatchTest::norm, /*eta=*/0.3, 0.5, 1.0, 100000, 0};
  auto a = propose_batch_size(per_tensor, norm), b = propose_batch_size(whole, norm);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->variance == doctest::Approx(3.0));
  CHECK(a->batch == 12);  // ceil(3 / (0.09 · 3))
  CHECK(b->batch == a->batch);
  CHECK(b->variance == doctest::Approx(a->variance));
}

TEST_CASE("the learning rate scales with the batch by the configured rule, capped") {
  AdaptiveBatchConfig c;
  CHECK(scaled_learning_rate(c, 0.1, 64, 16) == doctest::Approx(0.1));
  c.lr_scaling = LrScaling::sqrt;
  CHECK(scaled_learning_rate(c, 0.1, 64, 16) == doctest::Approx(0.2));
  c.lr_scaling = LrScaling::linear;
  CHECK(scaled_learning_rate(c, 0.1, 64, 16) == doctest::Approx(0.4));
  c.max_lr = 0.3;
  CHECK(scaled_learning_rate(c, 0.1, 64, 16) == doctest::Approx(0.3));
  CHECK(scaled_learning_rate(c, 0.1, 16, 16) == doctest::Approx(0.1));
  CHECK(parse_lr_scaling("sqrt").value() == LrScaling::sqrt);
  CHECK(parse_lr_scaling("quadratic").status().code() == StatusCode::invalid_argument);
  CHECK(parse_interval_clock("task").value() == IntervalClock::task);
  c.max_lr = -1.0;
  CHECK(validate(c).code() == StatusCode::invalid_argument);
}

TEST_CASE("the trainer steps with the scaled learning rate of the batch it carries") {
  auto spec = ModelSpec::parse("mlp:8-16-4:relu");
  auto data = make_blobs({4, 8, 200, 1.0f, 1.5f, 9});
  auto ctx = context(Backend::reference);
  const FloatBuffer start = Model::create(*spec, 1).value().params().clone();
  auto run = [&](float lr, LrScaling scaling, double max_lr) {
    TrainConfig cfg;
    cfg.optimizer = {OptimizerKind::sgd, lr};
    cfg.batch_size = 32;    // carried from an earlier round
    cfg.lr_base_batch = 8;  // lr is for batch 8
    cfg.local_steps = 3;
    cfg.adaptive.lr_scaling = scaling;
    cfg.adaptive.max_lr = max_lr;
    FloatBuffer params = start.clone();
    auto trainer = LocalTrainer::create(*spec, *ctx, {16, true});
    REQUIRE(trainer.ok());
    auto m = (*trainer)->train(params.span(), DatasetView(*data), cfg);
    REQUIRE(m.ok());
    CHECK((*trainer)->optimizer()->config().lr == lr);  // the configured lr is back after the call
    return params;
  };
  auto same = [](const FloatBuffer& a, const FloatBuffer& b) {
    return std::equal(a.span().begin(), a.span().end(), b.span().begin());
  };
  CHECK(same(run(0.05f, LrScaling::sqrt, 0.0), run(0.1f, LrScaling::none, 0.0)));     // 0.05 · sqrt(4)
  CHECK(same(run(0.05f, LrScaling::linear, 0.0), run(0.2f, LrScaling::none, 0.0)));   // 0.05 · 4
  CHECK(same(run(0.05f, LrScaling::linear, 0.15), run(0.15f, LrScaling::none, 0.0)));  // capped
  CHECK_FALSE(same(run(0.05f, LrScaling::none, 0.0), run(0.1f, LrScaling::none, 0.0)));

  TrainConfig bad;
  bad.optimizer = {OptimizerKind::sgd, 0.5f};
  bad.adaptive.max_lr = 0.1;  // below the lr it should only ever raise
  FloatBuffer params = start.clone();
  auto trainer = LocalTrainer::create(*spec, *ctx, {16, true});
  CHECK((*trainer)->train(params.span(), DatasetView(*data), bad).status().code() == StatusCode::invalid_argument);
}

TEST_CASE("the test interval counts the device's local steps across train() calls") {
  auto spec = ModelSpec::parse("mlp:8-16-4:relu");
  auto data = make_blobs({4, 8, 600, 1.0f, 1.5f, 9});
  auto ctx = context(Backend::reference);
  FloatBuffer params = Model::create(*spec, 1).value().params().clone();
  auto trainer = LocalTrainer::create(*spec, *ctx, {16, true});
  REQUIRE(trainer.ok());
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::sgd, 0.05f};
  cfg.batch_size = 4;
  cfg.local_steps = 5;  // interval 3 does not divide 5: tests at device steps 3, 6 and 9
  cfg.adaptive = {BatchTest::norm, 10.0, 0.5, 1.0, 64, /*interval=*/3};
  auto first = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  REQUIRE(first.ok());
  CHECK(first->batch_tests == 1);  // step 3
  cfg.device_steps = first->steps;
  auto second = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  REQUIRE(second.ok());
  CHECK(second->batch_tests == 2);  // device steps 6 and 9 = this call's steps 1 and 4
  cfg.adaptive.interval_clock = IntervalClock::task;
  auto restarted = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  REQUIRE(restarted.ok());
  CHECK(restarted->batch_tests == 1);  // this call's step 3 only
}

TEST_CASE("in epoch mode the test skips the short last batch and runs on a full one") {
  // 9 samples in batches of 4: 4, 4 and a short 1. A test on the single sample has no variance
  // estimate and would keep the batch; on a full batch of noisy blobs it grows.
  auto spec = ModelSpec::parse("mlp:8-16-4:relu");
  auto data = make_blobs({4, 8, 9, 1.0f, 1.5f, 9});
  auto ctx = context(Backend::reference);
  auto trainer = LocalTrainer::create(*spec, *ctx, {16, true});
  REQUIRE(trainer.ok());
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::sgd, 0.05f};
  cfg.batch_size = 4;
  cfg.epochs = 1;
  cfg.adaptive = {BatchTest::norm, 0.05, 0.5, 1.0, 9, /*interval=*/0};  // interval 0: last full batch
  FloatBuffer params = Model::create(*spec, 1).value().params().clone();
  auto m = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  REQUIRE(m.ok());
  CHECK(m->batch_tests == 1);
  CHECK(m->batch_sizes == std::vector<uint32_t>{4, 4, 1});
  CHECK(m->next_batch_size > 4);

  // interval 3 lands on the short batch: the test waits for the next epoch's first batch.
  cfg.epochs = 2;
  cfg.adaptive.interval = 3;
  cfg.adaptive.interval_clock = IntervalClock::task;
  m = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  REQUIRE(m.ok());
  CHECK(m->batch_tests == 1);
  REQUIRE(m->batch_sizes.size() >= 5);
  CHECK(m->batch_sizes[3] == 4);  // the tested batch
  CHECK(m->batch_sizes[4] > 4);   // grown right after it
}

TEST_CASE("a logical batch by gradient accumulation equals the single large batch within 1e-5") {
  auto spec = ModelSpec::parse("mlp:12-20-10-4:relu");
  REQUIRE(spec.ok());
  auto data = make_blobs({4, 12, 200, 2.0f, 1.0f, 6});
  std::vector<uint32_t> positions(150);
  std::iota(positions.begin(), positions.end(), 20u);
  for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
    auto ctx = context(backend);
    FloatBuffer params = Model::create(*spec, 3).value().params().clone();
    auto whole = LocalTrainer::create(*spec, *ctx, {150, false});
    REQUIRE(whole.ok());
    auto pieces = LocalTrainer::create(*spec, *ctx, {16, true});
    REQUIRE(pieces.ok());
    REQUIRE((*whole)->gradient_statistics(params.span(), DatasetView(*data), positions, BatchTest::norm).ok());
    REQUIRE((*pieces)->gradient_statistics(params.span(), DatasetView(*data), positions, BatchTest::norm).ok());
    double diff = 0.0, norm = 0.0;
    auto a = (*whole)->gradients(), b = (*pieces)->gradients();
    for (std::size_t i = 0; i < a.size(); ++i) {
      diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
      norm += double(a[i]) * a[i];
    }
    INFO(backend_name(backend));
    CHECK(norm > 0.0);
    CHECK(std::sqrt(diff) <= 1e-5 * std::sqrt(norm));
  }
}

TEST_CASE("the trainer grows the batch by the norm test and records the trajectory") {
  auto spec = ModelSpec::parse("mlp:8-16-4:relu");
  auto data = make_blobs({4, 8, 600, 1.0f, 1.5f, 9});
  auto ctx = context(Backend::reference);
  TrainConfig cfg;
  cfg.optimizer = {OptimizerKind::sgd, 0.1f};
  cfg.batch_size = 4;
  cfg.local_steps = 12;
  cfg.adaptive = {BatchTest::norm, 0.2, 0.5, 1.0, 64, /*interval=*/3};
  FloatBuffer params = Model::create(*spec, 1).value().params().clone();
  auto trainer = LocalTrainer::create(*spec, *ctx, {16, true});
  REQUIRE(trainer.ok());
  auto m = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  REQUIRE(m.ok());
  CHECK(m->batch_tests == 4);
  REQUIRE(m->batch_sizes.size() == 12);
  CHECK(m->batch_sizes.front() == 4);
  CHECK(std::is_sorted(m->batch_sizes.begin(), m->batch_sizes.end()));
  CHECK(m->batch_sizes.back() > 4);  // noisy blobs at eta 0.2: the test asks for more
  CHECK(m->next_batch_size <= 64);
  CHECK(m->next_batch_size >= m->batch_sizes.back());
  CHECK(m->samples == std::accumulate(m->batch_sizes.begin(), m->batch_sizes.end(), std::size_t{0}));
  // Batch changes happen only right after a test step (steps 3, 6, 9).
  for (std::size_t s = 1; s < 12; ++s) {
    if (s % 3 != 0) CHECK(m->batch_sizes[s] == m->batch_sizes[s - 1]);
  }

  // interval 0: one test on the last step; the trajectory is flat and the result carries over.
  cfg.adaptive.interval = 0;
  cfg.adaptive.test = BatchTest::augmented_inner_product;
  cfg.adaptive.theta = 0.2;
  cfg.adaptive.nu = 0.2;
  m = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  REQUIRE(m.ok());
  CHECK(m->batch_tests == 1);
  CHECK(std::all_of(m->batch_sizes.begin(), m->batch_sizes.end(), [](uint32_t b) { return b == 4; }));
  CHECK(m->next_batch_size > 4);

  // Without a test nothing is recorded and the batch stays.
  cfg.adaptive.test = BatchTest::none;
  m = (*trainer)->train(params.span(), DatasetView(*data), cfg);
  CHECK(m->batch_sizes.empty());
  CHECK(m->next_batch_size == 4);
  cfg.adaptive = {BatchTest::norm, -1.0, 0.5, 1.0, 64, 0};
  CHECK((*trainer)->train(params.span(), DatasetView(*data), cfg).status().code() == StatusCode::invalid_argument);
}
