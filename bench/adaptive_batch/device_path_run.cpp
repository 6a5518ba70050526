#include "device_path_run.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <numeric>

#include "edgefl/base/float_buffer.hpp"
#include "edgefl/base/model_hash.hpp"
#include "edgefl/base/rng.hpp"
#include "edgefl/nn/model.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/train/trainer.hpp"
#include "task_factory.hpp"
#include "task_trainer.hpp"

namespace edgefl::bench {

namespace {

// What one device's Update says, decoded.
struct DeviceRound {
  std::vector<uint32_t> batch_sizes;  // one per step (adaptive) or the batch of every step
  std::size_t steps = 0;
  std::size_t update_bytes = 0;
};

Result<DeviceRound> add_update(const std::vector<uint8_t>& message, std::span<float> delta,
                               std::span<double> sum) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(message, scratch);
  if (!decoded) return decoded.status();
  const Update* update = std::get_if<Update>(&decoded->message);
  if (update == nullptr) return make_status(StatusCode::internal, "the device answered with no Update");
  EDGEFL_RETURN_IF_ERROR(decoded->payload_into(delta));
  for (std::size_t i = 0; i < delta.size(); ++i) sum[i] += delta[i];
  return DeviceRound{update->metrics.batch_sizes, update->metrics.steps, message.size()};
}

void charge_steps(sim::SimulatedClock& clock, std::size_t device, const DeviceRound& r) {
  for (std::size_t s = 0; s < r.steps; ++s) {
    clock.gradient_step(device, r.batch_sizes.size() == r.steps ? r.batch_sizes[s] : r.batch_sizes.front());
  }
}

}  // namespace

Result<RunResult> run_through_device_path(const RunSetup& setup, const server::ServerConfig& server,
                                          const std::function<void(const EvalPoint&)>& on_eval) {
  const std::size_t devices = setup.shards->size();
  const std::size_t P = setup.spec.parameter_count();
  Result<server::TaskFactory> tasks = server::TaskFactory::create(server, setup.spec);
  if (!tasks) return tasks.status();
  std::vector<std::unique_ptr<device::LocalTaskTrainer>> trainers;
  for (std::size_t m = 0; m < devices; ++m) {
    device::LocalTrainingOptions options;
    options.data = &(*setup.shards)[m];
    options.threads = 1;
    options.backend = Backend::xnnpack;
    options.device_seed = splitmix64(m + 1);
    auto trainer = device::LocalTaskTrainer::create(options);
    if (!trainer) return trainer.status();
    trainers.push_back(std::move(*trainer));
  }
  FloatBuffer global(P), delta(P);
  EDGEFL_RETURN_IF_ERROR(init_parameters(setup.spec, global.span(), server.seed));
  auto ctx = ComputeContext::create(Backend::xnnpack, 1);
  if (!ctx) return ctx.status();
  auto eval_net = Network::create(setup.spec, **ctx, {1000, false});
  if (!eval_net) return eval_net.status();

  RunResult out;
  sim::SimulatedClock clock(setup.cost, devices);
  std::vector<double> sum(P);
  std::vector<std::size_t> batch(devices, server.train.batch_size);
  device::StopSignal stop;
  const auto started = std::chrono::steady_clock::now();
  auto evaluate_now = [&]() -> Status {
    auto e = evaluate(**eval_net, global.span(), DatasetView(*setup.test));
    if (!e) return e.status();
    EvalPoint p{out.rounds, out.samples,
                double(std::accumulate(batch.begin(), batch.end(), std::size_t{0})) / double(devices), e->loss,
                e->accuracy, clock.seconds()};
    out.curve.push_back(p);
    on_eval(p);
    return Status();
  };
  EDGEFL_RETURN_IF_ERROR(evaluate_now());
  const std::size_t eval_every = std::max<std::size_t>(1, setup.sample_budget / setup.evals);
  std::size_t next_eval = eval_every;
  while (out.samples < setup.sample_budget) {
    const uint64_t round = out.rounds + 1;
    Result<std::vector<uint8_t>> task = tasks->encode(round, round, round - 1, global.span(), model_hash(global.span()));
    if (!task) return task.status();
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t m = 0; m < devices; ++m) {
      device::TrainingResult trained = trainers[m]->train(round, *task, stop);
      if (!trained.status.ok()) return trained.status.with_context("device " + std::to_string(m));
      Result<DeviceRound> r = add_update(trained.update_message, delta.span(), sum);
      if (!r) return r.status();
      clock.message(m, task->size());
      charge_steps(clock, m, *r);
      clock.message(m, r->update_bytes);
      out.bytes_down += task->size();
      out.bytes_up += r->update_bytes;
      for (std::size_t s = 0; s < r->steps; ++s) {
        out.samples += r->batch_sizes.size() == r->steps ? r->batch_sizes[s] : r->batch_sizes.front();
      }
      batch[m] = r->batch_sizes.back();
    }
    for (std::size_t i = 0; i < P; ++i) global[i] += static_cast<float>(sum[i] / double(devices));
    clock.end_round();
    ++out.rounds;
    if (out.samples >= next_eval || out.samples >= setup.sample_budget) {
      EDGEFL_RETURN_IF_ERROR(evaluate_now());
      while (next_eval <= out.samples) next_eval += eval_every;
    }
  }
  out.simulated_s = clock.seconds();
  out.host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.final_batch = *std::max_element(batch.begin(), batch.end());
  return out;
}

}  // namespace edgefl::bench
