// The small CNN trains through LocalTrainer on Fashion-MNIST-shaped data, and the adaptive
// batch statistics of conv models match materialised per-sample gradients.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "edgefl/data/synthetic.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/train/trainer.hpp"

#include "compute_support.hpp"

using namespace edgefl;
using edgefl::testing::context;

TEST_CASE("the small CNN learns 28x28x1 data through LocalTrainer on every backend") {
  auto spec = ModelSpec::parse("in:28x28x1 conv3x3x8 relu maxpool2 conv3x3x16 relu maxpool2 flatten dense10 loss:xent");
  REQUIRE(spec.ok());
  // 300 samples of 10 classes, 784 features each (a Fashion-MNIST-shaped image per sample).
  auto data = make_blobs({10, 784, 300, 1.0f, 1.0f, 7});
  REQUIRE(data.ok());
  DatasetView view(*data);
  for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
    auto ctx = context(backend);
    auto trainer = LocalTrainer::create(*spec, *ctx, {32, true});
    REQUIRE(trainer.ok());
    FloatBuffer params = Model::create(*spec, 3).value().params().clone();
    auto before = evaluate(*spec, *ctx, params.span(), view, 100);
    REQUIRE(before.ok());
    TrainConfig cfg;
    cfg.optimizer = {OptimizerKind::adamw, 0.003f};
    cfg.batch_size = 32;
    cfg.epochs = 2;
    cfg.seed = 5;
    auto m = (*trainer)->train(params.span(), view, cfg);
    REQUIRE(m.ok());
    auto after = evaluate(*spec, *ctx, params.span(), view, 100);
    REQUIRE(after.ok());
    INFO(backend_name(backend) << ": loss " << before->loss << " -> " << after->loss << ", accuracy "
                               << before->accuracy << " -> " << after->accuracy);
    CHECK(after->loss < 0.5 * before->loss);
    CHECK(after->accuracy > 0.8);
  }
}

TEST_CASE("conv models: per-sample gradient statistics match materialised per-sample gradients") {
  auto spec = ModelSpec::parse("in:6x5x2 conv3x3x3,s2 relu dwconv3x2,valid relu6 flatten dense3 loss:xent");
  REQUIRE(spec.ok());
  auto data = make_blobs({3, 60, 60, 1.5f, 1.0f, 4});
  REQUIRE(data.ok());
  DatasetView view(*data);
  std::vector<uint32_t> positions = {3, 17, 4, 40, 22, 9, 58, 31, 12, 5, 27};
  for (Backend backend : {Backend::reference, Backend::xnnpack, Backend::direct}) {
    auto ctx = context(backend);
    FloatBuffer params = Model::create(*spec, 2).value().params().clone();
    for (float& w : params.span()) w += 0.05f;
    // g_i from one batch-1 backward pass per sample.
    auto one = Network::create(*spec, *ctx, {1, false});
    REQUIRE(one.ok());
    std::vector<std::vector<double>> g;
    FloatBuffer grads(params.size());
    std::vector<uint32_t> scratch(1);
    for (uint32_t pos : positions) {
      view.gather_transposed(std::span(&pos, 1), scratch, (*one)->input(), (*one)->targets());
      REQUIRE((*one)->forward_backward(params.span(), grads.span(), 1, 1.0f, false).ok());
      g.emplace_back(grads.span().begin(), grads.span().end());
    }
    std::vector<double> mean(params.size(), 0.0);
    for (const auto& gi : g)
      for (std::size_t j = 0; j < mean.size(); ++j) mean[j] += gi[j] / double(g.size());
    auto trainer = LocalTrainer::create(*spec, *ctx, {4, true});  // three micro-batches
    REQUIRE(trainer.ok());
    auto s = (*trainer)->gradient_statistics(params.span(), view, positions, BatchTest::augmented_inner_product);
    REQUIRE(s.ok());
    INFO(backend_name(backend));
    // Per parameter tensor p: Σ_i ‖g_i^p‖², Σ_i ⟨g_i^p, ḡ^p⟩ and its square.
    std::size_t p = 0;
    for (const LayerGeometry& layer : spec->geometry()) {
      for (const ParamTensor& tensor : layer.params) {
        const std::size_t begin = tensor.offset, end = tensor.offset + tensor.size();
        double sum_sq = 0.0, sum_inner = 0.0, sum_inner_sq = 0.0;
        for (const auto& gi : g) {
          sum_sq += std::inner_product(gi.begin() + begin, gi.begin() + end, gi.begin() + begin, 0.0);
          const double ip = std::inner_product(gi.begin() + begin, gi.begin() + end, mean.begin() + begin, 0.0);
          sum_inner += ip;
          sum_inner_sq += ip * ip;
        }
        INFO("tensor " << p << " (" << tensor.name << ")");
        REQUIRE(p < s->tensors.size());
        const TensorStatistics& got = s->tensors[p];
        CHECK(std::abs(got.sum_sq_norms - sum_sq) <= 1e-4 * sum_sq);
        CHECK(std::abs(got.sum_inner - sum_inner) <= 1e-4 * std::abs(sum_inner) + 1e-12);
        CHECK(std::abs(got.sum_inner_sq - sum_inner_sq) <= 1e-4 * sum_inner_sq + 1e-12);
        ++p;
      }
    }
    CHECK(p == s->tensors.size());
  }
}

TEST_CASE("a dropout model's inner-product test sees the same masks in both passes") {
  // Σ_i ⟨g_i, ḡ⟩ = b ‖ḡ‖² holds when the second pass repeats the first pass's dropout masks.
  auto spec = ModelSpec::parse("in:6x5x2 conv3x3x4 relu dropout0.5 flatten dense3 loss:xent");
  REQUIRE(spec.ok());
  auto data = make_blobs({3, 60, 60, 1.5f, 1.0f, 4});
  REQUIRE(data.ok());
  auto ctx = context(Backend::reference);
  auto trainer = LocalTrainer::create(*spec, *ctx, {4, true});
  REQUIRE(trainer.ok());
  FloatBuffer params = Model::create(*spec, 2).value().params().clone();
  std::vector<uint32_t> positions = {3, 17, 4, 40, 22, 9, 58, 31, 12, 5, 27};
  auto s = (*trainer)->gradient_statistics(params.span(), DatasetView(*data), positions,
                                           BatchTest::augmented_inner_product);
  REQUIRE(s.ok());
  for (const TensorStatistics& t : s->tensors) {
    const double expected = double(positions.size()) * t.mean_sq_norm;
    CHECK(std::abs(t.sum_inner - expected) <= 1e-4 * expected + 1e-12);
  }
}
