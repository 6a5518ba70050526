// DeviceConfig: everything edgefl-device can be told, from a TOML file and/or flags.
//
//   Result<DeviceConfig> config = load_device_config(argc, argv, &help);
//
// Precedence: defaults < `--config device.toml` < flags (the same OptionTable as the server).
#pragma once

#include <cstdint>
#include <string>

#include "edgefl/data/data_source.hpp"
#include "edgefl/nn/compute.hpp"
#include "edgefl/config/option_table.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::device {

struct DeviceConfig {
  // Link and identity.
  std::string endpoint = "tcp://127.0.0.1:5555";
  std::string device_id;          // empty: derived from the key, or host name + state dir
  std::string secret_key_file;    // CURVE: this device's secret key (public key beside it)
  std::string server_key_file;    // CURVE: the server's public key
  double heartbeat_s = 1.0;
  double time_scale = 1.0;        // multiplies every time-out (slow or emulated boards)
  double give_up_s = 0;           // exit after this long without a word from the server (0: never)
  double deadline_reserve = 0.25;  // share of a Task's deadline_ms left when local steps stop

  // Decentralised training (strategy dpsgd on the server; docs/protocol.md §14).
  std::string peer_listen;        // bind the peer socket here (empty: no peer mode)
  std::string peer_advertise;     // the endpoint neighbours dial (empty: the bound peer_listen)
  bool insecure = false;          // a peer socket beyond loopback without CURVE keys
  uint32_t peer_persist_interval = 10;  // steps between writes of the decentralised state (0: never)

  // Local data.
  std::string data = "fashion-mnist";  // fashion-mnist | blobs:D:C | linear:D | csv:/npy:/npz:/idx: files
  std::string data_dir;                // empty: Debian's /usr/share/datasets/fashion-mnist
  std::string partition = "dirichlet"; // iid | dirichlet | shards
  uint32_t partitions = 0;             // 0: 1 for file data (the whole file), 10 for the built-in sets
  uint32_t partition_index = 0;
  float dirichlet_alpha = 0.5f;
  uint32_t shards_per_client = 2;
  uint64_t partition_seed = 1;
  uint32_t max_samples = 0;            // keep at most this many local samples (0: all)

  // Resources.
  std::string state_dir = "edgefl-device-state";
  std::string memory_budget = "auto";  // bytes with optional K/M/G suffix, or "auto"
  std::string model;                   // expected model spec: refuse at start if it cannot fit
  uint32_t threads = 1;
  Backend backend = default_backend();  // "auto" picks this machine's default
  DirectIsa direct_isa = DirectIsa::best;  // widest kernel of the direct backend

  // Simulation of weak boards (seeded, for tests and experiments).
  double slowdown = 1.0;          // train this many times slower than the hardware can
  float offline_probability = 0;  // chance to go offline after finishing a task
  double offline_s = 0;           // how long an offline period lasts
  uint64_t simulation_seed = 1;

  uint32_t max_tasks = 0;         // exit after this many tasks (0: until the server says bye)
  std::string save_updates_dir;   // also keep a copy of every encoded Update here (tests, audits)
  std::string system_root;        // prefix of /sys and /proc for the eligibility readings (tests)
  bool quiet = false;
};

// The shard of the local data set this configuration names (partition.* and max_samples).
ShardSpec shard_spec(const DeviceConfig& config);

void bind_device_options(DeviceConfig& config, OptionTable& table);
Status validate_device_config(const DeviceConfig& config);
// `default_time_scale` replaces the built-in time_scale default (main passes
// EDGEFL_TIME_SCALE, edgefl/base/timing.hpp); the file and flags still win.
Result<DeviceConfig> load_device_config(int argc, const char* const* argv, std::string* help_text,
                                        double default_time_scale = 1.0);

// "64M" -> 67108864; "auto" is handled by the caller. Errors name the text.
Result<uint64_t> parse_byte_size(const std::string& text);

}  // namespace edgefl::device
