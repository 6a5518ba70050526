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

GradientStatistics direct_statistics(const std::vector<std::vector<double>>& g) {
  const std::size_t b = g.size(), p = g[0].size();
  std::vector<double> mean(p, 0.0);
  for (const auto& gi : g)
    for (std::size_t j = 0; j < p; ++j) mean[j] += gi[j] / double(b);
  GradientStatistics s;
  s.batch = b;
  s.mean_sq_norm = dot(mean, mean);
  s.has_inner = true;
  for (const auto& gi : g) {
    s.sum_sq_norms += dot(gi, gi);
    const double ip = dot(gi, mean);
    s.sum_inner += ip;
    s.sum_inner_sq += ip * ip;
  }
  return s;
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
      auto direct = direct_statistics(per_sample_gradients(*spec, *ctx, params.span(), view, positions));
      // Micro-batch 4: three micro-batches per logical batch, statistics summed across them.
      auto trainer = LocalTrainer::create(*spec, *ctx, {4, true});
      REQUIRE(trainer.ok());
      for (BatchTest test : {BatchTest::norm, BatchTest::augmented_inner_product}) {
        INFO(c.spec << " " << backend_name(backend) << " " << batch_test_name(test));
        auto s = (*trainer)->gradient_statistics(params.span(), view, positions, test);
        REQUIRE(s.ok());
        CHECK(s->batch == positions.size());
        check_close(s->sum_sq_norms, direct.sum_sq_norms, 1e-4);
        check_close(s->mean_sq_norm, direct.mean_sq_norm, 1e-4);
        CHECK(s->has_inner == (test == BatchTest::augmented_inner_product));
        if (s->has_inner) {
          check_close(s->sum_inner, direct.sum_inner, 1e-4);
          check_close(s->sum_inner_sq, direct.sum_inner_sq, 1e-4);
        }
      }
    }
  }
}

TEST_CASE("norm and augmented inner-product tests propose batches by their formulas") {
  // Four explicit per-sample gradients in R^3.
  std::vector<std::vector<double>> g = {{1, 0, 2}, {0.5, 1, 1.5}, {1.5, -1, 2.5}, {1, 0.2, 2}};
  GradientStatistics s = direct_statistics(g);
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
  const auto want = static_cast<std::size_t>(std::ceil(v / (0.01 * s.mean_sq_norm)));
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
  const double g2 = s.mean_sq_norm;
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
