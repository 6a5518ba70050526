// Messages of the edgefl wire protocol as plain C++ values (docs/protocol.md is the spec).
//
//   edgefl::Message hello = edgefl::Join{.device_id = "pi-7", .capabilities = caps};
//   edgefl::Message ack = edgefl::Ack{.update_id = id, .round = r};
//   if (auto* update = std::get_if<edgefl::Update>(&decoded->message)) { ... }
//
// Encoding and decoding live in edgefl/proto/proto.hpp. Task::params and Update::payload are
// non-owning views (edgefl/codec/codec.hpp): when encoding they point at the caller's data (or an
// UpdateEncoder's output); after decoding they point into the verified message bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "edgefl/base/standardization.hpp"
#include "edgefl/base/status.hpp"
#include "edgefl/codec/codec.hpp"
#include "edgefl/proto/eligibility.hpp"
#include "edgefl/optim/lr_schedule.hpp"
#include "edgefl/optim/optimizer_kind.hpp"

namespace edgefl {

// Protocol version on the wire: major << 8 | minor. A peer with another major is refused with
// Reject{version_mismatch}; minors only add fields at the end and interoperate.
inline constexpr uint16_t kProtocolMajor = 1;
inline constexpr uint16_t kProtocolMinor = 7;
inline constexpr uint16_t kProtocolVersion = (kProtocolMajor << 8) | kProtocolMinor;

enum class AckStatus : uint8_t { accepted = 0, duplicate = 1 };
enum class ByeReason : uint8_t { shutdown = 0, finished = 1, restarting = 2, evicted = 3 };

struct Capabilities {
  std::string arch;                   // "aarch64", "armv7l", "x86_64"
  uint32_t cores = 1;
  uint64_t memory_budget_bytes = 0;
  uint32_t max_micro_batch = 0;       // from the device's memory plan
  uint64_t sample_count = 0;
  std::vector<CodecKind> codecs{CodecKind::f32};
  std::string software_version;
  // 1.2: what the server's fit check needs to plan the device's memory as the device does.
  uint8_t backend = 0;                // edgefl::Backend + 1; 0: not said
  uint64_t dataset_bytes = 0;         // local data in memory
  uint64_t process_bytes = 0;         // resident size besides data and training state
  bool operator==(const Capabilities&) const = default;
};

struct Join {
  std::string device_id;              // advisory: with CURVE the ZAP User-Id is the identity
  Capabilities capabilities;
  uint64_t boot_counter = 0;          // increments on every device process start
  std::string peer_endpoint;          // 1.6: its peer socket as neighbours dial it (dpsgd); empty: none
  bool relay = false;                 // 1.7: a relay aggregator (sends partial sums)
  bool operator==(const Join&) const = default;
};

struct Welcome {
  std::string device_id;              // the id the server uses for this device
  uint64_t server_session = 0;        // changes when the server restarts
  uint32_t heartbeat_interval_ms = 5000;
  uint32_t peer_timeout_ms = 15000;
  uint64_t max_message_bytes = 0;
  uint64_t server_time_ms = 0;
  bool data_statistics_wanted = false;  // 1.6: answer with DataStatistics
  EligibilityRule eligibility;        // 1.6: when the device must not train (all off from 1.5)
  bool operator==(const Welcome&) const = default;
};

struct PalsgdSettings {
  float p = 0.0f;                     // probability of a pull step
  float rho = 0.0f;                   // pull strength toward the global copy
  uint32_t h = 0;                     // local steps per synchronisation
  uint32_t warmup_steps = 0;
  bool operator==(const PalsgdSettings&) const = default;
};

struct AdaptiveBatchSettings {
  float theta = 0.5f;                 // inner-product test theta (augmented test)
  float eta = 0.1f;                   // norm test eta
  uint32_t batch_cap = 1024;
  uint32_t test_interval = 0;         // local steps between tests; 0: last step of each task
  uint8_t test = 1;                   // edgefl::BatchTest: 1 norm, 2 augmented inner product
  float nu = 1.0f;                    // orthogonality test nu (augmented test)
  uint8_t lr_scaling = 0;             // 1.4: edgefl::LrScaling: 0 none, 1 sqrt, 2 linear
  float max_lr = 0.0f;                // 1.4: cap of the scaled lr; 0: no cap
  uint8_t interval_clock = 0;         // 1.4: edgefl::IntervalClock: 0 device steps, 1 task steps
  bool operator==(const AdaptiveBatchSettings&) const = default;
};

struct TaskConfig {
  OptimizerKind optimizer = OptimizerKind::sgd;
  float lr = 0.01f;
  float momentum = 0.0f;
  float weight_decay = 0.0f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  uint32_t batch_size = 32;
  uint32_t local_steps = 0;           // 0: run local_epochs instead
  uint32_t local_epochs = 1;
  CodecConfig upload;
  uint64_t seed = 0;
  uint32_t deadline_ms = 0;           // relative to receipt; 0 = none
  std::optional<PalsgdSettings> palsgd = {};
  std::optional<AdaptiveBatchSettings> adaptive_batch = {};
  // 1.4: the inner lr schedule over global steps; this task's first global step.
  LrSchedule lr_schedule;             // kind, warm-up and total steps (uint32 on the wire), lr_min
  uint64_t start_step = 0;
  bool keep_optimizer_state = false;  // 1.4: continue the inner optimizer state of the last task
  float clip_norm = 0.0f;             // 1.4: per-step gradient L2 clip (0: off)
  bool gradient_only = false;         // 1.4: a synchronous gradient step (docs/protocol.md)
  bool operator==(const TaskConfig&) const = default;
};

struct Task {
  uint64_t task_id = 0;
  uint64_t round = 0;
  uint64_t model_version = 0;
  std::string model_spec;             // ModelSpec text
  TaskConfig config;
  TensorView params;                  // global parameters
  uint64_t run_id = 0;                // 1.2: the server's run (Updates echo it)
  uint32_t base_hash = 0;             // 1.2: model_hash(params) (Updates echo it)
  // 1.4: the inner optimizer state to start from (parameter_count 0: absent), sent in the
  // first task after a gradient warm-up; optimizer_state_floats(config.optimizer, P) values.
  TensorView optimizer_state;
  uint64_t optimizer_steps = 0;
  // 1.5: indices of the layers whose parameters train, ascending, each a layer with parameters;
  // empty: every layer trains. Parameters of the other layers stay frozen at `params`, and the
  // Update carries only the trainable ones (TrainableSlices, docs/protocol.md §11.9).
  std::vector<uint32_t> trainable_layers;
  // 1.6: (x - mean) / deviation for every feature of the device's data, training and
  // evaluation alike (docs/standardization.md); empty: the data as loaded.
  Standardization standardization;
};

struct UpdateMetrics {
  float train_loss = 0.0f;
  uint32_t steps = 0;
  std::vector<uint32_t> batch_sizes;  // batch size trajectory
  uint32_t partial_updates = 0;  // 1.7: updates cut short by the Task's deadline (a relay: summed)
  bool operator==(const UpdateMetrics&) const = default;
};

// 1.7: what a relay sends upstream instead of a delta: the exact fixed-point sum of its devices'
// weighted deltas (ExactMean::Sum per parameter) and its total weight. Adding sums is exact and
// order-free, so the upstream's mean is bit for bit the one it would compute from the devices.
struct PartialSum {
  std::vector<int64_t> high;  // per parameter, signed high words (units of 2^-6)
  std::vector<uint64_t> low;  // per parameter, low words (units of 2^-70)
  uint64_t total_weight = 0;
  uint64_t update_count = 0;  // device updates folded; 0: no partial sum
  bool present() const { return update_count != 0; }
  bool operator==(const PartialSum&) const = default;
};

struct Update {
  uint64_t update_id = 0;             // chosen by the device, unique per device
  uint64_t task_id = 0;
  uint64_t round = 0;
  uint64_t base_version = 0;
  uint64_t sample_count = 0;
  UpdateMetrics metrics;
  TensorView payload;                 // delta = local - global
  uint64_t run_id = 0;                // 1.2: the Task's run_id (0 from a 1.1 device)
  uint32_t base_hash = 0;             // 1.2: the Task's base_hash
  PartialSum partial_sum;             // 1.7: a relay's partial sum (payload then empty)
};

struct Ack {
  uint64_t update_id = 0;
  uint64_t round = 0;
  AckStatus status = AckStatus::accepted;
  bool operator==(const Ack&) const = default;
};

struct Reject {
  StatusCode reason = StatusCode::internal;
  std::string message;
  std::optional<uint64_t> update_id = {};// set when the rejection is about one update
  bool operator==(const Reject&) const = default;
};

struct Heartbeat {
  uint64_t sequence = 0;
  uint64_t sender_time_ms = 0;
  uint64_t working_on = 0;            // device: the task it is training (0: idle)
  uint32_t ineligible = 0;            // 1.6, device: kIneligible* bits of why it must not train
  bool operator==(const Heartbeat&) const = default;
};

struct Bye {
  ByeReason reason = ByeReason::shutdown;
  std::string message;
  bool operator==(const Bye&) const = default;
};

// 1.6: a device's answer to Welcome::data_statistics_wanted: the moments of its local data as
// loaded, per input feature (count = its sample count).
struct DataStatistics {
  FeatureMoments moments;
  bool operator==(const DataStatistics&) const = default;
};

// 1.6, decentralised training (dpsgd, docs/protocol.md §14): the server places a device in a
// topology, devices exchange models with their neighbours and report scalars to the server.
struct PeerNeighbour {
  std::string device_id;              // the sender id of its PeerModels
  std::string endpoint;               // its peer socket
  std::string public_key;             // CURVE public key, Z85; empty: plaintext
  double weight = 0.0;                // W_jk
  bool operator==(const PeerNeighbour&) const = default;
};

inline constexpr uint8_t kTopologyKindCount = 3;  // edgefl::TopologyKind: ring, torus, exponential

struct PeerAssignment {
  uint64_t epoch = 0;                 // from 1; grows with every re-wire
  uint8_t topology = 0;               // edgefl::TopologyKind
  double self_weight = 1.0;           // W_jj
  std::vector<PeerNeighbour> neighbours;
  uint32_t step_deadline_ms = 0;
  uint32_t staleness_bound = 0;
  uint32_t report_interval = 1;
  uint32_t snapshot_interval = 0;     // 0: no snapshots
  Task start;                         // model, training config, initial parameters, run id
};

struct PeerModel {
  std::string sender;
  uint64_t epoch = 0;
  uint64_t step = 0;
  bool missed_previous = false;       // the sender missed the receiver's model of step - 1
  TensorView params;                  // dense (f32, f16, int8_block)
  uint64_t run_id = 0;
};

struct PeerReport {
  uint64_t epoch = 0;
  uint64_t step = 0;
  float train_loss = 0.0f;
  std::vector<std::string> neighbours;
  std::vector<double> squared_distances;  // one per neighbour
  uint64_t missed = 0;
  uint64_t one_sided_misses = 0;
  uint64_t refused = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  TensorView snapshot;                // parameter_count 0: none
};

// Alternatives in wire order (the FlatBuffers union type is index + 1).
using Message = std::variant<Join, Welcome, Task, Update, Ack, Reject, Heartbeat, Bye, DataStatistics,
                             PeerAssignment, PeerModel, PeerReport>;

enum class MessageType : uint8_t {
  join = 1,
  welcome,
  task,
  update,
  ack,
  reject,
  heartbeat,
  bye,
  data_statistics,
  peer_assignment,
  peer_model,
  peer_report
};
MessageType message_type(const Message& message);
std::string_view message_type_name(MessageType type);

}  // namespace edgefl
