// edgefl-async-compare: FedAvg (sync), DiLoCo, PALSGD, FedAsync and FedBuff on the same
// 8 simulated devices (mixed speed, seeded offline periods, Fashion-MNIST Dirichlet(0.5)),
// each run in-process (Coordinator + DeviceAgents over tcp://127.0.0.1), measuring wall time
// and bytes until the global model first reaches the target test accuracy.
//
//   edgefl-async-compare --time-limit 150 --target 0.85 > docs/async_compare.jsonl
//   scripts/plot-async-compare docs/async_compare.jsonl --out docs/async.png
//
// stdout: one JSON object per evaluation ("kind":"point") and per method ("kind":"summary");
// stderr: a table. Ratios are against FedAvg measured in the same invocation.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "edgefl/base/json_line.hpp"
#include "serve_loop.hpp"
#include "simulation.hpp"

namespace {

using namespace edgefl;
using Steady = std::chrono::steady_clock;

struct Options {
  double time_limit_s = 150;
  double target = 0.85;
  std::string methods = "fedavg,diloco,palsgd,fedasync,fedbuff";
  std::string work_dir = "async-compare-state";
  uint32_t devices = 8;
  uint32_t local_steps = 50;
  uint32_t eval_samples = 2000;
  uint64_t seed = 1;  // the split, the outage schedules and the server's task seeds
  float sgd_lr = 0.02f;  // inner lr of the momentum-SGD methods (fedavg, fedasync, fedbuff)
};

struct Summary {
  std::string method;
  double time_to_target = -1;
  uint64_t bytes_to_target = 0;
  double final_accuracy = 0;
  uint64_t versions = 0;
  double elapsed = 0;
};

server::ServerConfig method_config(const std::string& method, const Options& o) {
  server::ServerConfig c;
  c.model = "mlp:784-64-10:relu";
  c.data = "fashion-mnist";
  c.eval_samples = o.eval_samples;
  c.seed = o.seed;
  c.rounds = 100000;  // the time limit or the target ends a run
  c.min_devices = o.devices;
  c.heartbeat_s = 0.5;
  c.join_timeout_s = 60;
  c.quiet = true;
  c.train.batch_size = 32;
  c.train.local_steps = o.local_steps;
  c.train.optimizer = OptimizerKind::momentum;
  c.train.learning_rate = o.sgd_lr;
  c.train.momentum = 0.9f;
  // Synchronous rounds over-select: close once 6 of 8 answered plus 0.5 s grace (or at 20 s).
  c.min_updates = o.devices - 2;
  c.grace_s = 0.5;
  c.round_deadline_s = 20;
  c.strategy.name = method;
  if (method == "diloco" || method == "palsgd") {
    c.strategy.name = "nesterov";
    c.strategy.server_lr = 0.7f;
    c.strategy.momentum = 0.9f;
    c.train.optimizer = OptimizerKind::adamw;
    c.train.learning_rate = 1e-3f;
    c.train.local_steps = 0;
    c.palsgd.h = o.local_steps;
    c.palsgd.rho = 1.0f;
    c.strategy.weighting = "samples";  // Dirichlet shards: DiLoCo rescales by shard size
    // No data-parallel warm-up here: gradient rounds through 8 devices with outages would
    // dominate this wall-clock comparison; bench/palsgd_claim measures PALSGD with its warm-up.
    if (method == "palsgd") c.palsgd.p = 0.2f;
  } else if (method == "fedasync") {
    c.strategy.async_alpha = 0.6f;
    c.strategy.staleness = StalenessFunction::polynomial;
    c.strategy.staleness_a = 0.5f;
    c.strategy.max_staleness = 16;
  } else if (method == "fedbuff") {
    c.strategy.buffer_size = 4;
    c.strategy.server_lr = 1.0f;
    c.strategy.max_staleness = 16;
  }
  return c;
}

device::DeviceConfig device_config(uint32_t index, const Options& o, const std::string& dir) {
  static constexpr double kSlowdown[] = {1, 1, 1, 2, 2, 2, 4, 4};
  device::DeviceConfig d;
  d.data = "fashion-mnist";
  d.partition = "dirichlet";
  d.dirichlet_alpha = 0.5f;
  d.partitions = o.devices;
  d.partition_index = index;
  d.partition_seed = o.seed;
  d.slowdown = kSlowdown[index % 8];
  d.offline_probability = 0.1f;  // after a task: 10 % chance of a 3 s outage (seeded)
  d.offline_s = 3.0;
  d.simulation_seed = 10 * o.seed + 1 + index;
  d.heartbeat_s = 0.5;
  d.memory_budget = "512M";
  d.state_dir = dir + "/device-" + std::to_string(index);
  d.quiet = true;
  return d;
}

Summary run_method(const std::string& method, const Options& o) {
  Summary summary{method};
  const std::string dir = o.work_dir + "/" + method;
  std::filesystem::remove_all(dir);
  server::ServerConfig config = method_config(method, o);
  config.state_dir = dir + "/server";
  auto log = [](const std::string& line) {
    if (line.rfind("warning", 0) != 0) std::fprintf(stderr, "  %s\n", line.c_str());
  };
  sim::SimulationOptions options;
  options.drive_server = true;
  options.devices = o.devices;
  options.state_root = dir;
  options.configure_device = [&o, &dir](uint32_t index, device::DeviceConfig& d) { d = device_config(index, o, dir); };
  auto cluster = sim::Simulation::start(std::move(options));
  if (!cluster) {
    std::fprintf(stderr, "%s: %s\n", method.c_str(), cluster.status().to_string().c_str());
    return summary;
  }
  // The server starts once every device has loaded its data: elapsed_s counts training only.
  auto coordinator = server::Coordinator::create(config, posix_file_system(), log);
  if (!coordinator) {
    std::fprintf(stderr, "%s: %s\n", method.c_str(), coordinator.status().to_string().c_str());
    return summary;
  }
  const Steady::time_point deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                                           std::chrono::duration<double>(o.time_limit_s));
  uint64_t bytes = 0;
  std::size_t seen = 0;
  auto reached = [&] {
    const auto& history = (*coordinator)->history();
    for (; seen < history.size(); ++seen) {
      const server::RoundMetrics& m = history[seen];
      bytes += m.bytes_in + m.bytes_out;
      JsonLine point;
      point.add("kind", std::string("point")).add("method", method).add("seed", o.seed).add("version", m.version)
          .add("elapsed_s", m.elapsed_s).add("test_accuracy", m.test_accuracy).add("bytes", bytes)
          .add("mean_staleness", m.mean_staleness);
      std::printf("%s\n", point.str().c_str());
      summary.final_accuracy = m.test_accuracy;
      summary.versions = m.version;
      summary.elapsed = m.elapsed_s;
      if (summary.time_to_target < 0 && m.test_accuracy >= o.target) {
        summary.time_to_target = m.elapsed_s;
        summary.bytes_to_target = bytes;
      }
    }
    std::fflush(stdout);
    return summary.time_to_target >= 0;
  };
  Status served = server::serve(**coordinator, (*cluster)->channel(), {.deadline = deadline, .stop = reached});
  (void)reached();
  if (!served.ok() && served.code() != StatusCode::timeout) {
    std::fprintf(stderr, "%s: %s\n", method.c_str(), served.to_string().c_str());
  }
  (void)(*cluster)->finish(Steady::now() + std::chrono::seconds(2), coordinator->get());
  JsonLine line;
  line.add("kind", std::string("summary")).add("method", method).add("seed", o.seed).add("target", o.target)
      .add("time_to_target_s", summary.time_to_target).add("bytes_to_target", summary.bytes_to_target)
      .add("final_accuracy", summary.final_accuracy).add("versions", summary.versions)
      .add("elapsed_s", summary.elapsed);
  std::printf("%s\n", line.str().c_str());
  std::fflush(stdout);
  return summary;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"edgefl-async-compare: sync vs async server modes on simulated heterogeneous devices"};
  app.add_option("--time-limit", o.time_limit_s, "seconds per method");
  app.add_option("--target", o.target, "test accuracy to reach");
  app.add_option("--methods", o.methods, "comma-separated: fedavg,diloco,palsgd,fedasync,fedbuff");
  app.add_option("--work-dir", o.work_dir, "state directories (wiped per method)");
  app.add_option("--local-steps", o.local_steps, "local steps per task (H)");
  app.add_option("--eval-samples", o.eval_samples, "test samples per evaluation");
  app.add_option("--seed", o.seed, "seed of the split, outages and tasks");
  app.add_option("--sgd-lr", o.sgd_lr, "inner lr of fedavg, fedasync and fedbuff (momentum 0.9)");
  CLI11_PARSE(app, argc, argv);

  std::vector<Summary> summaries;
  std::string rest = o.methods;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string method = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    std::fprintf(stderr, "== %s\n", method.c_str());
    summaries.push_back(run_method(method, o));
  }
  const Summary* base = summaries.empty() || summaries.front().method != "fedavg" ? nullptr : &summaries.front();
  std::fprintf(stderr, "\n%-9s %12s %12s %9s %9s %10s\n", "method", "time-to-%", "MB-to-%", "t/fedavg",
               "final", "versions");
  for (const Summary& s : summaries) {
    char ratio[32] = "-";
    if (base != nullptr && base->time_to_target > 0 && s.time_to_target > 0) {
      std::snprintf(ratio, sizeof ratio, "%.2f", s.time_to_target / base->time_to_target);
    }
    std::fprintf(stderr, "%-9s %12.1f %12.2f %9s %8.2f%% %10llu\n", s.method.c_str(), s.time_to_target,
                 s.bytes_to_target / 1e6, ratio, 100 * s.final_accuracy,
                 static_cast<unsigned long long>(s.versions));
  }
  return 0;
}
