#include "validate.hpp"

#include <cmath>
#include <string>

#include "edgefl/base/trainable.hpp"
#include "edgefl/optim/optimizer.hpp"

namespace edgefl::proto_detail {
namespace {

constexpr uint32_t kMaxCores = 4096;
constexpr uint32_t kMaxBatch = 1u << 20;
// Capabilities.backend: 0 unknown, else edgefl::Backend + 1 (reference, xnnpack, direct).
constexpr uint8_t kMaxBackendCode = 3;

Status out_of_range(std::string_view what, std::string_view rule) {
  return Status(StatusCode::out_of_range, std::string(what) + " must be " + std::string(rule));
}

Status check_finite(float value, std::string_view what) {
  if (!std::isfinite(value)) return Status(StatusCode::non_finite, std::string(what) + " is NaN or Inf");
  return Status();
}

// value finite and lo <= value < hi (or <= hi when hi_inclusive)
Status check_float(float value, std::string_view what, float lo, float hi, bool hi_inclusive,
                   std::string_view rule) {
  EDGEFL_RETURN_IF_ERROR(check_finite(value, what));
  const bool below_hi = hi_inclusive ? value <= hi : value < hi;
  if (!(value >= lo && below_hi)) return out_of_range(what, rule);
  return Status();
}

Status check_enum(uint8_t raw, uint8_t count, std::string_view what) {
  if (raw >= count) {
    return Status(StatusCode::unknown_enum, std::string(what) + " has unknown value " + std::to_string(raw));
  }
  return Status();
}

Status check_codec_list(const std::vector<CodecKind>& codecs, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(check_list(codecs.size(), "capabilities.codecs", limits));
  for (CodecKind codec : codecs) {
    EDGEFL_RETURN_IF_ERROR(check_enum(static_cast<uint8_t>(codec), kCodecKindCount, "capabilities.codecs"));
  }
  return Status();
}

Status validate(const Join& join, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(check_string(join.device_id, "join.device_id", limits));
  const Capabilities& caps = join.capabilities;
  EDGEFL_RETURN_IF_ERROR(check_string(caps.arch, "capabilities.arch", limits));
  EDGEFL_RETURN_IF_ERROR(check_string(caps.software_version, "capabilities.software_version", limits));
  if (caps.cores == 0 || caps.cores > kMaxCores) return out_of_range("capabilities.cores", "in 1..4096");
  if (caps.max_micro_batch > kMaxBatch) return out_of_range("capabilities.max_micro_batch", "<= 2^20");
  if (caps.backend > kMaxBackendCode) return out_of_range("capabilities.backend", "0..3");
  EDGEFL_RETURN_IF_ERROR(check_string(join.peer_endpoint, "join.peer_endpoint", limits));
  return check_codec_list(caps.codecs, limits);
}

Status validate(const Welcome& welcome, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(check_string(welcome.device_id, "welcome.device_id", limits));
  if (welcome.heartbeat_interval_ms == 0) return out_of_range("welcome.heartbeat_interval_ms", "> 0");
  if (welcome.peer_timeout_ms < welcome.heartbeat_interval_ms) {
    return out_of_range("welcome.peer_timeout_ms", ">= heartbeat_interval_ms");
  }
  return check_eligibility_rule(welcome.eligibility, "welcome.eligibility");
}

Status validate(const TaskConfig& c, std::size_t parameter_count) {
  EDGEFL_RETURN_IF_ERROR(check_enum(static_cast<uint8_t>(c.optimizer), 4, "train.optimizer"));
  if (!(std::isfinite(c.lr))) return check_finite(c.lr, "train.lr");
  if (!(c.lr > 0.0f)) return out_of_range("train.lr", "> 0");
  EDGEFL_RETURN_IF_ERROR(check_float(c.momentum, "train.momentum", 0.0f, 1.0f, false, "in [0, 1)"));
  EDGEFL_RETURN_IF_ERROR(check_float(c.weight_decay, "train.weight_decay", 0.0f, 1.0f, true, "in [0, 1]"));
  EDGEFL_RETURN_IF_ERROR(check_float(c.beta1, "train.beta1", 0.0f, 1.0f, false, "in [0, 1)"));
  EDGEFL_RETURN_IF_ERROR(check_float(c.beta2, "train.beta2", 0.0f, 1.0f, false, "in [0, 1)"));
  EDGEFL_RETURN_IF_ERROR(check_finite(c.eps, "train.eps"));
  if (!(c.eps > 0.0f)) return out_of_range("train.eps", "> 0");
  // 0: the whole local data set every step (full-batch gradient descent).
  if (c.batch_size > kMaxBatch) return out_of_range("train.batch_size", "in 0..2^20");
  if (c.batch_size == 0 && c.adaptive_batch) return out_of_range("train.batch_size", "> 0 with an adaptive batch");
  if (c.local_steps == 0 && c.local_epochs == 0) {
    return out_of_range("train.local_steps/local_epochs", "not both 0");
  }
  EDGEFL_RETURN_IF_ERROR(check_enum(static_cast<uint8_t>(c.upload.kind), kCodecKindCount, "train.upload.codec"));
  Status codec = validate_codec_config(c.upload, parameter_count);
  if (!codec.ok()) return codec.with_context("train.upload");
  if (c.palsgd) {
    EDGEFL_RETURN_IF_ERROR(check_float(c.palsgd->p, "palsgd.p", 0.0f, 1.0f, true, "in [0, 1]"));
    EDGEFL_RETURN_IF_ERROR(check_float(c.palsgd->rho, "palsgd.rho", 0.0f, 1.0f, true, "in [0, 1]"));
    if (c.palsgd->h == 0) return out_of_range("palsgd.h", ">= 1");
  }
  if (c.adaptive_batch) {
    const AdaptiveBatchSettings& a = *c.adaptive_batch;
    EDGEFL_RETURN_IF_ERROR(check_finite(a.theta, "adaptive_batch.theta"));
    EDGEFL_RETURN_IF_ERROR(check_finite(a.eta, "adaptive_batch.eta"));
    if (!(a.theta > 0.0f)) return out_of_range("adaptive_batch.theta", "> 0");
    if (!(a.eta > 0.0f)) return out_of_range("adaptive_batch.eta", "> 0");
    if (a.batch_cap == 0 || a.batch_cap > kMaxBatch) return out_of_range("adaptive_batch.batch_cap", "in 1..2^20");
    EDGEFL_RETURN_IF_ERROR(check_finite(a.nu, "adaptive_batch.nu"));
    if (!(a.nu > 0.0f)) return out_of_range("adaptive_batch.nu", "> 0");
    if (a.test > 2) {
      return Status(StatusCode::unknown_enum, "adaptive_batch.test " + std::to_string(a.test) + " is unknown");
    }
    if (a.lr_scaling > 2) {
      return Status(StatusCode::unknown_enum, "adaptive_batch.lr_scaling " + std::to_string(a.lr_scaling) + " is unknown");
    }
    if (a.interval_clock > 1) {
      return Status(StatusCode::unknown_enum,
                    "adaptive_batch.interval_clock " + std::to_string(a.interval_clock) + " is unknown");
    }
    EDGEFL_RETURN_IF_ERROR(check_finite(a.max_lr, "adaptive_batch.max_lr"));
    if (!(a.max_lr >= 0.0f)) return out_of_range("adaptive_batch.max_lr", ">= 0 (0: no cap)");
    if (a.max_lr > 0.0f && a.max_lr < c.lr) return out_of_range("adaptive_batch.max_lr", "0 or >= lr");
  }
  EDGEFL_RETURN_IF_ERROR(check_enum(static_cast<uint8_t>(c.lr_schedule.kind), 3, "train.lr_schedule"));
  EDGEFL_RETURN_IF_ERROR(check_finite(c.lr_schedule.min_lr, "train.lr_min"));
  Status schedule = validate(c.lr_schedule, c.lr);
  if (!schedule.ok()) return Status(StatusCode::out_of_range, schedule.message());
  EDGEFL_RETURN_IF_ERROR(check_finite(c.clip_norm, "train.clip_norm"));
  if (c.clip_norm < 0.0f) return out_of_range("train.clip_norm", ">= 0");
  return Status();
}

Status validate(const Task& task, const DecodeLimits& limits) {
  Result<ModelSpec> spec = check_spec_and_tensor(task.model_spec, task.params, "task.params", limits);
  if (!spec) return spec.status();
  Status trainable = check_trainable(task.trainable_layers, *spec);
  if (!trainable.ok()) return trainable.with_context("task.trainable_layers");
  // The upload codec and the optimizer state cover the trainable parameters only.
  const std::size_t trained = TrainableSlices(*spec, task.trainable_layers).count();
  EDGEFL_RETURN_IF_ERROR(validate(task.config, trained));
  if (!task.standardization.empty()) {
    EDGEFL_RETURN_IF_ERROR(
        check_list(task.standardization.mean.size(), "task.standardization.mean", limits));
    Status standardization = check_standardization(task.standardization, spec->input_size());
    if (!standardization.ok()) return standardization.with_context("task.standardization");
  }
  if (task.optimizer_state.parameter_count == 0) return Status();
  Status shape = check_tensor_shape(task.optimizer_state);
  if (!shape.ok()) return shape.with_context("task.optimizer_state");
  const std::size_t floats = optimizer_state_floats(task.config.optimizer, trained);
  if (task.optimizer_state.kind != CodecKind::f32 || task.optimizer_state.parameter_count != floats) {
    return Status(StatusCode::shape_mismatch, "task.optimizer_state must be " + std::to_string(floats) +
                                                  " f32 values for this optimizer and model, got " +
                                                  std::to_string(task.optimizer_state.parameter_count));
  }
  return Status();
}

Status validate_partial_sum(const Update& update, const DecodeLimits& limits) {
  const PartialSum& sum = update.partial_sum;
  if (sum.high.size() != sum.low.size()) {
    return Status(StatusCode::shape_mismatch,
                  "update.partial_sum has " + std::to_string(sum.high.size()) + " high words and " +
                      std::to_string(sum.low.size()) + " low words");
  }
  if (sum.high.empty()) return Status(StatusCode::shape_mismatch, "update.partial_sum is empty");
  if (sum.high.size() > limits.max_parameters) {
    return Status(StatusCode::too_large, "update.partial_sum has too many parameters");
  }
  if (update.payload.parameter_count != 0) {
    return Status(StatusCode::shape_mismatch,
                  "an update with a partial_sum carries no payload, got " +
                      std::to_string(update.payload.parameter_count) + " values");
  }
  if (sum.total_weight == 0) return out_of_range("update.partial_sum.total_weight", ">= 1");
  return Status();
}

Status validate(const Update& update, const DecodeLimits& limits) {
  if (update.sample_count == 0) return out_of_range("update.sample_count", ">= 1");
  EDGEFL_RETURN_IF_ERROR(check_finite(update.metrics.train_loss, "update.metrics.train_loss"));
  EDGEFL_RETURN_IF_ERROR(check_list(update.metrics.batch_sizes.size(), "update.metrics.batch_sizes", limits));
  Status shape = check_tensor_shape(update.payload);
  if (!shape.ok()) return shape.with_context("update.payload");
  if (update.payload.parameter_count > limits.max_parameters) {
    return Status(StatusCode::too_large, "update.payload has too many parameters");
  }
  if (update.partial_sum.present()) return validate_partial_sum(update, limits);
  return Status();
}

Status validate(const Ack& ack, const DecodeLimits&) {
  return check_enum(static_cast<uint8_t>(ack.status), 2, "ack.status");
}

Status validate(const Reject& reject, const DecodeLimits& limits) {
  if (status_code_name(reject.reason) == "unknown_status_code") {
    return Status(StatusCode::unknown_enum,
                  "reject.reason has unknown status code " + std::to_string(static_cast<int>(reject.reason)));
  }
  return check_string(reject.message, "reject.message", limits);
}

Status validate(const Heartbeat& heartbeat, const DecodeLimits&) {
  if ((heartbeat.ineligible & ~kIneligibleKnownBits) != 0) {
    return Status(StatusCode::unknown_enum,
                  "heartbeat.ineligible has unknown reason bits " + std::to_string(heartbeat.ineligible));
  }
  return Status();
}

Status validate(const DataStatistics& statistics, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(
      check_list(statistics.moments.mean.size(), "data_statistics.mean", limits));
  return check_moments(statistics.moments, "data_statistics");
}

// A mixing weight: finite and in [0, 1].
Status check_weight(double weight, std::string_view what) {
  if (!std::isfinite(weight)) return Status(StatusCode::non_finite, std::string(what) + " is NaN or Inf");
  if (!(weight >= 0.0 && weight <= 1.0)) return out_of_range(what, "in [0, 1]");
  return Status();
}

// Peer models carry whole parameter vectors: top-k (a sparse delta) has no meaning there.
Status check_dense(const TensorView& tensor, std::string_view what) {
  Status shape = check_tensor_shape(tensor);
  if (!shape.ok()) return shape.with_context(what);
  if (tensor.kind == CodecKind::topk) {
    return Status(StatusCode::out_of_range, std::string(what) + " must be dense (f32, f16 or int8_block), not topk");
  }
  return Status();
}

constexpr std::size_t kZ85KeyChars = 40;
// Row sums may differ from 1 by float rounding of weights like 1/3.
constexpr double kWeightSumTolerance = 1e-6;

Status validate(const PeerAssignment& a, const DecodeLimits& limits) {
  if (a.epoch == 0) return out_of_range("peer_assignment.epoch", ">= 1");
  EDGEFL_RETURN_IF_ERROR(check_enum(a.topology, kTopologyKindCount, "peer_assignment.topology"));
  EDGEFL_RETURN_IF_ERROR(check_weight(a.self_weight, "peer_assignment.self_weight"));
  EDGEFL_RETURN_IF_ERROR(check_list(a.neighbours.size(), "peer_assignment.neighbours", limits));
  double total = a.self_weight;
  for (std::size_t i = 0; i < a.neighbours.size(); ++i) {
    const PeerNeighbour& n = a.neighbours[i];
    EDGEFL_RETURN_IF_ERROR(check_string(n.device_id, "peer_neighbour.device_id", limits));
    EDGEFL_RETURN_IF_ERROR(check_string(n.endpoint, "peer_neighbour.endpoint", limits));
    if (n.device_id.empty()) return out_of_range("peer_neighbour.device_id", "non-empty");
    if (n.endpoint.empty()) return out_of_range("peer_neighbour.endpoint", "non-empty");
    if (!n.public_key.empty() && n.public_key.size() != kZ85KeyChars) {
      return out_of_range("peer_neighbour.public_key", "empty or 40 Z85 characters");
    }
    EDGEFL_RETURN_IF_ERROR(check_weight(n.weight, "peer_neighbour.weight"));
    for (std::size_t j = 0; j < i; ++j) {
      if (a.neighbours[j].device_id == n.device_id) {
        return Status(StatusCode::duplicate, "peer_assignment lists neighbour '" + n.device_id + "' twice");
      }
    }
    total += n.weight;
  }
  if (std::abs(total - 1.0) > kWeightSumTolerance) {
    return out_of_range("peer_assignment weights", "summing to 1 (they sum to " + std::to_string(total) + ")");
  }
  if (a.step_deadline_ms == 0) return out_of_range("peer_assignment.step_deadline_ms", "> 0");
  if (a.report_interval == 0) return out_of_range("peer_assignment.report_interval", ">= 1");
  Status start = validate(a.start, limits);
  if (!start.ok()) return start.with_context("peer_assignment.start");
  return check_dense(a.start.params, "peer_assignment.start.params");
}

Status validate(const PeerModel& m, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(check_string(m.sender, "peer_model.sender", limits));
  if (m.sender.empty()) return out_of_range("peer_model.sender", "non-empty");
  EDGEFL_RETURN_IF_ERROR(check_dense(m.params, "peer_model.params"));
  if (m.params.parameter_count == 0) return out_of_range("peer_model.params", "non-empty");
  if (m.params.parameter_count > limits.max_parameters) {
    return Status(StatusCode::too_large, "peer_model.params has too many parameters");
  }
  return Status();
}

Status validate(const PeerReport& r, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(check_finite(r.train_loss, "peer_report.train_loss"));
  EDGEFL_RETURN_IF_ERROR(check_list(r.neighbours.size(), "peer_report.neighbours", limits));
  if (r.squared_distances.size() != r.neighbours.size()) {
    return Status(StatusCode::shape_mismatch, "peer_report has " + std::to_string(r.squared_distances.size()) +
                                                  " distances for " + std::to_string(r.neighbours.size()) +
                                                  " neighbours");
  }
  for (const std::string& id : r.neighbours) EDGEFL_RETURN_IF_ERROR(check_string(id, "peer_report.neighbours", limits));
  for (double d : r.squared_distances) {
    if (!std::isfinite(d)) return Status(StatusCode::non_finite, "peer_report.squared_distances holds NaN or Inf");
    if (d < 0.0) return out_of_range("peer_report.squared_distances", ">= 0");
  }
  if (r.snapshot.parameter_count == 0) return Status();
  if (r.snapshot.parameter_count > limits.max_parameters) {
    return Status(StatusCode::too_large, "peer_report.snapshot has too many parameters");
  }
  return check_dense(r.snapshot, "peer_report.snapshot");
}

Status validate(const Bye& bye, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(check_enum(static_cast<uint8_t>(bye.reason), 4, "bye.reason"));
  return check_string(bye.message, "bye.message", limits);
}

}  // namespace

Status check_string(std::string_view text, std::string_view what, const DecodeLimits& limits) {
  if (text.size() > limits.max_string_bytes) {
    return Status(StatusCode::too_large, std::string(what) + " is " + std::to_string(text.size()) +
                                             " bytes, limit is " + std::to_string(limits.max_string_bytes));
  }
  return Status();
}

Status check_list(std::size_t entries, std::string_view what, const DecodeLimits& limits) {
  if (entries > limits.max_list_entries) {
    return Status(StatusCode::too_large, std::string(what) + " has " + std::to_string(entries) +
                                             " entries, limit is " + std::to_string(limits.max_list_entries));
  }
  return Status();
}

Result<ModelSpec> check_spec_and_tensor(std::string_view spec_text, const TensorView& tensor,
                                        std::string_view what, const DecodeLimits& limits) {
  EDGEFL_RETURN_IF_ERROR(check_string(spec_text, "model_spec", limits));
  Result<ModelSpec> spec = ModelSpec::parse(spec_text);
  if (!spec) return spec.status().with_context("model_spec");
  Status shape = check_tensor_shape(tensor);
  if (!shape.ok()) return shape.with_context(what);
  if (tensor.parameter_count != spec->parameter_count()) {
    return Status(StatusCode::shape_mismatch,
                  std::string(what) + " has " + std::to_string(tensor.parameter_count) +
                      " parameters, model " + std::string(spec_text) + " has " +
                      std::to_string(spec->parameter_count()));
  }
  return spec;
}

Status validate_message(const Message& message, const DecodeLimits& limits) {
  return std::visit([&](const auto& body) { return validate(body, limits); }, message);
}

}  // namespace edgefl::proto_detail
