// edgefl-sim: an in-process simulation: the server and N devices as threads, over real
// ZeroMQ on 127.0.0.1, running the same coordinator and agent code as edgefl-server and
// edgefl-device. For experiments with many devices on one machine.
//
//   edgefl-sim --devices 10 --partition-scheme dirichlet --alpha 0.5 --rounds 30
//              --model mlp:784-256-128-10 --train-optimizer sgd --state-dir /tmp/sim  (one line)
//   edgefl-sim --devices 50 --round-fraction 0.2 --slow 0.3:4 --offline-probability 0.1
//              --fault-drop 0.2 --fault-duplicate 0.05 --fault-seed 7 --data blobs:32:4 ...
//   edgefl-sim ... --write-split split.jsonl   (also writes each device's training-set rows)
//   edgefl-sim --devices 1000 --memory-outboxes ...   (docs/scale.md: 1000 devices, 2 cores)
//   mpirun -n 4 edgefl-sim --connect tcp://server:5555 --devices 1000 ...
//              (each process runs its rank's slice of the devices against one edgefl-server)
//
// Every edgefl-server setting works (flags or --config file). The server's state and metrics go
// to <state-dir>/server (metrics.jsonl unless --metrics), the devices' to <state-dir>/device-<i>.
// Exit status: 0 finished, 1 a runtime failure, 2 a bad flag or configuration, 130 a signal.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "edgefl/base/open_file_limit.hpp"
#include "edgefl/config/option_table.hpp"
#include "large_buffers.hpp"
#include "rank_slice.hpp"
#include "server_config.hpp"
#include "simulation.hpp"
#include "split_file.hpp"

namespace {

std::atomic<bool> stop_requested{false};

void on_signal(int) { stop_requested.store(true); }

int fail(const edgefl::Status& status, int code) {
  std::fprintf(stderr, "edgefl-sim: %s\n", status.to_string().c_str());
  return code;
}

struct SimFlags {
  uint32_t devices = 10;
  std::string partition_scheme = "dirichlet";
  float alpha = 0.5f;
  uint64_t partition_seed = 1;
  uint32_t shards_per_client = 2;
  uint32_t max_samples = 0;
  std::string slow = "0:1";  // FRACTION:SLOWDOWN
  float offline_probability = 0;
  double offline_s = 1;
  double fault_drop = 0;
  double fault_duplicate = 0;
  uint64_t fault_seed = 1;
  uint32_t device_threads = 1;
  std::string memory_budget = "auto";
  bool device_log = false;
  std::string write_split;
  uint32_t training_threads = 0;
  bool memory_outboxes = false;
  std::string connect;
  uint32_t rank = 0;
  uint32_t ranks = 0;
};

void bind_sim_options(SimFlags& f, edgefl::OptionTable& t) {
  t.add("devices", &f.devices, "simulated devices (threads)");
  t.add("partition_scheme", &f.partition_scheme, "how the training set is split: iid | dirichlet | shards");
  t.add("alpha", &f.alpha, "Dirichlet label-skew alpha");
  t.add("partition_seed", &f.partition_seed, "seed of the split");
  t.add("shards_per_client", &f.shards_per_client, "shards per device (shards scheme)");
  t.add("max_samples", &f.max_samples, "keep at most this many samples per device (0: all)");
  t.add("slow", &f.slow,
        "FRACTION:SLOWDOWN, e.g. 0.3:4: that share of devices trains that many times slower (dpsgd: "
        "every step)");
  t.add("offline_probability", &f.offline_probability,
        "chance a device goes offline after a task (dpsgd: after each step)");
  t.add("offline_s", &f.offline_s, "length of an offline period");
  t.add("fault_drop", &f.fault_drop, "probability that a device link drops a message (both ways)");
  t.add("fault_duplicate", &f.fault_duplicate, "probability that a device link duplicates a message");
  t.add("fault_seed", &f.fault_seed, "seed of the injected faults and of the slow-device choice");
  t.add("device_threads", &f.device_threads, "compute threads per device");
  t.add("memory_budget", &f.memory_budget, "memory budget per device (bytes, K/M/G) or auto");
  t.add("device_log", &f.device_log, "print the devices' log lines too");
  t.add("write_split", &f.write_split, "write each device's training-set rows to this file (JSON lines)");
  t.add("training_threads", &f.training_threads,
        "devices train on a pool of this many threads (0: one per core, or a thread per device "
        "with --slow)");
  t.add("memory_outboxes", &f.memory_outboxes,
        "keep the devices' outboxes in memory instead of under --state-dir");
  t.add("connect", &f.connect,
        "run only devices, against the edgefl-server at this endpoint (several processes: "
        "--rank/--ranks)");
  t.add("rank", &f.rank,
        "this process's rank (with --ranks; default: OMPI_COMM_WORLD_RANK or SLURM_PROCID)");
  t.add("ranks", &f.ranks,
        "processes sharing the devices (default: OMPI_COMM_WORLD_SIZE or SLURM_NTASKS, else 1)");
}

edgefl::Status parse_slow(const std::string& text, double& fraction, double& slowdown) {
  char* end = nullptr;
  fraction = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != ':') {
    return edgefl::make_status(edgefl::StatusCode::invalid_argument,
                               "--slow '" + text + "': expected FRACTION:SLOWDOWN, e.g. 0.3:4");
  }
  const char* rest = end + 1;
  slowdown = std::strtod(rest, &end);
  if (end == rest || *end != '\0' || !(fraction >= 0 && fraction <= 1) || !(slowdown >= 1)) {
    return edgefl::make_status(edgefl::StatusCode::invalid_argument,
                               "--slow '" + text + "': the fraction must be in [0, 1] and the slowdown >= 1");
  }
  return edgefl::Status();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgefl;
  server::ServerConfig config;
  config.state_dir = "edgefl-sim-state";
  config.min_devices = 0;  // 0 here: all simulated devices (set below)
  SimFlags flags;
  OptionTable table;
  server::bind_server_options(config, table);
  bind_sim_options(flags, table);
  std::string help;
  Status parsed = table.parse_command_line(argc, argv, "edgefl-sim",
                                           "edgefl-sim: server and devices as threads in one process", &help);
  if (parsed.code() == StatusCode::cancelled) {
    std::printf("%s", help.c_str());
    return 0;
  }
  if (!parsed.ok()) return fail(parsed, 2);
  if (flags.devices == 0) return fail(make_status(StatusCode::invalid_argument, "--devices must be at least 1"), 2);
  // The simulation's server listens on a loopback port of its own choosing, without keys:
  // server settings about the listening socket cannot apply, so naming one is an error.
  const server::ServerConfig defaults;
  for (const auto& [flag, given] : {std::pair<const char*, bool>{"--endpoint", config.endpoint != defaults.endpoint},
                                    {"--endpoint-file", !config.endpoint_file.empty()},
                                    {"--secret-key", !config.secret_key_file.empty()},
                                    {"--allowed-keys", !config.allowed_keys_dir.empty()},
                                    {"--insecure", config.insecure},
                                    {"--status-listen", !config.status.listen.empty()}}) {
    if (given) {
      return fail(make_status(StatusCode::invalid_argument,
                              std::string(flag) + " does not apply to edgefl-sim: its server listens on a loopback "
                                                  "port of its own, in plaintext, and serves no status endpoint (run edgefl-server for that)"),
                  2);
    }
  }
  Result<sim::RankSlice> slice =
      sim::resolve_rank_slice(flags.rank, flags.ranks, flags.devices, sim::process_environment());
  if (!slice) return fail(slice.status(), 2);
  if (slice->ranks > 1 && flags.connect.empty()) {
    return fail(make_status(StatusCode::invalid_argument,
                            "rank " + std::to_string(slice->rank) + " of " +
                                std::to_string(slice->ranks) + " (" + slice->source +
                                "): several processes share one server: start edgefl-server and "
                                "give its endpoint with --connect"),
                2);
  }
  if (config.min_devices == 0) config.min_devices = flags.devices;
  Status valid = server::resolve_model_file(config);
  if (valid.ok()) valid = server::validate_server_config(config);
  if (!valid.ok()) return fail(valid, 2);
  if (config.data == "none") return fail(make_status(StatusCode::invalid_argument, "devices need --data"), 2);

  sim::SimulationOptions options;
  Status slow = parse_slow(flags.slow, options.slow_fraction, options.slowdown);
  if (!slow.ok()) return fail(slow, 2);
  // Ranks on one host may share --state-dir: each keeps its devices in a folder of its own.
  const std::string state_root = slice->ranks > 1
                                     ? config.state_dir + "/rank-" + std::to_string(slice->rank)
                                     : config.state_dir;
  if (!config.resume) {
    Result<std::vector<std::string>> existing = posix_file_system().list_dir(state_root);
    if (existing.ok() && !existing->empty()) {
      return fail(
          make_status(
              StatusCode::failed_precondition,
              "state directory '" + state_root +
                  "' is not empty: pass --resume to continue that run, or use a new directory"),
          2);
    }
  }
  options.state_root = state_root;
  options.server = config;
  options.devices = flags.devices;
  options.seed = flags.fault_seed;
  options.external_endpoint = flags.connect;
  options.first_device = slice->first;
  options.end_device = slice->end;
  options.memory_outboxes = flags.memory_outboxes;
  const uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  // A slowed device waits out its slowdown inside training: on a pool that wait would hold a
  // thread every other device needs, so slow boards get a thread each unless told otherwise.
  options.training_threads = flags.training_threads != 0 ? flags.training_threads
                             : options.slowdown > 1 && options.slow_fraction > 0 ? 0
                                                                                 : cores;
  options.startup_threads = cores;
  options.cancel = &stop_requested;
  device::DeviceConfig& d = options.device;
  d.data = config.data;
  d.data_dir = config.data_dir;
  d.partition = flags.partition_scheme;
  d.dirichlet_alpha = flags.alpha;
  d.partition_seed = flags.partition_seed;
  d.shards_per_client = flags.shards_per_client;
  d.max_samples = flags.max_samples;
  d.threads = flags.device_threads;
  d.memory_budget = flags.memory_budget;
  d.model = config.model;
  d.heartbeat_s = config.heartbeat_s;
  d.time_scale = config.time_scale;
  d.offline_probability = flags.offline_probability;
  d.offline_s = flags.offline_s;
  d.simulation_seed = flags.fault_seed;
  d.quiet = !flags.device_log;
  // Decentralised training: every device binds a loopback peer socket of its own.
  if (config.strategy.name == "dpsgd") d.peer_listen = "tcp://127.0.0.1:*";
  options.socket_time_scale = config.time_scale;
  if (!flags.write_split.empty()) {
    Result<DataSource> source = DataSource::parse(d.data, d.data_dir);
    if (!source) return fail(source.status(), 2);
    ShardSpec shard = device::shard_spec(d);
    shard.count = flags.devices;  // the split of every simulated device
    Status written = sim::write_split_file(flags.write_split, *source, shard);
    if (!written.ok()) return fail(written, 1);
  }
  if (flags.fault_drop > 0 || flags.fault_duplicate > 0) {
    if (!(flags.fault_drop < 1 && flags.fault_duplicate <= 1 && flags.fault_drop >= 0 && flags.fault_duplicate >= 0)) {
      return fail(make_status(StatusCode::invalid_argument, "--fault-drop must be in [0, 1), --fault-duplicate in [0, 1]"), 2);
    }
    FaultPlan plan;
    plan.seed = flags.fault_seed;
    plan.drop = flags.fault_drop;
    plan.duplicate = flags.fault_duplicate;
    plan.on_send = true;
    plan.on_receive = true;
    options.device_faults = plan;
  }
  const bool quiet = config.quiet;
  options.server_log = [quiet](const std::string& line) {
    if (!quiet || line.rfind("warning", 0) == 0) std::fprintf(stderr, "%s\n", line.c_str());
  };
  options.device_log = [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); };
  if (!flags.device_log) options.device_log = [](const std::string&) {};

  // Every device's Tasks and Updates pass through here: freed, they must leave the process.
  edgefl::sim::keep_large_buffers_in_own_mappings();
  // Both ends of every link live here: two descriptors per device, besides the sockets'.
  Result<uint64_t> open_files = raise_open_file_limit();
  const uint64_t wanted_files =
      uint64_t{slice->end - slice->first} * (flags.connect.empty() ? 3 : 2) + 256;
  if (!open_files) {
    std::fprintf(stderr, "edgefl-sim: warning: %s\n", open_files.status().to_string().c_str());
  } else if (*open_files < wanted_files) {
    std::fprintf(stderr,
                 "edgefl-sim: warning: the open-file limit %llu is below the %llu these devices "
                 "need (ulimit -Hn)\n",
                 static_cast<unsigned long long>(*open_files),
                 static_cast<unsigned long long>(wanted_files));
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  const auto started = std::chrono::steady_clock::now();
  Result<std::unique_ptr<sim::Simulation>> simulation = sim::Simulation::start(options);
  if (stop_requested.load()) {
    std::fprintf(stderr, "edgefl-sim: stopped during start-up; continue with --resume\n");
    return 130;
  }
  if (!simulation) return fail(simulation.status(), 2);
  std::fprintf(
      stderr, "edgefl-sim: devices %u-%u of %u (%s), server %s, model %s, %u rounds, strategy %s\n",
      slice->first, slice->end - 1, flags.devices, slice->source.c_str(),
      (*simulation)->endpoint().c_str(), config.model.c_str(), config.rounds,
      config.strategy.name.c_str());
  Status end = make_status(StatusCode::timeout, "running");
  // Against an external server the run is over once one device heard that it finished; a
  // device whose goodbye was lost (its link was down as the server left) would try to reach
  // the gone server forever, so the rest get a few heartbeats to hear it, then are stopped.
  std::optional<std::chrono::steady_clock::time_point> finished_at;
  const auto goodbye_grace =
      std::chrono::duration<double>(3 * config.heartbeat_s * config.time_scale);
  while (end.code() == StatusCode::timeout && !stop_requested.load()) {
    if (flags.connect.empty()) {
      end = (*simulation)->wait_server(std::chrono::milliseconds(100));
      continue;
    }
    end = (*simulation)->wait_devices(std::chrono::milliseconds(100));
    if (!finished_at && (*simulation)->devices_finished() > 0)
      finished_at = std::chrono::steady_clock::now();
    if (end.code() == StatusCode::timeout && finished_at &&
        std::chrono::steady_clock::now() - *finished_at > goodbye_grace) {
      end = Status();
    }
  }
  if (stop_requested.load()) {
    std::fprintf(stderr, "edgefl-sim: stopped; continue with --resume\n");
    return 130;
  }
  if (!end.ok()) return fail(end, 1);
  if (!flags.connect.empty()) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::vector<sim::DeviceOutcome> outcomes =
        (*simulation)->finish(std::chrono::steady_clock::now());
    std::size_t failed = 0;
    std::size_t missed_goodbye = 0;
    for (const sim::DeviceOutcome& outcome : outcomes) {
      if (outcome.status.ok()) continue;
      // Stopped here after the run finished (cancelled): it missed the goodbye, nothing failed.
      if (finished_at && outcome.status.code() == StatusCode::cancelled) {
        ++missed_goodbye;
        continue;
      }
      ++failed;
      std::fprintf(stderr, "edgefl-sim: %s: %s\n", outcome.device_id.c_str(),
                   outcome.status.to_string().c_str());
    }
    std::printf(
        "%zu devices finished (%zu stopped after missing the server's goodbye), %zu failed, %.1f "
        "s\n",
        outcomes.size() - failed, missed_goodbye, failed, seconds);
    return failed == 0 ? 0 : 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  (void)(*simulation)->wait_devices(std::chrono::seconds(2));
  double accuracy = -1;
  uint64_t rounds = 0;
  (*simulation)->inspect([&](const server::Coordinator& c) {
    rounds = c.rounds_closed();
    if (!c.history().empty()) accuracy = c.history().back().test_accuracy;
  });
  if (accuracy >= 0) {
    std::printf("final test accuracy %.2f%% after %llu rounds, %.1f s\n", 100.0 * accuracy,
                static_cast<unsigned long long>(rounds), seconds);
  } else {
    std::printf("finished %llu rounds in %.1f s\n", static_cast<unsigned long long>(rounds), seconds);
  }
  return 0;
}
