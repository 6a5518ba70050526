#include "server_config.hpp"

#include "edgefl/decentral/topology.hpp"

#include <cmath>
#include <fstream>

#include "edgefl/train/adaptive_batch.hpp"
#include "edgefl/data/data_source.hpp"
#include "edgefl/base/model_spec.hpp"
#include "edgefl/base/trainable.hpp"
#include "edgefl/train/trainer.hpp"
#include "model_weights.hpp"
#include "onnx_model.hpp"
#include "status_listen.hpp"

namespace edgefl::server {

void bind_server_options(ServerConfig& c, OptionTable& t) {
  t.add("model", &c.model,
        "model spec, e.g. mlp:784-256-128-10:relu, linear:1000-1 or a layer list such as \"in:28x28x1 conv3x3x8 "
        "relu maxpool2 flatten dense10\" (docs/models.md), or @PATH: a JSON model file");
  t.add("model_file", &c.model_file,
        "JSON model file (docs/models.md, examples/models/) or ONNX graph (.onnx, with its initial weights); "
        "replaces model");
  t.add("weights", &c.weights,
        "initial weights: a safetensors file of PyTorch state_dict tensors (by the ONNX initialisers' names, "
        "else in the model's order); exports keep its names");
  t.add("export.every_rounds", &c.export_model.every_rounds,
        "write the global model every N rounds (model versions when asynchronous); 0: off");
  t.add("export.format", &c.export_model.format, "format of those files: safetensors | onnx");
  t.add("export.dir", &c.export_model.dir, "directory of those files (default: <state_dir>/exports)");
  t.add("seed", &c.seed, "seed for initialisation, device sampling and device tasks");
  t.add("data", &c.data,
        "evaluation data: fashion-mnist | blobs:D:C | linear:D | csv:PATH | npy:X.npy:Y.npy | npz:PATH | "
        "idx:IMAGES:LABELS | none");
  t.add("data_dir", &c.data_dir, "Fashion-MNIST directory (default: Debian's dataset path)");
  t.add("eval_samples", &c.eval_samples, "test samples per evaluation (0: no evaluation)");

  t.add("rounds", &c.rounds, "rounds (synchronous) or model versions (asynchronous) to run");
  t.add("round.fraction", &c.fraction, "share of joined devices asked per round");
  t.add("round.min_devices", &c.min_devices, "joined devices needed before a round opens");
  t.add("round.min_updates", &c.min_updates, "close after this many updates + grace (0: all asked)");
  t.add("round.deadline_s", &c.round_deadline_s, "close a round at this age whatever arrived");
  t.add("round.grace_s", &c.grace_s, "wait this long for stragglers after min_updates");
  t.add("round.join_timeout_s", &c.join_timeout_s, "give up if min_devices never join");
  t.add("round.max_update_norm", &c.max_update_norm, "reject updates above this L2 norm (0: off)");
  t.add("round.max_sample_weight", &c.max_sample_weight,
        "refuse an update claiming more samples than this (0: only the count declared at Join)");
  t.add("max_devices", &c.max_devices, "devices the server keeps track of at once");
  EligibilityRule& e = c.eligibility;
  t.add("eligibility.max_temperature_c", &e.max_temperature_c,
        "a device at or above this SoC temperature does not train (0: no limit)");
  t.add("eligibility.temperature_hysteresis_c", &e.temperature_hysteresis_c,
        "it trains again once this far below the limit");
  t.add("eligibility.max_load_per_core", &e.max_load_per_core,
        "a device whose 1-minute load per core reaches this does not train (0: no limit)");
  t.add("eligibility.load_hysteresis", &e.load_hysteresis, "it trains again once this far (per core) below the limit");
  t.add("eligibility.min_battery_percent", &e.min_battery_percent,
        "a device on battery below this charge does not train (0: no limit; mains: always)");
  t.add("eligibility.battery_hysteresis_percent", &e.battery_hysteresis_percent,
        "it trains again once charged this far above the limit");
  t.add("eligibility.min_available_memory_bytes", &e.min_available_memory_bytes,
        "a device with less MemAvailable does not train (0: no limit)");
  t.add("eligibility.memory_hysteresis_bytes", &e.memory_hysteresis_bytes,
        "it trains again once this much above the limit");

  t.add_choice("train.optimizer", &c.train.optimizer, parse_optimizer, optimizer_name,
               "local optimizer: sgd | momentum | nesterov | adamw");
  t.add("train.learning_rate", &c.train.learning_rate, "local learning rate");
  t.add("train.momentum", &c.train.momentum, "local momentum");
  t.add("train.weight_decay", &c.train.weight_decay, "local (decoupled for adamw) weight decay");
  t.add("train.adam_beta1", &c.train.adam_beta1, "AdamW beta1");
  t.add("train.adam_beta2", &c.train.adam_beta2, "AdamW beta2");
  t.add("train.adam_epsilon", &c.train.adam_epsilon, "AdamW epsilon");
  t.add("train.batch_size", &c.train.batch_size, "local (logical) batch size");
  t.add("train.full_batch", &c.train.full_batch,
        "full-batch local gradient descent: every local step on the whole shard (ignores train.batch_size)");
  t.add("train.local_epochs", &c.train.local_epochs, "local epochs per task (if local_steps = 0)");
  t.add("train.local_steps", &c.train.local_steps, "local steps per task (0: use local_epochs)");
  t.add_choice("train.lr_schedule", &c.train.lr_schedule, parse_lr_schedule, lr_schedule_name,
               "inner lr over global steps: constant | linear_warmup | cosine");
  t.add("train.lr_warmup_steps", &c.train.lr_warmup_steps, "global steps of the linear lr warm-up");
  t.add("train.lr_total_steps", &c.train.lr_total_steps, "cosine: the global step where lr reaches lr_min");
  t.add("train.lr_min", &c.train.lr_min, "cosine: the final learning rate");
  t.add("train.clip_norm", &c.train.clip_norm, "clip each batch gradient to this global L2 norm (0: off)");
  t.add("train.keep_optimizer_state", &c.train.keep_optimizer_state,
        "auto | true | false: devices keep the inner optimizer state across tasks (auto: nesterov, ddp)");
  t.add("train.trainable_layers", &c.train.trainable_layers,
        "layers devices train, the others frozen: all | last:N (layers with parameters) | 0,4,... (indices)");

  t.add_choice("codec.name", &c.codec.kind, parse_codec, codec_name, "update codec: f32 | f16 | int8 | topk");
  t.add("codec.int8_block_size", &c.codec.int8_block_size, "values per int8 scale block");
  t.add("codec.topk_fraction", &c.codec.topk_fraction, "share of values top-k keeps");

  t.add("strategy.name", &c.strategy.name,
        "fedavg | fedavgm | fedadam | nesterov | ddp | fedasync | fedbuff");
  t.add("strategy.weighting", &c.strategy.weighting,
        "auto | samples | uniform: update weights in a synchronous mean (auto: uniform for nesterov, ddp)");
  t.add("strategy.server_lr", &c.strategy.server_lr, "server (outer) learning rate");
  t.add("strategy.momentum", &c.strategy.momentum, "server momentum (fedavgm, nesterov)");
  t.add("strategy.adam_beta1", &c.strategy.adam_beta1, "FedAdam beta1");
  t.add("strategy.adam_beta2", &c.strategy.adam_beta2, "FedAdam beta2");
  t.add("strategy.adam_tau", &c.strategy.adam_tau, "FedAdam adaptivity tau");
  t.add("strategy.async_alpha", &c.strategy.async_alpha, "FedAsync mixing weight alpha");
  t.add_choice("strategy.staleness", &c.strategy.staleness, parse_staleness_function, staleness_function_name,
               "FedAsync staleness: constant | polynomial | hinge");
  t.add("strategy.staleness_a", &c.strategy.staleness_a, "staleness function parameter a");
  t.add("strategy.staleness_b", &c.strategy.staleness_b, "hinge staleness parameter b");
  t.add("strategy.buffer_size", &c.strategy.buffer_size, "FedBuff: apply every K arrivals");
  t.add("strategy.max_staleness", &c.strategy.max_staleness, "refuse updates staler than this");
  t.add("dpsgd.topology", &c.dpsgd.topology, "dpsgd: ring | torus | exponential");
  t.add("dpsgd.step_deadline_s", &c.dpsgd.step_deadline_s, "dpsgd: how long a step waits for neighbours' models");
  t.add("dpsgd.staleness_bound", &c.dpsgd.staleness_bound, "dpsgd: steps a neighbour's model may be ahead");
  t.add("dpsgd.report_interval", &c.dpsgd.report_interval, "dpsgd: steps between device reports");
  t.add("dpsgd.snapshot_interval", &c.dpsgd.snapshot_interval,
        "dpsgd: steps between full model snapshots to the server (0: never)");
  t.add("dpsgd.offline_s", &c.dpsgd.offline_s, "dpsgd: re-wire around a device silent this long");

  t.add("palsgd.probability", &c.palsgd.p, "PALSGD pull-step probability p (0: DiLoCo)");
  t.add("palsgd.rho", &c.palsgd.rho, "PALSGD pull strength rho");
  t.add("palsgd.sync_interval", &c.palsgd.h, "PALSGD H (0: from train settings)");
  t.add("palsgd.warmup_steps", &c.palsgd.warmup_steps,
        "global steps of synchronous data-parallel warm-up (one gradient round each) before PALSGD");

  t.add_choice("adaptive_batch.test", &c.adaptive_batch.test, parse_batch_test, batch_test_name,
               "none | norm | augmented_inner_product");
  t.add("adaptive_batch.eta", &c.adaptive_batch.eta, "norm-test eta");
  t.add("adaptive_batch.theta", &c.adaptive_batch.theta, "inner-product test theta (augmented)");
  t.add("adaptive_batch.nu", &c.adaptive_batch.nu, "orthogonality-test nu (augmented test)");
  t.add("adaptive_batch.max_batch", &c.adaptive_batch.cap, "batch-size cap");
  t.add("adaptive_batch.test_interval", &c.adaptive_batch.interval, "steps between tests");
  t.add_choice("adaptive_batch.interval_clock", &c.adaptive_batch.interval_clock, parse_interval_clock,
               interval_clock_name, "test_interval counts: device (local steps across tasks) | task");
  t.add_choice("adaptive_batch.lr_scaling", &c.adaptive_batch.lr_scaling, parse_lr_scaling, lr_scaling_name,
               "lr at batch b: none | sqrt | linear in b / train.batch_size");
  t.add("adaptive_batch.max_lr", &c.adaptive_batch.max_lr, "cap of the scaled lr (0: none)");

  t.add("standardize.mode", &c.standardize.mode,
        "standardise the data per input feature: none | constants (standardize.mean and "
        ".deviation) | "
        "federated (devices report their statistics before round 1)");
  t.add("standardize.mean", &c.standardize.mean,
        "constants: comma-separated means (one, or one per feature)");
  t.add("standardize.deviation", &c.standardize.deviation,
        "constants: comma-separated deviations (as many as the means, each > 0)");
  t.add("standardize.pooled", &c.standardize.pooled,
        "federated: one mean and deviation over every feature (images) instead of one per feature");
  t.add("standardize.min_deviation", &c.standardize.min_deviation,
        "federated: a feature whose deviation is below this is only centred (deviation 1)");

  t.add("endpoint", &c.endpoint, "ZeroMQ endpoint to bind, e.g. tcp://0.0.0.0:5555");
  t.add("endpoint_file", &c.endpoint_file, "write the endpoint actually bound to this file");
  t.add("state_dir", &c.state_dir, "write-ahead log, checkpoints and metrics live here");
  t.add("resume", &c.resume, "continue from the last checkpoint and write-ahead log");
  t.add("metrics", &c.metrics_path, "metrics JSON-lines file (default <state_dir>/metrics.jsonl)");
  t.add("secret_key", &c.secret_key_file, "CURVE secret key file of the server (enables CURVE)");
  t.add("allowed_keys", &c.allowed_keys_dir, "file listing allowed device public keys, one per line");
  t.add("insecure", &c.insecure, "allow plaintext on a non-loopback endpoint");
  t.add("upstream", &c.upstream,
        "relay mode: join this upstream server as a device and send it one exact partial sum per "
        "round");
  t.add("upstream_id", &c.upstream_id,
        "the relay's device id upstream (default: relay-<host name>)");
  t.add("upstream_secret_key", &c.upstream_secret_key,
        "CURVE secret key of the relay towards its upstream");
  t.add("upstream_server_key", &c.upstream_server_key, "CURVE public key of the upstream server");
  t.add("upstream_margin_s", &c.upstream_margin_s,
        "a relay closes its round this long before the upstream's deadline (0: a tenth of the "
        "deadline)");
  t.add("upstream_give_up_s", &c.upstream_give_up_s,
        "a relay stops after this long without a word from its upstream (0: never)");
  t.add("status.listen", &c.status.listen, "serve /metrics, /status and a status page on HOST:PORT (default: off)");
  t.add("status.listen_file", &c.status.listen_file, "write the HOST:PORT the status endpoint bound to this file");
  t.add("status.tls_cert", &c.status.tls_cert, "status endpoint over HTTPS: PEM certificate file");
  t.add("status.tls_key", &c.status.tls_key, "status endpoint over HTTPS: PEM private key file");
  t.add("status.token_file", &c.status.token_file, "file with the bearer token status requests must present");
  t.add("heartbeat_s", &c.heartbeat_s, "heartbeat interval");
  t.add("farewell_s", &c.farewell_s, "after the last round, wait at most this long for every device to confirm the end");
  t.add("time_scale", &c.time_scale, "multiply every time-out (slow or emulated devices)");
  t.add("quiet", &c.quiet, "no progress lines on the terminal");
  t.add("emulate_disk_mbps", &c.emulate_disk_mbps,
        "benchmarks: write the write-ahead log, checkpoints and metrics through an emulated storage "
        "device of this many MB/s (a slow disk such as an SD card; fsync returns once the bytes "
        "have drained at that rate)");
}

namespace {

Status invalid(const std::string& message) {
  return make_status(StatusCode::invalid_argument, message);
}

bool one_of(const std::string& value, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (value == name) return true;
  }
  return false;
}

bool finite_positive(double value) { return std::isfinite(value) && value > 0; }

}  // namespace

namespace {

// Every duration goes on the wire or into timers as milliseconds after time_scale: keep each
// within what those fields hold, and heartbeats within what a link can carry.
Status validate_times(const ServerConfig& c) {
  constexpr double kMaxMs = 4294967295.0;  // uint32 milliseconds on the wire
  if (!(std::isfinite(c.time_scale) && c.time_scale >= 0.01 && c.time_scale <= 1000)) {
    return invalid("time_scale must be in [0.01, 1000]");
  }
  if (!(std::isfinite(c.heartbeat_s) && c.heartbeat_s >= 0.01 && c.heartbeat_s <= 3600)) {
    return invalid("heartbeat_s must be in [0.01, 3600] seconds");
  }
  if (3 * c.heartbeat_s * c.time_scale * 1000 > kMaxMs) return invalid("heartbeat_s * time_scale is too long");
  if (!(std::isfinite(c.farewell_s) && c.farewell_s >= 0 && c.farewell_s <= 3600)) {
    return invalid("farewell_s must be in [0, 3600] seconds");
  }
  if (c.round_deadline_s * c.time_scale * 1000 > kMaxMs) {
    return invalid("round.deadline_s * time_scale must stay below 49 days");
  }
  if (c.join_timeout_s * c.time_scale > 365.0 * 86400) return invalid("round.join_timeout_s is over a year");
  return Status();
}

}  // namespace

namespace {

Status read_json_model(ServerConfig& c, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_status(StatusCode::not_found, "model file " + path + ": cannot open it");
  std::string json(ModelSpec::kMaxJsonBytes + 1, '\0');
  in.read(json.data(), static_cast<std::streamsize>(json.size()));
  if (in.bad()) return make_status(StatusCode::io_error, "model file " + path + ": read failed");
  json.resize(static_cast<std::size_t>(in.gcount()));
  if (json.size() > ModelSpec::kMaxJsonBytes) {
    return make_status(StatusCode::too_large, "model file " + path + " is over " +
                                                  std::to_string(ModelSpec::kMaxJsonBytes) + " bytes");
  }
  Result<ModelSpec> spec = ModelSpec::from_json(json);
  if (!spec) return spec.status().with_context(path);  // "PATH: model file: ..."
  c.model = spec->to_string();
  return Status();
}

}  // namespace

Status resolve_model_file(ServerConfig& c) {
  std::string path = c.model_file;
  if (path.empty() && c.model.starts_with('@')) path = c.model.substr(1);
  if (path.ends_with(".onnx")) {
    Result<onnx_io::ImportedModel> imported = onnx_io::read_onnx(path);
    if (!imported) return imported.status();
    c.model = imported->spec.to_string();
    c.initial_params = std::move(imported->params);
    c.tensor_names = std::move(imported->tensor_names);
  } else if (!path.empty()) {
    EDGEFL_RETURN_IF_ERROR(read_json_model(c, path));
  }
  c.model_file.clear();
  if (c.weights.empty()) return Status();
  Result<ModelSpec> spec = ModelSpec::parse(c.model);
  if (!spec) return spec.status();
  Result<LoadedWeights> loaded = load_weights(c.weights, *spec, c.tensor_names);
  if (!loaded) return loaded.status().with_context("weights");
  c.initial_params = std::move(loaded->params);
  c.tensor_names = std::move(loaded->names);
  c.weights.clear();
  return Status();
}

Result<std::vector<uint32_t>> trainable_layers(const ServerConfig& c, const ModelSpec& spec) {
  Result<std::vector<uint32_t>> layers = parse_trainable(c.train.trainable_layers, spec);
  if (!layers) return layers.status().with_context("train.trainable_layers");
  return layers;
}

namespace {

// "0.5, 1e-3,2" -> {0.5, 0.001, 2}; errors name the key and the part.
Result<std::vector<double>> parse_numbers(const std::string& text, const char* key) {
  std::vector<double> numbers;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(start, end - start);
    char* stop = nullptr;
    const double value = std::strtod(part.c_str(), &stop);
    const bool blank_tail = stop != part.c_str() &&
                            part.find_first_not_of(" \t", stop - part.c_str()) == std::string::npos;
    if (!blank_tail || !std::isfinite(value)) {
      return invalid(std::string(key) + ": '" + part +
                     "' is not a finite number (write comma-separated numbers)");
    }
    numbers.push_back(value);
    start = end + 1;
  }
  return numbers;
}

}  // namespace

Result<std::optional<double>> emulated_disk_bytes_per_second(const ServerConfig& c) {
  if (c.emulate_disk_mbps.empty()) return std::optional<double>();
  Result<std::vector<double>> mbps = parse_numbers(c.emulate_disk_mbps, "emulate_disk_mbps");
  if (!mbps) return mbps.status();
  if (mbps->size() != 1 || !((*mbps)[0] > 0)) {
    return invalid("emulate_disk_mbps must be one number of MB/s > 0, not '" + c.emulate_disk_mbps + "'");
  }
  return std::optional<double>((*mbps)[0] * 1e6);
}

Result<Standardization> configured_standardization(const ServerConfig& c, const ModelSpec& spec) {
  const StandardizeConfig& s = c.standardize;
  if (!one_of(s.mode, {"none", "constants", "federated"})) {
    return invalid("standardize.mode must be none, constants or federated, not '" + s.mode + "'");
  }
  if (s.mode != "constants" && (!s.mean.empty() || !s.deviation.empty())) {
    return invalid("standardize.mean and standardize.deviation need standardize.mode = constants");
  }
  if (!(std::isfinite(s.min_deviation) && s.min_deviation >= 0)) {
    return invalid("standardize.min_deviation must be >= 0");
  }
  if (s.mode != "constants") return Standardization{};
  if (s.pooled)
    return invalid(
        "standardize.pooled is for federated statistics (give one constant pair instead)");
  Standardization constants;
  Result<std::vector<double>> mean = parse_numbers(s.mean, "standardize.mean");
  if (!mean) return mean.status();
  Result<std::vector<double>> deviation = parse_numbers(s.deviation, "standardize.deviation");
  if (!deviation) return deviation.status();
  constants.mean = std::move(*mean);
  constants.deviation = std::move(*deviation);
  Status checked = check_standardization(constants, spec.input_size());
  if (!checked.ok()) return checked.with_context("standardize.mean and standardize.deviation");
  return constants;
}

namespace {

// Relay mode: a schedule of rounds, and keys for the upstream in pairs.
Status check_relay(const ServerConfig& c) {
  if (c.upstream.empty()) return Status();
  if (c.strategy.name == "fedasync" || c.strategy.name == "fedbuff" || c.strategy.name == "dpsgd") {
    return invalid(
        "a relay (upstream) runs synchronous rounds: strategy " + c.strategy.name +
        " through relays is not supported (a relay sends one exact partial sum per round)");
  }
  if (c.upstream_secret_key.empty() != c.upstream_server_key.empty()) {
    return invalid("upstream_secret_key and upstream_server_key go together (CURVE needs both)");
  }
  if (!(std::isfinite(c.upstream_margin_s) && c.upstream_margin_s >= 0))
    return invalid("upstream_margin_s must be >= 0");
  if (!(std::isfinite(c.upstream_give_up_s) && c.upstream_give_up_s >= 0)) {
    return invalid("upstream_give_up_s must be >= 0 (0: never)");
  }
  return Status();
}

}  // namespace

Status validate_server_config(const ServerConfig& c) {
  if (!c.model_file.empty() || c.model.starts_with('@')) {
    return invalid("the model file " + (c.model_file.empty() ? c.model.substr(1) : c.model_file) +
                   " was not read (resolve_model_file)");
  }
  if (!c.weights.empty()) return invalid("the weights file " + c.weights + " was not read (resolve_model_file)");
  Result<ModelSpec> spec = ModelSpec::parse(c.model);
  if (!spec) return spec.status();
  if (!c.initial_params.empty() && c.initial_params.size() != spec->parameter_count()) {
    return make_status(StatusCode::shape_mismatch, std::to_string(c.initial_params.size()) +
                                                       " initial weights for a model of " +
                                                       std::to_string(spec->parameter_count()) + " parameters");
  }
  Result<ModelFormat> export_format = parse_model_format(c.export_model.format);
  if (!export_format) return export_format.status().with_context("export.format");
  if (Status rule = check_eligibility_rule(c.eligibility); !rule.ok()) return invalid(rule.message());
  Result<std::vector<uint32_t>> trainable = trainable_layers(c, *spec);
  if (!trainable) return trainable.status();
  // A gradient round's server step and the optimizer state it hands over cover every parameter.
  if (!trainable->empty() && (c.strategy.name == "ddp" || c.palsgd.warmup_steps > 0)) {
    return invalid("train.trainable_layers freezes layers, which synchronous gradient rounds (strategy ddp, "
                   "palsgd.warmup_steps) do not support");
  }
  if (c.data != "none" && c.upstream.empty()) {  // a relay evaluates nothing
    Result<DataSource> source = DataSource::parse(c.data, c.data_dir);
    if (!source) return source.status();
    EDGEFL_RETURN_IF_ERROR(source->check_spec(*spec));
  }
  EDGEFL_RETURN_IF_ERROR(configured_standardization(c, *spec).status());
  if (c.rounds == 0) return invalid("rounds must be at least 1");
  if (!(c.fraction > 0 && c.fraction <= 1)) return invalid("round.fraction must be in (0, 1]");
  if (c.min_devices == 0) return invalid("round.min_devices must be at least 1");
  if (!finite_positive(c.round_deadline_s)) return invalid("round.deadline_s must be > 0");
  EDGEFL_RETURN_IF_ERROR(check_relay(c));
  if (!(std::isfinite(c.grace_s) && c.grace_s >= 0)) return invalid("round.grace_s must be >= 0");
  if (!finite_positive(c.join_timeout_s)) return invalid("round.join_timeout_s must be > 0");
  if (!(std::isfinite(c.max_update_norm) && c.max_update_norm >= 0)) {
    return invalid("round.max_update_norm must be >= 0");
  }
  if (!finite_positive(c.train.learning_rate)) return invalid("train.learning_rate must be > 0");
  if (!(c.train.momentum >= 0 && c.train.momentum < 1)) {
    return invalid("train.momentum must be in [0, 1)");
  }
  if (c.train.batch_size == 0) return invalid("train.batch_size must be at least 1");
  if (c.train.local_steps == 0 && c.train.local_epochs == 0) {
    return invalid("one of train.local_steps and train.local_epochs must be > 0");
  }
  if (!(c.codec.topk_fraction > 0 && c.codec.topk_fraction <= 1)) {
    return invalid("codec.topk_fraction must be in (0, 1]");
  }
  if (c.codec.int8_block_size == 0) return invalid("codec.int8_block_size must be at least 1");
  if (!one_of(c.strategy.name,
              {"fedavg", "fedavgm", "fedadam", "nesterov", "diloco", "ddp", "fedasync", "fedbuff", "dpsgd"})) {
    return invalid("strategy.name '" + c.strategy.name +
                   "' is not fedavg, fedavgm, fedadam, nesterov, ddp, fedasync, fedbuff or dpsgd");
  }
  if (c.strategy.name == "dpsgd") {
    Result<TopologyKind> topology = parse_topology(c.dpsgd.topology);
    if (!topology) return invalid("dpsgd.topology: " + topology.status().message());
    if (!(std::isfinite(c.dpsgd.step_deadline_s) && c.dpsgd.step_deadline_s >= 0.001 &&
          c.dpsgd.step_deadline_s <= 3600)) {
      return invalid("dpsgd.step_deadline_s must be in [0.001, 3600] seconds");
    }
    if (c.dpsgd.report_interval == 0) return invalid("dpsgd.report_interval must be at least 1");
    if (!(std::isfinite(c.dpsgd.offline_s) && c.dpsgd.offline_s > 0)) return invalid("dpsgd.offline_s must be > 0");
    if (c.palsgd.p > 0 || c.palsgd.h > 0 || c.palsgd.warmup_steps > 0 || c.adaptive_batch.test != BatchTest::none) {
      return invalid("dpsgd trains with plain optimizer steps: no palsgd.* or adaptive_batch.* settings");
    }
  }
  if (!one_of(c.strategy.weighting, {"auto", "samples", "uniform"})) {
    return invalid("strategy.weighting '" + c.strategy.weighting + "' is not auto, samples or uniform");
  }
  if (!one_of(c.train.keep_optimizer_state, {"auto", "true", "false"})) {
    return invalid("train.keep_optimizer_state '" + c.train.keep_optimizer_state + "' is not auto, true or false");
  }
  if (!(std::isfinite(c.train.clip_norm) && c.train.clip_norm >= 0)) return invalid("train.clip_norm must be >= 0");
  const LrSchedule schedule{c.train.lr_schedule, c.train.lr_warmup_steps, c.train.lr_total_steps, c.train.lr_min};
  EDGEFL_RETURN_IF_ERROR(validate(schedule, c.train.learning_rate).with_context("train.lr_*"));
  const bool counts_steps = c.train.local_steps > 0 || c.palsgd.h > 0 || c.strategy.name == "ddp";
  if (!counts_steps && (c.train.lr_schedule != LrScheduleKind::constant || c.palsgd.warmup_steps > 0)) {
    return invalid("train.lr_schedule and palsgd.warmup_steps count global steps: set train.local_steps "
                   "or palsgd.sync_interval (epochs give every device its own step count)");
  }
  const bool asynchronous = c.strategy.name == "fedasync" || c.strategy.name == "fedbuff";
  if (asynchronous && c.palsgd.warmup_steps > 0) {
    return invalid("palsgd.warmup_steps runs synchronous gradient rounds: it needs a synchronous strategy");
  }
  if (!(c.palsgd.p >= 0 && c.palsgd.p < 1)) {
    return invalid("palsgd.probability must be in [0, 1)");
  }
  // What the devices will check, checked here first: a bad setting fails at start, not on
  // every device in every round.
  const edgefl::PalsgdConfig palsgd{c.palsgd.p, c.palsgd.rho, c.palsgd.warmup_steps};
  EDGEFL_RETURN_IF_ERROR(validate(palsgd, c.train.learning_rate)
                             .with_context("palsgd.* and train.learning_rate"));
  EDGEFL_RETURN_IF_ERROR(validate(c.adaptive_batch).with_context("adaptive_batch.*"));
  if (c.adaptive_batch.cap > (1u << 20)) return invalid("adaptive_batch.max_batch must be at most 2^20");
  if (c.train.full_batch && c.adaptive_batch.test != BatchTest::none) {
    return invalid("train.full_batch and adaptive_batch.test exclude each other (the batch is the whole shard)");
  }
  if (c.adaptive_batch.test != BatchTest::none && c.adaptive_batch.cap < c.train.batch_size) {
    return invalid("adaptive_batch.max_batch must be >= train.batch_size");
  }
  if (c.adaptive_batch.test == BatchTest::none &&
      (c.adaptive_batch.lr_scaling != LrScaling::none || c.adaptive_batch.max_lr > 0)) {
    return invalid("adaptive_batch.lr_scaling and max_lr need an adaptive_batch.test (the batch never grows)");
  }
  if (c.adaptive_batch.max_lr > 0 && c.adaptive_batch.max_lr < c.train.learning_rate) {
    return invalid("adaptive_batch.max_lr must be 0 (no cap) or >= train.learning_rate");
  }
  EDGEFL_RETURN_IF_ERROR(validate_times(c));
  if (c.max_devices == 0) return invalid("max_devices must be at least 1");
  if (c.secret_key_file.empty() != c.allowed_keys_dir.empty()) {
    return invalid("secret_key and allowed_keys go together (CURVE needs both)");
  }
  EDGEFL_RETURN_IF_ERROR(check_status_security(c.status, c.insecure));
  EDGEFL_RETURN_IF_ERROR(emulated_disk_bytes_per_second(c).status());
  return Status();
}

MeanWeighting round_weighting(const ServerConfig& c) {
  if (c.strategy.weighting == "samples") return MeanWeighting::samples;
  if (c.strategy.weighting == "uniform") return MeanWeighting::uniform;
  return one_of(c.strategy.name, {"nesterov", "diloco", "ddp"}) ? MeanWeighting::uniform : MeanWeighting::samples;
}

bool keeps_optimizer_state(const ServerConfig& c) {
  if (c.train.keep_optimizer_state != "auto") return c.train.keep_optimizer_state == "true";
  return one_of(c.strategy.name, {"nesterov", "diloco", "ddp"});
}

bool is_gradient_round(const ServerConfig& c, uint64_t round) {
  return c.strategy.name == "ddp" || round <= c.palsgd.warmup_steps;
}

uint64_t round_start_step(const ServerConfig& c, uint64_t round) {
  if (round == 0) return 0;
  if (is_gradient_round(c, round)) return round - 1;
  const uint64_t steps_per_task = c.palsgd.h > 0 ? c.palsgd.h : c.train.local_steps;
  return c.palsgd.warmup_steps + (round - 1 - c.palsgd.warmup_steps) * steps_per_task;
}

Result<ServerConfig> load_server_config(int argc, const char* const* argv,
                                        std::string* help_text, double default_time_scale) {
  ServerConfig config;
  config.time_scale = default_time_scale;
  OptionTable table;
  bind_server_options(config, table);
  EDGEFL_RETURN_IF_ERROR(table.parse_command_line(
      argc, argv, "edgefl-server", "edgefl-server: federated aggregation server", help_text));
  EDGEFL_RETURN_IF_ERROR(resolve_model_file(config));
  EDGEFL_RETURN_IF_ERROR(validate_server_config(config));
  return config;
}

}  // namespace edgefl::server
