// ServerConfig: everything edgefl-server can be told, from a TOML file and/or flags.
//
//   Result<ServerConfig> config = load_server_config(argc, argv);   // flags override the file
//
// Precedence: built-in defaults < `--config file.toml` < command-line flags. Every value is
// validated once here, so the coordinator never meets a meaningless setting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edgefl/train/adaptive_batch.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/proto/messages.hpp"
#include "edgefl/config/option_table.hpp"
#include "edgefl/optim/optimizer.hpp"
#include "edgefl/aggregate/mean_weighting.hpp"
#include "edgefl/aggregate/server_strategy.hpp"
#include "edgefl/optim/lr_schedule.hpp"
#include "edgefl/base/status.hpp"

namespace edgefl::server {

// Each concept has one struct, parsed once into typed values: names become enums as the file
// or flag is read. The local training settings below and `codec` map onto the Task's TrainConfig
// in one place (TaskFactory); PALSGD is the wire's own PalsgdSettings and the adaptive batch the
// trainer's own AdaptiveBatchConfig, bound to their keys directly.
struct LocalTrainingConfig {
  OptimizerKind optimizer = OptimizerKind::momentum;
  float learning_rate = 0.05f;
  float momentum = 0.9f;
  float weight_decay = 0.0f;
  float adam_beta1 = 0.9f;
  float adam_beta2 = 0.999f;
  float adam_epsilon = 1e-8f;
  uint32_t batch_size = 32;
  bool full_batch = false;  // every local step on the device's whole shard (Tasks carry batch_size 0)
  uint32_t local_epochs = 1;  // used when local_steps == 0
  uint32_t local_steps = 0;
  // Inner lr schedule over global steps (edgefl/optim/lr_schedule.hpp).
  LrScheduleKind lr_schedule = LrScheduleKind::constant;  // key train.lr_schedule
  uint32_t lr_warmup_steps = 0;
  uint32_t lr_total_steps = 0;
  float lr_min = 0.0f;
  float clip_norm = 0.0f;  // device-side (and warm-up) gradient clip, global L2; 0: off
  // auto: kept for nesterov/diloco/ddp (DiLoCo, PALSGD), reset every task otherwise (FedAvg
  // clients start fresh). Kept state lives in device memory: a reboot loses it.
  std::string keep_optimizer_state = "auto";  // auto | true | false
  // The layers devices train (edgefl/base/trainable.hpp): all | last:N | 0,4,...; the others
  // stay frozen and updates carry the trainable parameters only.
  std::string trainable_layers = "all";
};

struct UploadCodecConfig {
  CodecKind kind = CodecKind::f32;  // key codec.name: f32 | f16 | int8 | topk
  uint32_t int8_block_size = 256;
  float topk_fraction = 0.01f;
};

struct StrategyConfig {
  std::string name = "fedavg";  // fedavg | fedavgm | fedadam | nesterov | ddp | fedasync | fedbuff
  // How a synchronous round weighs updates: auto = uniform for nesterov/diloco/ddp (the PALSGD
  // and DiLoCo reference code), samples for the others (FedAvg).
  std::string weighting = "auto";  // auto | samples | uniform
  float server_lr = 1.0f;
  float momentum = 0.9f;         // fedavgm, nesterov
  float adam_beta1 = 0.9f;       // fedadam
  float adam_beta2 = 0.99f;
  float adam_tau = 1e-3f;
  float async_alpha = 0.6f;      // fedasync mixing weight
  StalenessFunction staleness = StalenessFunction::polynomial;
  float staleness_a = 0.5f;
  float staleness_b = 4.0f;
  uint32_t buffer_size = 4;      // fedbuff K
  uint32_t max_staleness = 16;
};

// Decentralised training (strategy.name = dpsgd, docs/protocol.md §14): the server places the
// devices in a topology and never aggregates; `rounds` is the number of DPSGD steps.
struct DpsgdConfig {
  std::string topology = "ring";   // ring | torus | exponential (seeded by `seed`)
  double step_deadline_s = 5.0;    // a step waits this long for its neighbours' models
  uint32_t staleness_bound = 4;    // steps a neighbour's model may be ahead
  uint32_t report_interval = 10;   // steps between device reports (and metrics lines)
  uint32_t snapshot_interval = 0;  // steps between full parameter snapshots (0: never)
  double offline_s = 30.0;         // a device silent longer is wired around
};

// PALSGD (keys palsgd.probability = p, rho, sync_interval = h, warmup_steps): sent in every
// Task when any of p, h or the warm-up is set (p = 0 is DiLoCo). The warm-up is global: rounds
// 1..warmup_steps are synchronous gradient rounds (as strategy ddp), then PALSGD rounds follow.
inline PalsgdSettings default_palsgd() { return PalsgdSettings{.p = 0.0f, .rho = 1.0f, .h = 0, .warmup_steps = 0}; }

// The HTTP status endpoint (/metrics, /status, /): off unless `listen` is set. Beyond loopback
// it needs TLS and a bearer token, unless the run is --insecure.
struct StatusConfig {
  std::string listen;        // HOST:PORT, e.g. 127.0.0.1:9464 (port 0: any free port); empty: off
  std::string listen_file;   // write the HOST:PORT actually bound here (for port 0)
  std::string tls_cert;      // PEM certificate chain; with tls_key: HTTPS
  std::string tls_key;       // PEM private key
  std::string token_file;    // file holding the bearer token requests must present
};

// Model files written while the run goes on (key export.*): every N rounds (model versions
// when asynchronous), after that round's checkpoint, as <dir>/model-<round>.<format>.
struct ExportConfig {
  uint32_t every_rounds = 0;           // 0: off
  std::string format = "safetensors";  // safetensors | onnx
  std::string dir;                     // empty: <state_dir>/exports
};

// Standardisation of every device's data and of the server's evaluation data, x -> (x - mean) /
// deviation per input feature (docs/standardization.md). Devices apply what their Tasks carry.
struct StandardizeConfig {
  std::string mode =
      "none";             // none | constants (mean, deviation) | federated (asked before round 1)
  std::string mean;       // constants: comma-separated numbers, one or one per input feature
  std::string deviation;  // constants: as many as mean, each > 0
  bool pooled = false;    // federated: one mean and deviation over every feature (images)
  double min_deviation =
      1e-6;  // federated: a smaller deviation is replaced by 1 (centred, not scaled)
};

struct ServerConfig {
  // Model and evaluation.
  std::string model = "mlp:784-256-128-10:relu";  // or "@PATH": a JSON model file
  std::string model_file;  // a JSON model file or an ONNX graph (.onnx); replaces `model`
  std::string weights;     // initial weights: safetensors with PyTorch state_dict names
  // Set by resolve_model_file from an ONNX model_file and `weights`.
  std::vector<float> initial_params;      // empty: initialised from the seed
  std::vector<std::string> tensor_names;  // the names exports use; empty: layers.i.weight, ...
  ExportConfig export_model;
  uint64_t seed = 1;
  std::string data = "fashion-mnist";   // fashion-mnist | blobs:D:C | linear:D | csv:/npy:/npz:/idx: files | none
  std::string data_dir;                 // empty: Debian's /usr/share/datasets/fashion-mnist
  uint32_t eval_samples = 10000;        // test-set samples used per evaluation (0: none)

  // Rounds.
  uint32_t rounds = 20;
  float fraction = 1.0f;         // share of joined devices asked per round
  uint32_t min_devices = 2;      // do not open a round with fewer joined devices
  uint32_t min_updates = 0;      // close once this many arrived (+ grace); 0: all asked
  double round_deadline_s = 60;  // close the round at this age whatever arrived
  double grace_s = 2;            // wait this long after min_updates for stragglers
  double join_timeout_s = 60;    // give up if min_devices have not joined by then
  float max_update_norm = 0;     // reject deltas with a larger L2 norm (0: no bound)
  uint64_t max_sample_weight = 0;  // cap on one update's sample_count (0: only the Join's)
  uint32_t max_devices = 10000;    // registry bound: devices known at once
  // When a device must not train (sent in the Welcome; every limit off by default).
  EligibilityRule eligibility{.temperature_hysteresis_c = 5, .load_hysteresis = 0.25f,
                              .battery_hysteresis_percent = 5, .memory_hysteresis_bytes = 16u << 20};

  LocalTrainingConfig train;
  UploadCodecConfig codec;
  StrategyConfig strategy;
  PalsgdSettings palsgd = default_palsgd();
  DpsgdConfig dpsgd;
  AdaptiveBatchConfig adaptive_batch;  // test none: off; keys max_batch = cap, test_interval = interval
  StandardizeConfig standardize;

  // Service.
  std::string endpoint = "tcp://127.0.0.1:5555";
  std::string endpoint_file;     // write the bound endpoint here (for tcp://...:* binds)
  std::string state_dir = "edgefl-server-state";
  bool resume = false;
  std::string metrics_path;      // empty: <state_dir>/metrics.jsonl
  std::string secret_key_file;   // CURVE server secret key; empty: plaintext
  std::string allowed_keys_dir;  // allow-list file: device public keys (Z85), one per line
  bool insecure = false;         // allow plaintext on a non-loopback endpoint (and status page)
  // Relay mode (docs/protocol.md §15): join this upstream server as one device and send it the
  // exact partial sum of this server's devices once per upstream round.
  std::string upstream;             // the upstream's endpoint; empty: not a relay
  std::string upstream_id;          // the relay's device id upstream (empty: "relay-" + host name)
  std::string upstream_secret_key;  // CURVE: the relay's own key pair upstream
  std::string upstream_server_key;  // CURVE: the upstream's public key
  double upstream_margin_s = 0;     // close before the upstream deadline by this (0: a tenth of it)
  double upstream_give_up_s =
      0;  // stop after this long without a word from the upstream (0: never)
  StatusConfig status;
  double heartbeat_s = 1.0;
  // After the last round the server stays this long at most (or until every device has
  // confirmed the end), so a device whose final Ack was lost hears it on its resend.
  double farewell_s = 2.0;
  double time_scale = 1.0;       // multiplies every time-out (slow emulated devices)
  bool quiet = false;
  // Benchmarks only: the write-ahead log, checkpoints and metrics (not exports) are written
  // through an emulated storage device of this many MB/s (10^6 bytes), e.g. an SD card's 20-90,
  // on a machine whose disk is faster. Empty: the real disk as it is. A string so that an
  // explicit 0 is refused rather than meaning off.
  std::string emulate_disk_mbps;
};

// Parses flags (and the --config file they may name). `help_text` receives usage text when
// --help was given; the returned status is then `cancelled`. `default_time_scale` replaces
// the built-in time_scale default (main passes EDGEFL_TIME_SCALE, edgefl/base/timing.hpp).
Result<ServerConfig> load_server_config(int argc, const char* const* argv, std::string* help_text,
                                        double default_time_scale = 1.0);

// Registers every setting of `config` (TOML key and flag) in `table`.
void bind_server_options(ServerConfig& config, OptionTable& table);

// Reads the JSON model file or ONNX graph that model_file or model = "@PATH" names into `model`
// (its text form; an ONNX graph's initialisers become initial_params and their names
// tensor_names), then `weights` into initial_params and tensor_names; errors name the file.
// load_server_config calls it; other callers that take `model` from a user call it before
// validating.
Status resolve_model_file(ServerConfig& config);

// Range and name checks shared by both sources.
Status validate_server_config(const ServerConfig& config);
// emulate_disk_mbps in bytes per second; nullopt when it is empty. invalid_argument unless it is
// one finite number > 0.
Result<std::optional<double>> emulated_disk_bytes_per_second(const ServerConfig& config);
// The trainable layers of train.trainable_layers for the model (validated).
Result<std::vector<uint32_t>> trainable_layers(const ServerConfig& config, const ModelSpec& spec);

// The standardisation the standardize.* keys fix for the model's inputs (checked): the
// constants, or empty (none, or federated: computed when the devices have reported).
Result<Standardization> configured_standardization(const ServerConfig& config,
                                                   const ModelSpec& spec);

// The settings "auto" resolves, from the strategy.
MeanWeighting round_weighting(const ServerConfig& config);
bool keeps_optimizer_state(const ServerConfig& config);
// Round `round` (from 1) is a synchronous gradient step: every round of ddp, the PALSGD warm-up.
bool is_gradient_round(const ServerConfig& config, uint64_t round);
// Global index of the first local step of round `round`'s Task (gradient rounds are one step).
uint64_t round_start_step(const ServerConfig& config, uint64_t round);

}  // namespace edgefl::server
