// Frozen layers (protocol 1.5 Task.trainable_layers): a device trains the trainable layers only
// and its Update carries their parameters only. Checked against training the head alone on the
// frozen body's features, which is the same arithmetic, so bit for bit.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/base/trainable.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/nn/network.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/train/trainer.hpp"
#include "task_trainer.hpp"

using namespace edgefl;

namespace {

constexpr const char* kSpec = "mlp:16-8-4:relu";    // dense8 relu dense4: the head is layer 2
constexpr const char* kBody = "in:16 dense8 relu";  // the frozen layers, as their own model
constexpr const char* kHead = "mlp:8-4";            // the head alone
constexpr std::size_t kBodyParameters = 16 * 8 + 8;
constexpr std::size_t kHeadParameters = 8 * 4 + 4;

TaskConfig momentum_config() {
  TaskConfig c;
  c.optimizer = OptimizerKind::momentum;
  c.lr = 0.05f;
  c.momentum = 0.9f;
  c.batch_size = 10;
  c.local_steps = 4;
  c.seed = 21;
  return c;
}

// The body's outputs for every sample: the head's inputs.
Dataset features(const Dataset& data, std::span<const float> body_params,
                 const ComputeContext& ctx) {
  const ModelSpec body = ModelSpec::parse(kBody).value();
  auto net = Network::create(body, ctx, {.max_micro_batch = 1}).value();
  std::vector<float> out;
  for (uint32_t i = 0; i < data.size(); ++i) {
    const uint32_t index[] = {i};
    data.gather_transposed(index, net->input(), net->targets());
    REQUIRE(net->forward(body_params, 1).ok());
    out.insert(out.end(), net->logits(), net->logits() + 8);
  }
  std::vector<float> targets(data.targets().begin(), data.targets().end());
  return Dataset::from_floats(8, std::move(out), std::move(targets), data.num_classes()).value();
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE(
    "device: with all but the head frozen the Update carries the head only, as training the head "
    "alone") {
  Dataset data = make_blobs({.classes = 4, .dim = 16, .samples = 100, .seed = 1}).value();
  const ModelSpec spec = ModelSpec::parse(kSpec).value();
  FloatBuffer params = Model::create(spec, 3).value().params().clone();
  REQUIRE(params.size() == kBodyParameters + kHeadParameters);

  device::LocalTrainingOptions options;
  options.data = &data;
  auto device = device::LocalTaskTrainer::create(options).value();
  Task task;
  task.task_id = 1;
  task.config = momentum_config();
  task.model_spec = kSpec;
  task.params = f32_tensor(params.span());
  task.trainable_layers = {2};
  device::StopSignal stop;
  device::TrainingResult result = device->train(1, encode_message(task).value(), stop);
  REQUIRE_MESSAGE(result.status.ok(), result.status.to_string());
  AlignedBytes scratch;
  Result<DecodedMessage> update = decode_message(result.update_message, scratch);
  REQUIRE(update.ok());
  REQUIRE(update->payload()->parameter_count == kHeadParameters);
  std::vector<float> delta(kHeadParameters);
  REQUIRE(update->payload_into(delta).ok());

  // The head alone, trained by hand on the body's features with the device's seed and batch.
  auto ctx = ComputeContext::create(Backend::xnnpack, 1).value();
  const Dataset head_data = features(data, params.span().first(kBodyParameters), *ctx);
  auto head = LocalTrainer::create(ModelSpec::parse(kHead).value(), *ctx, {10, true}).value();
  FloatBuffer head_params(kHeadParameters);
  head_params.assign(params.span().last(kHeadParameters));
  TrainConfig hand;
  hand.optimizer = {OptimizerKind::momentum, 0.05f, 0.9f};
  hand.batch_size = 10;
  hand.local_steps = 4;
  hand.seed = splitmix64(21 ^ 0);  // device seed 0
  REQUIRE(head->train(head_params.span(), DatasetView(head_data), hand).ok());
  std::vector<float> expected(kHeadParameters);
  for (std::size_t i = 0; i < kHeadParameters; ++i)
    expected[i] = head_params[i] - params[kBodyParameters + i];
  CHECK(same_bits(delta, expected));
  CHECK(result.update_message.size() <
        kHeadParameters * sizeof(float) + 1024);  // not the 172-float model
}

TEST_CASE("trainer: frozen layers keep their values, get zero gradients and no optimizer state") {
  Dataset data = make_blobs({.classes = 4, .dim = 16, .samples = 100, .seed = 1}).value();
  const ModelSpec spec = ModelSpec::parse(kSpec).value();
  FloatBuffer params = Model::create(spec, 3).value().params().clone();
  const FloatBuffer initial = params.clone();
  auto ctx = ComputeContext::create(Backend::direct, 1).value();
  auto trainer = LocalTrainer::create(spec, *ctx, {4, true}).value();  // accumulation: batch 10 > 4
  REQUIRE(trainer->set_trainable({2}).ok());
  CHECK(trainer->trainable().count() == kHeadParameters);
  TrainConfig config;
  config.optimizer = {.kind = OptimizerKind::adamw, .lr = 0.01f, .weight_decay = 0.1f};
  config.batch_size = 10;
  config.local_steps = 5;
  config.seed = 5;
  REQUIRE(trainer->train(params.span(), DatasetView(data), config).ok());
  CHECK(same_bits(params.span().first(kBodyParameters), initial.span().first(kBodyParameters)));
  CHECK_FALSE(same_bits(params.span().last(kHeadParameters), initial.span().last(kHeadParameters)));
  CHECK(trainer->optimizer()->state().size() == 2 * kHeadParameters);  // adamw: m and v of the head
  for (float g : trainer->gradients().first(kBodyParameters)) REQUIRE(g == 0.0f);

  // A frozen layer after a trainable one: its input gradient flows, its own gradient is not formed.
  FloatBuffer head_frozen = initial.clone();
  REQUIRE(trainer->set_trainable({0}).ok());
  REQUIRE(trainer->train(head_frozen.span(), DatasetView(data), config).ok());
  CHECK(same_bits(head_frozen.span().last(kHeadParameters), initial.span().last(kHeadParameters)));
  CHECK_FALSE(
      same_bits(head_frozen.span().first(kBodyParameters), initial.span().first(kBodyParameters)));
  CHECK(trainer->optimizer()->state().size() == 2 * kBodyParameters);
  for (float g : trainer->gradients().last(kHeadParameters)) REQUIRE(g == 0.0f);

  CHECK(trainer->set_trainable({1}).code() == StatusCode::out_of_range);  // relu: no parameters
  REQUIRE(trainer->set_trainable({}).ok());
  CHECK(trainer->trainable().count() == params.size());
  REQUIRE(trainer->train(params.span(), DatasetView(data), config).ok());
  CHECK_FALSE(
      same_bits(params.span().first(kBodyParameters), initial.span().first(kBodyParameters)));
}

TEST_CASE(
    "trainable layers: parse all, last:N and index lists, and refuse the rest naming the setting") {
  const ModelSpec spec =
      ModelSpec::parse("in:8x8x1 conv3x3x4 relu maxpool2 flatten dense8 relu dense3").value();
  CHECK(parse_trainable("all", spec).value().empty());
  CHECK(parse_trainable("last:1", spec).value() == std::vector<uint32_t>{6});
  CHECK(parse_trainable("last:2", spec).value() == std::vector<uint32_t>{4, 6});
  CHECK(parse_trainable("0,6", spec).value() == std::vector<uint32_t>{0, 6});
  CHECK(TrainableSlices(spec, {0, 6}).count() == (9 * 4 + 4) + (8 * 3 + 3));
  for (const char* bad : {"last:4", "last:0", "1", "6,0", "7", "x", "0,,6"}) {
    CAPTURE(bad);
    Result<std::vector<uint32_t>> parsed = parse_trainable(bad, spec);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message().find(std::string("trainable layers '") + bad + "'") !=
          std::string::npos);
  }
}
