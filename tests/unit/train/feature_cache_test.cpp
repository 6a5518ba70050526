// A frozen prefix's cached features: which models have one, and training the head on them
// takes the steps that training the whole network with the prefix frozen takes.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "edgefl/data/synthetic.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/train/feature_cache.hpp"
#include "edgefl/train/trainer.hpp"

#include "compute_support.hpp"

using namespace edgefl;
using edgefl::testing::context;

namespace {

constexpr const char* kCnn =
    "in:12x12x1 conv3x3x4 relu maxpool2 conv3x3x6 relu flatten dense16 relu dense3 loss:xent";

ModelSpec cnn() {
  return ModelSpec::parse(kCnn).value();
}

}  // namespace

TEST_CASE("a frozen prefix is the layers before the first trainable one") {
  const ModelSpec spec = cnn();  // layers: 0 conv, 1 relu, 2 pool, 3 conv, 4 relu, 5 flatten, 6
                                 // dense16, 7 relu, 8 dense3
  std::optional<FrozenPrefix> head = frozen_prefix(spec, {8});
  REQUIRE(head.has_value());
  CHECK(head->layers == 8);
  CHECK(head->param_offset == spec.parameter_count() - (16 * 3 + 3));
  CHECK(head->head.to_string() == "mlp:16-3:relu");
  CHECK(head->head_trainable == std::vector<uint32_t>{0});

  std::optional<FrozenPrefix> two = frozen_prefix(spec, {6, 8});
  REQUIRE(two.has_value());
  CHECK(two->head.to_string() == "mlp:216-16-3:relu");
  CHECK(two->head_trainable == std::vector<uint32_t>{0, 2});

  CHECK_FALSE(frozen_prefix(spec, {}).has_value());      // every layer trains
  CHECK_FALSE(frozen_prefix(spec, {0, 8}).has_value());  // the first layer trains
  const ModelSpec dropped = ModelSpec::parse("in:16 dense8 dropout0.5 dense3 loss:xent").value();
  CHECK_FALSE(frozen_prefix(dropped, {2}).has_value());  // dropout draws new masks every step
}

TEST_CASE(
    "training the head on cached features takes the steps of the whole network with the prefix "
    "frozen") {
  const ModelSpec spec = cnn();
  const std::vector<uint32_t> trainable = {6, 8};
  const FrozenPrefix prefix = *frozen_prefix(spec, trainable);
  auto data = make_blobs({3, 144, 45, 1.0f, 1.0f, 11});
  REQUIRE(data.ok());
  for (Backend backend : {Backend::reference, Backend::direct}) {
    auto ctx = context(backend);
    FloatBuffer start = Model::create(spec, 5).value().params().clone();
    TrainConfig config;
    config.optimizer = {OptimizerKind::sgd, 0.05f, 0.0f};
    config.batch_size = 0;  // full batch, as Local-GD
    config.local_steps = 20;

    FloatBuffer whole = start.clone();
    auto full = LocalTrainer::create(spec, *ctx, {16, true});
    REQUIRE(full.ok());
    REQUIRE((*full)->set_trainable(trainable).ok());
    REQUIRE((*full)->train(whole.span(), DatasetView(*data), config).ok());

    FloatBuffer cached = start.clone();
    auto network = Network::create(spec, *ctx, {16});
    REQUIRE(network.ok());
    FeatureCache cache;
    REQUIRE(cache.refresh(**network, prefix, cached.span(), DatasetView(*data)).ok());
    CHECK(cache.features().size() == data->size());
    CHECK(cache.features().dim() == 216);
    auto head = LocalTrainer::create(prefix.head, *ctx, {16, true});
    REQUIRE(head.ok());
    REQUIRE((*head)->set_trainable(prefix.head_trainable).ok());
    REQUIRE((*head)
                ->train(cached.span().subspan(prefix.param_offset), DatasetView(cache.features()),
                        config)
                .ok());

    double largest = 0, moved = 0;
    for (std::size_t i = 0; i < start.size(); ++i) {
      largest = std::max(largest, double(std::abs(whole[i] - cached[i])));
      moved = std::max(moved, double(std::abs(whole[i] - start[i])));
    }
    INFO(backend_name(backend) << ": largest difference " << largest << ", largest move " << moved);
    CHECK(moved > 1e-2);
    CHECK(largest <= 1e-5);
    for (std::size_t i = 0; i < prefix.param_offset; ++i) REQUIRE(cached[i] == start[i]);
  }
}

TEST_CASE("the feature cache recomputes only when the prefix's parameters or the data change") {
  const ModelSpec spec = cnn();
  const FrozenPrefix prefix = *frozen_prefix(spec, {8});
  auto data = make_blobs({3, 144, 20, 1.0f, 1.0f, 3});
  auto other = make_blobs({3, 144, 20, 1.0f, 1.0f, 4});
  REQUIRE(data.ok());
  REQUIRE(other.ok());
  auto ctx = context(Backend::reference);
  auto network = Network::create(spec, *ctx, {8});
  REQUIRE(network.ok());
  FloatBuffer params = Model::create(spec, 2).value().params().clone();
  FeatureCache cache;
  REQUIRE(cache.refresh(**network, prefix, params.span(), DatasetView(*data)).ok());
  // A trained head changes nothing before it.
  params[params.size() - 1] += 1.0f;
  REQUIRE(cache.refresh(**network, prefix, params.span(), DatasetView(*data)).ok());
  CHECK(cache.computations() == 1);
  params[0] += 0.5f;  // a weight of the first conv
  REQUIRE(cache.refresh(**network, prefix, params.span(), DatasetView(*data)).ok());
  CHECK(cache.computations() == 2);
  REQUIRE(cache.refresh(**network, prefix, params.span(), DatasetView(*other)).ok());
  CHECK(cache.computations() == 3);
  CHECK(cache.features().size() == 20);
}
