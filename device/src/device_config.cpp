#include "device_config.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

#include "edgefl/nn/compute.hpp"
#include "edgefl/data/data_source.hpp"

namespace edgefl::device {

ShardSpec shard_spec(const DeviceConfig& config) {
  ShardSpec shard;
  shard.scheme = config.partition;
  shard.count = config.partitions != 0 ? config.partitions : FileData::names_file(config.data) ? 1 : 10;
  shard.index = config.partition_index;
  shard.alpha = config.dirichlet_alpha;
  shard.shards_per_client = config.shards_per_client;
  shard.seed = config.partition_seed;
  shard.max_samples = config.max_samples;
  return shard;
}

void bind_device_options(DeviceConfig& c, OptionTable& t) {
  t.add("endpoint", &c.endpoint, "server endpoint, e.g. tcp://192.168.1.10:5555");
  t.add("device_id", &c.device_id, "device id (plaintext links; CURVE uses the public key)");
  t.add("secret_key", &c.secret_key_file, "this device's CURVE secret key file (enables CURVE)");
  t.add("server_key", &c.server_key_file, "the server's CURVE public key file");
  t.add("heartbeat_s", &c.heartbeat_s, "heartbeat interval");
  t.add("time_scale", &c.time_scale, "multiply every time-out (slow or emulated boards)");
  t.add("give_up_s", &c.give_up_s, "exit after this long without a word from the server (0: never)");
  t.add(
      "deadline_reserve", &c.deadline_reserve,
      "share of a Task's deadline left for sending: local steps stop when only this much is left");
  t.add("peer.listen", &c.peer_listen,
        "decentralised training: bind the peer socket here, e.g. tcp://0.0.0.0:6000 (empty: off)");
  t.add("peer.advertise", &c.peer_advertise, "the peer endpoint neighbours dial (default: the bound peer.listen)");
  t.add("peer.persist_interval", &c.peer_persist_interval,
        "decentralised training: steps between durable writes of parameters and step (0: never)");
  t.add("insecure", &c.insecure, "allow a plaintext peer socket beyond loopback");

  t.add("data", &c.data,
        "local data: fashion-mnist | blobs:D:C | linear:D | csv:PATH | npy:X.npy:Y.npy | npz:PATH | "
        "idx:IMAGES:LABELS");
  t.add("data_dir", &c.data_dir, "Fashion-MNIST directory (default: Debian's dataset path)");
  t.add("partition.scheme", &c.partition, "iid | dirichlet | shards");
  t.add("partition.count", &c.partitions,
        "number of partitions the data is split into (0: 1 for file data, 10 for the built-in sets)");
  t.add("partition.index", &c.partition_index, "which partition this device trains on");
  t.add("partition.alpha", &c.dirichlet_alpha, "Dirichlet label-skew alpha");
  t.add("partition.shards_per_client", &c.shards_per_client, "shards per client (shards)");
  t.add("partition.seed", &c.partition_seed, "seed of the split (same on every device)");
  t.add("partition.max_samples", &c.max_samples, "keep at most this many samples (0: all)");

  t.add("state_dir", &c.state_dir, "outbox and device state live here");
  t.add("memory_budget", &c.memory_budget, "bytes (K/M/G suffix) training may use, or auto");
  t.add("threads", &c.threads, "compute threads");
  t.add_choice("backend", &c.backend, resolve_backend, backend_name,
               "compute kernels: auto (this machine's default) | direct | xnnpack | reference");
  t.add_choice("direct_isa", &c.direct_isa, parse_direct_isa, direct_isa_name,
               "widest kernel of the direct backend: best | avx2 | portable");
  t.add("model", &c.model, "the model this device will train (checked against the budget at start)");

  t.add("simulate.slowdown", &c.slowdown, "train this many times slower (simulated slow board)");
  t.add("simulate.offline_probability", &c.offline_probability,
        "chance to drop offline after a task (simulated flaky link)");
  t.add("simulate.offline_s", &c.offline_s, "length of a simulated offline period");
  t.add("simulate.seed", &c.simulation_seed, "seed of the simulated schedule");

  t.add("max_tasks", &c.max_tasks, "exit after this many tasks (0: until the server ends)");
  t.add("save_updates", &c.save_updates_dir, "also write every encoded Update to this directory");
  t.add("system_root", &c.system_root,
        "read /sys and /proc for the eligibility readings under this directory (tests; default: /)");
  t.add("quiet", &c.quiet, "log only warnings and errors");
}

namespace {

Status invalid(const std::string& message) {
  return make_status(StatusCode::invalid_argument, message);
}

}  // namespace

Result<uint64_t> parse_byte_size(const std::string& text) {
  uint64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [rest, error] = std::from_chars(begin, end, value);
  if (error != std::errc() || rest == begin) {
    return invalid("memory size '" + text + "' is not a number of bytes (e.g. 64M)");
  }
  uint64_t multiplier = 1;
  std::string suffix(rest, end);
  if (!suffix.empty() && (suffix.back() == 'B' || suffix.back() == 'b')) suffix.pop_back();
  if (suffix == "K" || suffix == "k" || suffix == "Ki") {
    multiplier = uint64_t{1} << 10;
  } else if (suffix == "M" || suffix == "m" || suffix == "Mi") {
    multiplier = uint64_t{1} << 20;
  } else if (suffix == "G" || suffix == "g" || suffix == "Gi") {
    multiplier = uint64_t{1} << 30;
  } else if (!suffix.empty()) {
    return invalid("memory size '" + text + "' has an unknown suffix (K, M or G)");
  }
  if (value > UINT64_MAX / multiplier) return invalid("memory size '" + text + "' is too large");
  return value * multiplier;
}

Status validate_device_config(const DeviceConfig& c) {
  if (c.endpoint.empty()) return invalid("endpoint is empty");
  if (c.secret_key_file.empty() != c.server_key_file.empty()) {
    return invalid("secret_key and server_key go together (CURVE needs both)");
  }
  if (!(std::isfinite(c.heartbeat_s) && c.heartbeat_s >= 0.01 && c.heartbeat_s <= 3600)) {
    return invalid("heartbeat_s must be in [0.01, 3600] seconds");
  }
  if (!(std::isfinite(c.time_scale) && c.time_scale >= 0.01 && c.time_scale <= 1000)) {
    return invalid("time_scale must be in [0.01, 1000]");
  }
  if (!(std::isfinite(c.give_up_s) && c.give_up_s >= 0 && c.give_up_s <= 365.0 * 86400)) {
    return invalid("give_up_s must be in [0, one year] seconds (0: never)");
  }
  if (!c.peer_advertise.empty() && c.peer_listen.empty()) {
    return invalid("peer.advertise without peer.listen: the device has no peer socket to advertise");
  }
  Result<DataSource> source = DataSource::parse(c.data, c.data_dir);
  if (!source) return source.status();
  if (c.partition != "iid" && c.partition != "dirichlet" && c.partition != "shards") {
    return invalid("partition.scheme '" + c.partition + "' is not iid, dirichlet or shards");
  }
  const uint32_t partitions = shard_spec(c).count;
  if (c.partition_index >= partitions) {
    return invalid("partition.index " + std::to_string(c.partition_index) + " is not below partition.count " +
                   std::to_string(partitions) + (c.partitions == 0 ? " (the default for this data)" : ""));
  }
  if (!(c.dirichlet_alpha > 0 && std::isfinite(c.dirichlet_alpha))) {
    return invalid("partition.alpha must be > 0");
  }
  if (c.memory_budget != "auto") {
    Result<uint64_t> budget = parse_byte_size(c.memory_budget);
    if (!budget) return budget.status();
  }
  if (!c.model.empty()) {
    Result<ModelSpec> spec = ModelSpec::parse(c.model);
    if (!spec) return spec.status();
  }
  if (c.threads == 0 || c.threads > 64) return invalid("threads must be in 1..64");
  if (!(std::isfinite(c.slowdown) && c.slowdown >= 1)) return invalid("simulate.slowdown must be >= 1");
  if (!(c.deadline_reserve >= 0 && c.deadline_reserve < 1))
    return invalid("deadline_reserve must be in [0, 1)");
  if (!(c.offline_probability >= 0 && c.offline_probability <= 1)) {
    return invalid("simulate.offline_probability must be in [0, 1]");
  }
  if (!(std::isfinite(c.offline_s) && c.offline_s >= 0)) return invalid("simulate.offline_s must be >= 0");
  return Status();
}

Result<DeviceConfig> load_device_config(int argc, const char* const* argv, std::string* help_text,
                                        double default_time_scale) {
  DeviceConfig config;
  config.time_scale = default_time_scale;
  OptionTable table;
  bind_device_options(config, table);
  EDGEFL_RETURN_IF_ERROR(table.parse_command_line(
      argc, argv, "edgefl-device", "edgefl-device: federated learning client", help_text));
  EDGEFL_RETURN_IF_ERROR(validate_device_config(config));
  return config;
}

}  // namespace edgefl::device
