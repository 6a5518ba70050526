#include "driven_run.hpp"

#include <chrono>

#include "coordinator.hpp"
#include "serve_loop.hpp"

namespace edgefl::sim {

server::ServerConfig local_gd_server_config(const std::string& model, uint64_t seed, uint32_t rounds,
                                            uint32_t nodes, uint32_t local_steps, float lr) {
  server::ServerConfig c;
  c.model = model;
  c.data = "none";
  c.eval_samples = 0;
  c.seed = seed;
  c.rounds = rounds;
  c.min_devices = nodes;
  c.round_deadline_s = 600;
  c.join_timeout_s = 120;
  c.quiet = true;
  c.train.optimizer = OptimizerKind::sgd;
  c.train.momentum = 0;
  c.train.full_batch = true;
  c.train.local_steps = local_steps;
  c.train.learning_rate = lr;
  c.strategy.name = "fedavg";
  c.strategy.weighting = "uniform";
  return c;
}

Result<DrivenRun> drive_rounds(SimulationOptions options, const server::ServerConfig& config,
                               std::span<const float> initial_model, double time_limit_s,
                               const AfterRound& after_round) {
  using Steady = std::chrono::steady_clock;
  options.drive_server = true;
  const std::string server_dir = options.state_root + "/server";
  auto cluster = Simulation::start(std::move(options));
  if (!cluster) return cluster.status();
  server::ServerConfig placed = config;
  placed.state_dir = server_dir;
  placed.initial_params.assign(initial_model.begin(), initial_model.end());
  auto coordinator = server::Coordinator::create(placed, posix_file_system(), [](const std::string&) {},
                                                 steady_time_source());
  if (!coordinator) return coordinator.status();

  DrivenRun run;
  const Steady::time_point start = Steady::now();
  // Before every poll: a round closes inside a poll, and the next needs the devices' updates.
  auto check = [&] {
    const uint64_t closed = (*coordinator)->rounds_closed();
    if (closed == run.rounds) return false;
    run.rounds = closed;
    return after_round(closed, (*coordinator)->global(),
                       std::chrono::duration<double>(Steady::now() - start).count());
  };
  const auto deadline = start + std::chrono::duration_cast<Steady::duration>(
                                    std::chrono::duration<double>(time_limit_s));
  run.status =
      server::serve(**coordinator, (*cluster)->channel(), {.deadline = deadline, .stop = check});
  (void)check();
  run.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  (void)(*cluster)->finish(Steady::now() + std::chrono::seconds(5), coordinator->get());
  return run;
}

}  // namespace edgefl::sim
