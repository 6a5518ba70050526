// LocalTaskTrainer: what a device does with the 1.4 Task fields — keep_optimizer_state, a
// handed-over optimizer state, and gradient-only tasks — checked against LocalTrainer run by
// hand with the device's seed.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "edgefl/base/rng.hpp"
#include "edgefl/data/synthetic.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/train/trainer.hpp"
#include "task_trainer.hpp"

using namespace edgefl;

namespace {

constexpr const char* kSpec = "mlp:16-8-4:relu";

struct Fixture {
  Fixture() {
    Result<Dataset> made = make_blobs({.classes = 4, .dim = 16, .samples = 100, .seed = 1});
    REQUIRE(made.ok());
    data = std::move(*made);
    params = Model::create(ModelSpec::parse(kSpec).value(), 3).value().params().clone();
  }
  // `workspaces`: the device borrows its trainer from there for each task (a pool's devices).
  std::unique_ptr<device::LocalTaskTrainer> device(device::TrainingWorkspaces* workspaces = nullptr,
                                                   uint64_t device_seed = 0) {
    device::LocalTrainingOptions options;
    options.data = &data;
    options.workspaces = workspaces;
    options.device_seed = device_seed;
    auto trainer = device::LocalTaskTrainer::create(options);
    REQUIRE(trainer.ok());
    return std::move(*trainer);
  }
  TaskConfig config(uint64_t seed, bool keep) const {
    TaskConfig c;
    c.optimizer = OptimizerKind::momentum;
    c.lr = 0.05f;
    c.momentum = 0.9f;
    c.batch_size = 10;
    c.local_steps = 3;
    c.seed = seed;
    c.keep_optimizer_state = keep;
    return c;
  }
  // The update payload (delta or gradient) a device sends for `task`.
  std::vector<float> run(device::LocalTaskTrainer& device, Task task) {
    task.model_spec = kSpec;
    task.params = f32_tensor(params.span());
    Result<std::vector<uint8_t>> bytes = encode_message(task);
    REQUIRE(bytes.ok());
    device::StopSignal stop;
    device::TrainingResult result = device.train(task.task_id, std::move(*bytes), stop);
    REQUIRE(result.status.ok());
    AlignedBytes scratch;
    Result<DecodedMessage> update = decode_message(result.update_message, scratch);
    REQUIRE(update.ok());
    std::vector<float> values(params.size());
    REQUIRE(update->payload_into(values).ok());
    return values;
  }
  // The device's trainer, by hand: same backend, micro-batch and seed (device seed 0).
  std::unique_ptr<LocalTrainer> by_hand(std::unique_ptr<ComputeContext>& ctx) {
    ctx = ComputeContext::create(Backend::xnnpack, 1).value();
    return LocalTrainer::create(ModelSpec::parse(kSpec).value(), *ctx, {10, true}).value();
  }
  TrainConfig hand_config(const TaskConfig& c) const {
    TrainConfig t;
    t.optimizer = {c.optimizer, c.lr, c.momentum};
    t.batch_size = c.batch_size;
    t.local_steps = c.local_steps;
    t.seed = splitmix64(c.seed ^ 0);
    return t;
  }

  Dataset data;
  FloatBuffer params;
};

Task task(uint64_t id, const TaskConfig& config) {
  Task t;
  t.task_id = id;
  t.config = config;
  return t;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_CASE("device: the optimizer state carries from task to task only when the Task says keep") {
  Fixture f;
  auto kept = f.device(), reset = f.device(), fresh = f.device();
  CHECK(f.run(*kept, task(1, f.config(11, true))).size() == f.params.size());
  (void)f.run(*reset, task(1, f.config(11, false)));
  const std::vector<float> second_kept = f.run(*kept, task(2, f.config(12, true)));
  const std::vector<float> second_reset = f.run(*reset, task(2, f.config(12, false)));
  const std::vector<float> first_ever = f.run(*fresh, task(2, f.config(12, true)));
  CHECK(same_bits(second_reset, first_ever));   // reset: as if the first task never ran
  CHECK_FALSE(same_bits(second_kept, first_ever));  // kept: the momentum buffer of task 1 acts
}

TEST_CASE("device: a handed-over optimizer state replaces its own, step count included") {
  Fixture f;
  // What a device holds after task 1, computed by hand.
  std::unique_ptr<ComputeContext> ctx;
  auto hand = f.by_hand(ctx);
  FloatBuffer x = f.params.clone();
  REQUIRE(hand->train(x.span(), DatasetView(f.data), f.hand_config(f.config(11, true))).ok());
  std::vector<float> state(hand->optimizer()->state().begin(), hand->optimizer()->state().end());
  REQUIRE(state.size() == f.params.size());

  auto kept = f.device(), handed = f.device();
  (void)f.run(*kept, task(1, f.config(11, true)));
  const std::vector<float> own = f.run(*kept, task(2, f.config(12, true)));
  Task with_state = task(2, f.config(12, true));
  with_state.optimizer_state = f32_tensor(state);
  with_state.optimizer_steps = hand->optimizer()->steps();
  CHECK(same_bits(f.run(*handed, with_state), own));
}

TEST_CASE("device: a gradient-only task sends the first batch's mean gradient at the Task's model") {
  Fixture f;
  TaskConfig c = f.config(21, true);
  c.local_steps = 1;
  c.gradient_only = true;
  auto device = f.device();
  const std::vector<float> sent = f.run(*device, task(5, c));

  std::unique_ptr<ComputeContext> ctx;
  auto hand = f.by_hand(ctx);
  REQUIRE(hand->gradient(f.params.span(), DatasetView(f.data), f.hand_config(c)).ok());
  const std::vector<float> expected(hand->gradients().begin(), hand->gradients().end());
  CHECK(same_bits(sent, expected));
  // The device did not step: a following normal task trains from zero momentum.
  const std::vector<float> after = f.run(*device, task(6, f.config(22, true)));
  CHECK(same_bits(after, f.run(*f.device(), task(6, f.config(22, true)))));
}

}  // namespace

TEST_CASE(
    "device: a Task's standardisation is what training sees, as by hand on standardised data") {
  Fixture f;
  Standardization s;
  for (std::size_t j = 0; j < 16; ++j) {
    s.mean.push_back(0.1 * static_cast<double>(j));
    s.deviation.push_back(0.5 + 0.25 * static_cast<double>(j));
  }
  std::vector<uint32_t> all(f.data.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  Dataset standardized = f.data.select(all).value();
  REQUIRE(standardized.set_standardization(s).ok());
  std::unique_ptr<ComputeContext> ctx;
  auto hand = f.by_hand(ctx);
  FloatBuffer x = f.params.clone();
  REQUIRE(
      hand->train(x.span(), DatasetView(standardized), f.hand_config(f.config(11, false))).ok());
  std::vector<float> want(f.params.size());
  for (std::size_t i = 0; i < want.size(); ++i) want[i] = x.span()[i] - f.params.span()[i];

  auto device = f.device();
  Task with = task(1, f.config(11, false));
  with.standardization = s;
  CHECK(same_bits(f.run(*device, with), want));
  CHECK(f.data.standardization().empty());  // the dataset stays as loaded: simulated devices share it
  // A Task without one (another run) trains on the data as loaded again.
  Task without = task(2, f.config(11, false));
  Fixture g;
  const std::vector<float> as_loaded = g.run(*g.device(), task(2, f.config(11, false)));
  CHECK(same_bits(f.run(*device, without), as_loaded));
}

TEST_CASE("device: devices that borrow one workspace in turn train bit for bit as devices that keep their own") {
  Fixture f;
  device::TrainingWorkspaces lent;
  std::vector<std::unique_ptr<device::LocalTaskTrainer>> borrowing, owning;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    borrowing.push_back(f.device(&lent, seed));
    owning.push_back(f.device(nullptr, seed));
  }
  // Interleaved, as a pool runs them: each task finds the workspace the one before left.
  for (uint64_t id = 1; id <= 3; ++id) {
    for (std::size_t d = 0; d < borrowing.size(); ++d) {
      INFO("task " << id << " of device " << d);
      const TaskConfig config = f.config(10 * id + d, false);
      CHECK(same_bits(f.run(*borrowing[d], task(id, config)), f.run(*owning[d], task(id, config))));
    }
  }
  CHECK(lent.free_count() == 1);  // one set served all three devices
  // Tasks that keep the optimizer state (a run's setting) keep their device's own workspace:
  // nothing is borrowed for them, and the momentum carries as on any device.
  auto keeping = f.device(&lent, 9), keeping_own = f.device(nullptr, 9);
  for (uint64_t id = 1; id <= 2; ++id) {
    const TaskConfig config = f.config(90 + id, true);
    CHECK(same_bits(f.run(*keeping, task(id, config)), f.run(*keeping_own, task(id, config))));
  }
  CHECK(lent.free_count() == 1);
}
