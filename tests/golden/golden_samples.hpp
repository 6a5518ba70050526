// Deterministic sample messages and a checkpoint for the model mlp:4-3-2 (26 parameters), as
// of a schema version: fields a version added are set only in the samples of that version and
// later (older buffers decode them as their defaults). The golden generator writes them, the
// golden test decodes the files and compares them with these values, the proto tests
// round-trip them, and the fuzz corpus is seeded from them.
#pragma once

#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "edgefl/proto/checkpoint.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/base/float_buffer.hpp"
#include "edgefl/proto/messages.hpp"

namespace edgefl::golden {

inline constexpr const char* kModelSpec = "mlp:4-3-2:relu";
inline constexpr std::size_t kParameters = 23;  // (4*3 + 3) + (3*2 + 2)
inline constexpr std::size_t kHeadParameters = 8;  // 3*2 + 2

struct Samples {
  FloatBuffer params{kParameters};
  FloatBuffer delta{kParameters};
  FloatBuffer momentum{kParameters};
  std::deque<UpdateEncoder> encoders;  // deque: views into encoders stay valid as it grows
  std::vector<std::pair<std::string, Message>> messages;
  Checkpoint checkpoint;
};

inline TaskConfig sample_config(uint16_t version) {
  TaskConfig c;
  c.optimizer = OptimizerKind::nesterov;
  c.lr = 0.05f;
  c.momentum = 0.9f;
  c.weight_decay = 1e-4f;
  c.batch_size = 16;
  c.local_steps = 20;
  c.local_epochs = 0;
  c.upload = CodecConfig{.kind = CodecKind::int8_block, .int8_block_size = 8};
  c.seed = 42;
  c.deadline_ms = 60000;
  c.palsgd = PalsgdSettings{.p = 0.25f, .rho = 0.5f, .h = 8, .warmup_steps = 4};
  c.adaptive_batch = AdaptiveBatchSettings{.theta = 0.9f, .eta = 2.0f, .batch_cap = 256, .test_interval = 10};
  if (version >= 0x0101) {
    c.adaptive_batch->test = 2;  // augmented inner product
    c.adaptive_batch->nu = 0.25f;
  }
  if (version >= 0x0104) {
    c.adaptive_batch->lr_scaling = 1;  // sqrt
    c.adaptive_batch->max_lr = 0.2f;
    c.adaptive_batch->interval_clock = 1;  // task
    c.lr_schedule = LrSchedule{.kind = LrScheduleKind::cosine, .warmup_steps = 10, .total_steps = 500, .min_lr = 0.005f};
    c.start_step = 1234;
    c.keep_optimizer_state = true;
    c.clip_norm = 1.5f;
    c.gradient_only = true;
  }
  return c;
}

inline Update sample_update(uint64_t id, const TensorView& payload, uint16_t version) {
  Update u;
  u.update_id = id;
  u.task_id = 7;
  u.round = 3;
  u.base_version = 3;
  u.sample_count = 600;
  u.metrics = UpdateMetrics{.train_loss = 0.6931f, .steps = 20, .batch_sizes = {16, 16, 32}};
  u.payload = payload;
  if (version >= 0x0102) {
    u.run_id = 0x1234567890abcull;
    u.base_hash = 0xdeadbeefu;
  }
  return u;
}

// 1.6: the dpsgd messages. A ring of three: this device, "device-B" and "device-C".
inline void add_peer_samples(Samples& s, const Task& task) {
  PeerAssignment assignment;
  assignment.epoch = 2;
  assignment.topology = 0;  // ring
  assignment.self_weight = 1.0 / 3;
  assignment.neighbours = {
      {.device_id = "device-B", .endpoint = "tcp://10.0.0.8:6000",
       .public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", .weight = 1.0 / 3},
      {.device_id = "device-C", .endpoint = "tcp://10.0.0.9:6000", .public_key = "", .weight = 1.0 / 3}};
  assignment.step_deadline_ms = 2000;
  assignment.staleness_bound = 4;
  assignment.report_interval = 10;
  assignment.snapshot_interval = 50;
  assignment.start = task;
  assignment.start.trainable_layers.clear();  // decentralised training trains every layer
  assignment.start.optimizer_state = {};
  assignment.start.optimizer_steps = 0;
  assignment.start.config.palsgd.reset();
  assignment.start.config.adaptive_batch.reset();
  assignment.start.config.gradient_only = false;
  s.messages.emplace_back("peer_assignment", assignment);
  s.encoders.push_back(UpdateEncoder::create({.kind = CodecKind::f16}, kParameters).value());
  s.messages.emplace_back("peer_model", PeerModel{.sender = "device-B", .epoch = 2, .step = 41, .missed_previous = true,
                                                  .params = *s.encoders.back().encode(s.params.span()),
                                                  .run_id = 0x1234567890abcull});
  PeerReport report{.epoch = 2, .step = 50, .train_loss = 0.4375f, .neighbours = {"device-B", "device-C"},
                    .squared_distances = {0.015625, 0.25}, .missed = 3, .one_sided_misses = 1, .refused = 2,
                    .bytes_sent = 1840, .bytes_received = 1748, .snapshot = f32_tensor(s.params.span())};
  s.messages.emplace_back("peer_report", report);
}

inline std::unique_ptr<Samples> make_samples(uint16_t version = kProtocolVersion) {
  auto s = std::make_unique<Samples>();
  for (std::size_t i = 0; i < kParameters; ++i) {
    s->params[i] = (static_cast<float>(i) - 13.0f) * 0.125f;
    s->delta[i] = static_cast<float>(static_cast<int>((i * 7) % 13) - 6) * 0.03125f;
    s->momentum[i] = static_cast<float>(i) * 0.001f;
  }
  auto encode = [&](const CodecConfig& config) {
    s->encoders.push_back(UpdateEncoder::create(config, kParameters).value());
    return *s->encoders.back().encode(s->delta.span());
  };

  Join join;
  join.device_id = "pi-zero-7";
  join.capabilities = Capabilities{.arch = "aarch64", .cores = 4, .memory_budget_bytes = 64u << 20,
                                   .max_micro_batch = 128, .sample_count = 600,
                                   .codecs = {CodecKind::f32, CodecKind::f16, CodecKind::int8_block, CodecKind::topk},
                                   .software_version = "0.1.0"};
  join.boot_counter = 5;
  if (version >= 0x0102) {
    join.capabilities.backend = 2;
    join.capabilities.dataset_bytes = 470400;
    join.capabilities.process_bytes = 9u << 20;
  }
  if (version >= 0x0106) join.peer_endpoint = "tcp://10.0.0.7:6000";
  s->messages.emplace_back("join", join);
  Welcome welcome{.device_id = "device-A", .server_session = 0xabcdef12u, .heartbeat_interval_ms = 5000,
                  .peer_timeout_ms = 15000, .max_message_bytes = 1u << 20, .server_time_ms = 1700000000000u,
                  .data_statistics_wanted = version >= 0x0106, .eligibility = {}};
  if (version >= 0x0106) {
    welcome.eligibility = EligibilityRule{.max_temperature_c = 75, .temperature_hysteresis_c = 5,
                                          .max_load_per_core = 1, .load_hysteresis = 0.25f,
                                          .min_battery_percent = 20, .battery_hysteresis_percent = 5,
                                          .min_available_memory_bytes = 32u << 20,
                                          .memory_hysteresis_bytes = 8u << 20};
  }
  s->messages.emplace_back("welcome", welcome);
  Task task;
  task.task_id = 7;
  task.round = 3;
  task.model_version = 3;
  task.model_spec = kModelSpec;
  task.config = sample_config(version);
  task.params = f32_tensor(s->params.span());
  if (version >= 0x0102) {
    task.run_id = 0x1234567890abcull;
    task.base_hash = 0xdeadbeefu;
  }
  if (version >= 0x0104) {  // nesterov keeps one buffer of P floats
    task.optimizer_state = f32_tensor(s->momentum.span());
    task.optimizer_steps = 32;
  }
  if (version >= 0x0105) {  // the head (dense 3 -> 2) trains; its 8 parameters have state
    task.trainable_layers = {2};
    task.optimizer_state = f32_tensor(s->momentum.span().last(kHeadParameters));
  }
  if (version >= 0x0106) {  // one pair per input of mlp:4-3-2
    task.standardization = Standardization{{0.5, -1.25, 3.0, 1e4}, {2.0, 0.125, 1.0, 250.0}};
  }
  s->messages.emplace_back("task", task);
  s->messages.emplace_back("update_f32", sample_update(101, encode({.kind = CodecKind::f32}), version));
  s->messages.emplace_back("update_f16", sample_update(102, encode({.kind = CodecKind::f16}), version));
  s->messages.emplace_back("update_int8", sample_update(103, encode({.kind = CodecKind::int8_block, .int8_block_size = 8}), version));
  s->messages.emplace_back("update_topk", sample_update(104, encode({.kind = CodecKind::topk, .topk_k = 5}), version));
  s->messages.emplace_back("ack", Ack{.update_id = 101, .round = 3, .status = AckStatus::accepted});
  s->messages.emplace_back("ack_duplicate", Ack{.update_id = 101, .round = 3, .status = AckStatus::duplicate});
  s->messages.emplace_back("reject", Reject{.reason = StatusCode::stale, .message = "round 3 is closed", .update_id = 104});
  s->messages.emplace_back("heartbeat", Heartbeat{.sequence = 9, .sender_time_ms = 123456,
                                                  .working_on = version >= 0x0101 ? 7u : 0u,
                                                  .ineligible = version >= 0x0106
                                                                    ? kIneligibleTemperature | kIneligibleBattery
                                                                    : 0u});
  s->messages.emplace_back("bye", Bye{.reason = ByeReason::finished, .message = "training done"});
  if (version >= 0x0106) {
    s->messages.emplace_back(
        "data_statistics",
        DataStatistics{FeatureMoments{600, {0.5, -1.25, 3.0, 1e4}, {2400.0, 9.375, 0.0, 3.75e7}}});
  }
  if (version >= 0x0106) add_peer_samples(*s, task);
  if (version >= 0x0107) {
    // A relay's partial sum of three updates: negative, zero, a carry into the high word.
    Update partial = sample_update(105, TensorView{}, version);
    partial.sample_count = 1800;
    partial.metrics.partial_updates = 1;  // one device's steps were cut by the deadline
    partial.partial_sum = PartialSum{.high = {-3, 0, 1ll << 40, 17},
                                     .low = {0x8000000000000000ull, 0, 5, ~0ull},
                                     .total_weight = 1800,
                                     .update_count = 3};
    s->messages.emplace_back("update_partial_sum", partial);
    Join relay_join = join;
    relay_join.device_id = "relay-site-b";
    relay_join.peer_endpoint.clear();
    relay_join.relay = true;
    s->messages.emplace_back("join_relay", relay_join);
  }

  s->checkpoint.round = 4;
  s->checkpoint.model_version = 4;
  s->checkpoint.model_spec = kModelSpec;
  s->checkpoint.params = f32_tensor(s->params.span());
  s->checkpoint.optimizer_state.push_back({"momentum", f32_tensor(s->momentum.span())});
  s->checkpoint.open_round_update_ids = {101, 102};
  s->checkpoint.rng_state = {0x853c49e6748fea9bu, 0xda3e39cb94b95bdbu};
  s->checkpoint.created_unix_ms = 1700000000000u;
  if (version >= 0x0101) s->checkpoint.scalars = {{"fedbuff.count", 2.0}, {"async.epoch", 3.0}};
  return s;
}

// Dense values of a tensor (empty when it does not decode).
inline std::vector<float> dense(const TensorView& tensor) {
  std::vector<float> out(tensor.parameter_count);
  if (!decode_into(tensor, out).ok()) return {};
  return out;
}

inline bool same_tensor(const TensorView& a, const TensorView& b) {
  const std::vector<float> values = dense(a);
  return a.kind == b.kind && a.parameter_count == b.parameter_count && a.block_size == b.block_size &&
         a.indices.size() == b.indices.size() && values.size() == a.parameter_count &&
         values == dense(b);
}

inline bool same(const Task& a, const Task& b) {
  return a.task_id == b.task_id && a.round == b.round && a.model_version == b.model_version &&
         a.model_spec == b.model_spec && a.config == b.config && same_tensor(a.params, b.params) &&
         a.run_id == b.run_id && a.base_hash == b.base_hash &&
         a.optimizer_state.parameter_count == b.optimizer_state.parameter_count &&
         (a.optimizer_state.parameter_count == 0 ||
          same_tensor(a.optimizer_state, b.optimizer_state)) &&
         a.optimizer_steps == b.optimizer_steps && a.trainable_layers == b.trainable_layers &&
         a.standardization == b.standardization;
}
inline bool same(const Update& a, const Update& b) {
  return a.update_id == b.update_id && a.task_id == b.task_id && a.round == b.round &&
         a.base_version == b.base_version && a.sample_count == b.sample_count &&
         a.metrics == b.metrics && same_tensor(a.payload, b.payload) && a.run_id == b.run_id &&
         a.base_hash == b.base_hash && a.partial_sum == b.partial_sum;
}
inline bool same(const PeerAssignment& a, const PeerAssignment& b) {
  return a.epoch == b.epoch && a.topology == b.topology && a.self_weight == b.self_weight &&
         a.neighbours == b.neighbours && a.step_deadline_ms == b.step_deadline_ms &&
         a.staleness_bound == b.staleness_bound && a.report_interval == b.report_interval &&
         a.snapshot_interval == b.snapshot_interval && same(a.start, b.start);
}
inline bool same(const PeerModel& a, const PeerModel& b) {
  return a.sender == b.sender && a.epoch == b.epoch && a.step == b.step && a.missed_previous == b.missed_previous &&
         same_tensor(a.params, b.params) && a.run_id == b.run_id;
}
inline bool same(const PeerReport& a, const PeerReport& b) {
  return a.epoch == b.epoch && a.step == b.step && a.train_loss == b.train_loss && a.neighbours == b.neighbours &&
         a.squared_distances == b.squared_distances && a.missed == b.missed &&
         a.one_sided_misses == b.one_sided_misses && a.refused == b.refused && a.bytes_sent == b.bytes_sent &&
         a.bytes_received == b.bytes_received && a.snapshot.parameter_count == b.snapshot.parameter_count &&
         (a.snapshot.parameter_count == 0 || same_tensor(a.snapshot, b.snapshot));
}
template <typename T>
bool same(const T& a, const T& b) {
  return a == b;
}

// Field-by-field equality, tensors compared by their decoded values.
inline bool same_message(const Message& a, const Message& b) {
  if (a.index() != b.index()) return false;
  return std::visit([&](const auto& left) {
    using T = std::decay_t<decltype(left)>;
    return same(left, std::get<T>(b));
  }, a);
}

inline bool same_checkpoint(const Checkpoint& a, const Checkpoint& b) {
  if (a.optimizer_state.size() != b.optimizer_state.size()) return false;
  for (std::size_t i = 0; i < a.optimizer_state.size(); ++i) {
    if (a.optimizer_state[i].name != b.optimizer_state[i].name ||
        !same_tensor(a.optimizer_state[i].tensor, b.optimizer_state[i].tensor)) {
      return false;
    }
  }
  return a.round == b.round && a.model_version == b.model_version && a.model_spec == b.model_spec &&
         same_tensor(a.params, b.params) && a.open_round_update_ids == b.open_round_update_ids &&
         a.rng_state == b.rng_state && a.created_unix_ms == b.created_unix_ms && a.scalars == b.scalars;
}

}  // namespace edgefl::golden
