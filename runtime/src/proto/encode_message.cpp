// Message -> size-prefixed FlatBuffer envelope.
#include <string>

#include "edgefl/proto/proto.hpp"
#include "edgefl/schema/wire_generated.h"
#include "model_table.hpp"
#include "tensor_table.hpp"
#include "validate.hpp"

namespace edgefl {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

template <typename E>
auto fb_enum(E value) {
  return static_cast<std::underlying_type_t<E>>(value);
}

Offset<void> write(FlatBufferBuilder& b, const Join& join) {
  const Capabilities& c = join.capabilities;
  std::vector<fb::Codec> codec_list;
  for (CodecKind codec : c.codecs) codec_list.push_back(static_cast<fb::Codec>(codec));
  const auto arch = b.CreateString(c.arch);
  const auto codecs = b.CreateVector(codec_list);
  const auto software = b.CreateString(c.software_version);
  const auto caps = fb::CreateCapabilities(b, arch, c.cores, c.memory_budget_bytes, c.max_micro_batch,
                                           c.sample_count, codecs, software, c.backend, c.dataset_bytes,
                                           c.process_bytes);
  const auto device_id = b.CreateString(join.device_id);
  const auto peer_endpoint = join.peer_endpoint.empty() ? 0 : b.CreateString(join.peer_endpoint);
  return fb::CreateJoin(b, device_id, caps, join.boot_counter, peer_endpoint, join.relay).Union();
}

Offset<void> write(FlatBufferBuilder& b, const Welcome& w) {
  const auto device_id = b.CreateString(w.device_id);
  const EligibilityRule& e = w.eligibility;
  // No table when every limit is off: what a 1.5 server sends, and what it reads as.
  Offset<fb::EligibilityRule> eligibility = 0;
  if (e != EligibilityRule{}) {
    eligibility = fb::CreateEligibilityRule(b, e.max_temperature_c, e.temperature_hysteresis_c, e.max_load_per_core,
                                            e.load_hysteresis, e.min_battery_percent, e.battery_hysteresis_percent,
                                            e.min_available_memory_bytes, e.memory_hysteresis_bytes);
  }
  return fb::CreateWelcome(b, device_id, w.server_session, w.heartbeat_interval_ms,
                           w.peer_timeout_ms, w.max_message_bytes, w.server_time_ms,
                           w.data_statistics_wanted, eligibility)
      .Union();
}

Offset<fb::TrainConfig> write_config(FlatBufferBuilder& b, const TaskConfig& c) {
  const auto upload = fb::CreateCodecConfig(b, static_cast<fb::Codec>(c.upload.kind),
                                            c.upload.int8_block_size, c.upload.topk_k,
                                            c.upload.topk_fraction);
  Offset<fb::PalsgdConfig> palsgd = 0;
  if (c.palsgd) {
    palsgd = fb::CreatePalsgdConfig(b, c.palsgd->p, c.palsgd->rho, c.palsgd->h, c.palsgd->warmup_steps);
  }
  Offset<fb::AdaptiveBatchConfig> adaptive = 0;
  if (c.adaptive_batch) {
    const AdaptiveBatchSettings& a = *c.adaptive_batch;
    adaptive = fb::CreateAdaptiveBatchConfig(b, a.theta, a.eta, a.batch_cap, a.test_interval, a.test, a.nu,
                                           a.lr_scaling, a.max_lr, a.interval_clock);
  }
  return fb::CreateTrainConfig(b, static_cast<fb::Optimizer>(c.optimizer), c.lr, c.momentum,
                               c.weight_decay, c.beta1, c.beta2, c.eps, c.batch_size, c.local_steps,
                               c.local_epochs, upload, c.seed, c.deadline_ms, palsgd, adaptive,
                               static_cast<uint8_t>(c.lr_schedule.kind),
                               static_cast<uint32_t>(c.lr_schedule.warmup_steps),
                               static_cast<uint32_t>(c.lr_schedule.total_steps), c.lr_schedule.min_lr, c.start_step,
                               c.keep_optimizer_state, c.clip_norm, c.gradient_only);
}

// Fields of a later minor than `version` are left out (golden buffers of older versions).
Offset<fb::Task> write_task(FlatBufferBuilder& b, const Task& task, uint16_t version) {
  const auto params = proto_detail::write_tensor(b, task.params);
  const auto config = write_config(b, task.config);
  const auto spec = b.CreateString(task.model_spec);
  flatbuffers::Offset<fb::EncodedTensor> state = 0;
  if (task.optimizer_state.parameter_count > 0) state = proto_detail::write_tensor(b, task.optimizer_state);
  Offset<fb::Model> model = 0;
  Offset<flatbuffers::Vector<uint32_t>> trainable = 0;
  if (version >= 0x0105) {
    Result<ModelSpec> parsed = ModelSpec::parse(task.model_spec);  // validate_message accepted it
    if (parsed) model = proto_detail::write_model(b, *parsed);
    if (!task.trainable_layers.empty()) trainable = b.CreateVector(task.trainable_layers);
  }
  Offset<fb::Standardization> standardization = 0;
  if (version >= 0x0106 && !task.standardization.empty()) {
    const auto mean = b.CreateVector(task.standardization.mean);
    const auto deviation = b.CreateVector(task.standardization.deviation);
    standardization = fb::CreateStandardization(b, mean, deviation);
  }
  return fb::CreateTask(b, task.task_id, task.round, task.model_version, spec, params, config,
                        task.run_id, task.base_hash, state, task.optimizer_steps, model, trainable,
                        standardization);
}

Offset<void> write(FlatBufferBuilder& b, const Task& task, uint16_t version) {
  return write_task(b, task, version).Union();
}

Offset<void> write(FlatBufferBuilder& b, const PeerAssignment& a, uint16_t version) {
  std::vector<Offset<fb::PeerNeighbour>> neighbours;
  for (const PeerNeighbour& n : a.neighbours) {
    neighbours.push_back(fb::CreatePeerNeighbour(b, b.CreateString(n.device_id), b.CreateString(n.endpoint),
                                                 b.CreateString(n.public_key), n.weight));
  }
  const auto list = b.CreateVector(neighbours);
  const auto start = write_task(b, a.start, version);
  return fb::CreatePeerAssignment(b, a.epoch, a.topology, a.self_weight, list, a.step_deadline_ms, a.staleness_bound,
                                  a.report_interval, a.snapshot_interval, start)
      .Union();
}

Offset<void> write(FlatBufferBuilder& b, const PeerModel& m) {
  const auto sender = b.CreateString(m.sender);
  const auto params = proto_detail::write_tensor(b, m.params);
  return fb::CreatePeerModel(b, sender, m.epoch, m.step, m.missed_previous, params, m.run_id).Union();
}

Offset<void> write(FlatBufferBuilder& b, const PeerReport& r) {
  std::vector<Offset<flatbuffers::String>> ids;
  for (const std::string& id : r.neighbours) ids.push_back(b.CreateString(id));
  const auto neighbours = b.CreateVector(ids);
  const auto distances = b.CreateVector(r.squared_distances);
  Offset<fb::EncodedTensor> snapshot = 0;
  if (r.snapshot.parameter_count > 0) snapshot = proto_detail::write_tensor(b, r.snapshot);
  return fb::CreatePeerReport(b, r.epoch, r.step, r.train_loss, neighbours, distances, r.missed, r.one_sided_misses,
                              r.refused, r.bytes_sent, r.bytes_received, snapshot)
      .Union();
}

Offset<void> write(FlatBufferBuilder& b, const Update& u) {
  const auto payload = proto_detail::write_tensor(b, u.payload);
  const auto batch_sizes = b.CreateVector(u.metrics.batch_sizes);
  const auto metrics = fb::CreateMetrics(b, u.metrics.train_loss, u.metrics.steps, batch_sizes,
                                         u.metrics.partial_updates);
  Offset<fb::PartialSum> partial = 0;
  if (u.partial_sum.present()) {
    const PartialSum& p = u.partial_sum;
    const auto high = b.CreateVector(p.high);
    const auto low = b.CreateVector(p.low);
    partial = fb::CreatePartialSum(b, high, low, p.total_weight, p.update_count);
  }
  return fb::CreateUpdate(b, u.update_id, u.task_id, u.round, u.base_version, u.sample_count,
                          metrics, payload, u.run_id, u.base_hash, partial)
      .Union();
}

Offset<void> write(FlatBufferBuilder& b, const Ack& ack) {
  return fb::CreateAck(b, ack.update_id, ack.round, static_cast<fb::AckStatus>(ack.status)).Union();
}

Offset<void> write(FlatBufferBuilder& b, const Reject& r) {
  const auto text = b.CreateString(r.message);
  return fb::CreateReject(b, fb_enum(r.reason), text,
                                r.update_id ? flatbuffers::Optional<uint64_t>(*r.update_id)
                                            : flatbuffers::Optional<uint64_t>(flatbuffers::nullopt))
      .Union();
}

Offset<void> write(FlatBufferBuilder& b, const Heartbeat& h) {
  return fb::CreateHeartbeat(b, h.sequence, h.sender_time_ms, h.working_on, h.ineligible).Union();
}

Offset<void> write(FlatBufferBuilder& b, const Bye& bye) {
  const auto text = b.CreateString(bye.message);
  return fb::CreateBye(b, static_cast<fb::ByeReason>(bye.reason), text).Union();
}

Offset<void> write(FlatBufferBuilder& b, const DataStatistics& statistics) {
  const auto mean = b.CreateVector(statistics.moments.mean);
  const auto m2 = b.CreateVector(statistics.moments.m2);
  return fb::CreateDataStatistics(b, statistics.moments.count, mean, m2).Union();
}

template <typename M>
Offset<void> write(FlatBufferBuilder& b, const M& message, uint16_t) {
  return write(b, message);
}

std::size_t size_hint(const Message& message) {
  constexpr std::size_t kHeaderBytes = 1024;
  if (const auto* task = std::get_if<Task>(&message)) {
    return kHeaderBytes + proto_detail::tensor_bytes(task->params) + proto_detail::tensor_bytes(task->optimizer_state);
  }
  if (const auto* update = std::get_if<Update>(&message)) {
    return kHeaderBytes + proto_detail::tensor_bytes(update->payload) +
           update->metrics.batch_sizes.size() * sizeof(uint32_t) +
           update->partial_sum.high.size() * 2 * sizeof(uint64_t);
  }
  if (const auto* statistics = std::get_if<DataStatistics>(&message)) {
    return kHeaderBytes + 2 * statistics->moments.mean.size() * sizeof(double);
  }
  if (const auto* model = std::get_if<PeerModel>(&message)) return kHeaderBytes + proto_detail::tensor_bytes(model->params);
  if (const auto* assignment = std::get_if<PeerAssignment>(&message)) {
    return kHeaderBytes * (1 + assignment->neighbours.size()) + proto_detail::tensor_bytes(assignment->start.params);
  }
  if (const auto* report = std::get_if<PeerReport>(&message)) {
    return kHeaderBytes * (1 + report->neighbours.size()) + proto_detail::tensor_bytes(report->snapshot);
  }
  return kHeaderBytes;
}

}  // namespace

Result<std::vector<uint8_t>> encode_message(const Message& message, uint16_t version) {
  DecodeLimits sender_limits;  // the defaults are what every receiver accepts at least
  Status valid = proto_detail::validate_message(message, sender_limits);
  if (!valid.ok()) {
    return valid.with_context("encoding " + std::string(message_type_name(message_type(message))));
  }
  // Leaving a partial sum out would turn it into an empty update: an older peer cannot take one.
  if (const auto* update = std::get_if<Update>(&message);
      update != nullptr && update->partial_sum.present() && version < 0x0107) {
    return Status(StatusCode::version_mismatch,
                  "a partial-sum update needs protocol 1.7; the peer speaks " +
                      std::to_string(version >> 8) + "." + std::to_string(version & 0xff));
  }
  try {
    FlatBufferBuilder builder(size_hint(message));
    const Offset<void> body = std::visit([&](const auto& m) { return write(builder, m, version); }, message);
    const auto envelope = fb::CreateEnvelope(
        builder, version, static_cast<fb::Message>(message.index() + 1), body);
    fb::FinishSizePrefixedEnvelopeBuffer(builder, envelope);
    if (builder.GetSize() > sender_limits.max_message_bytes) {
      return Status(StatusCode::too_large, "encoded message of " + std::to_string(builder.GetSize()) +
                                               " bytes exceeds the protocol limit");
    }
    return std::vector<uint8_t>(builder.GetBufferPointer(), builder.GetBufferPointer() + builder.GetSize());
  } catch (const std::exception& e) {  // allocation failure inside FlatBuffers
    return Status(StatusCode::resource_exhausted, std::string("encoding message: ") + e.what());
  }
}

}  // namespace edgefl
