// Size-prefixed FlatBuffer envelope -> DecodedMessage (checked; payload left as a view).
#include <string>

#include "edgefl/proto/proto.hpp"
#include "edgefl/schema/wire_generated.h"
#include "framing.hpp"
#include "model_table.hpp"
#include "read_helpers.hpp"
#include "tensor_table.hpp"
#include "validate.hpp"

namespace edgefl {
namespace {

using proto_detail::missing;
using proto_detail::read_list;
using proto_detail::read_string;

constexpr proto_detail::Format kWireFormat{"EFLW", "message", kProtocolMajor};

Result<Message> read(const fb::Join& in, const DecodeLimits& limits) {
  Join join;
  EDGEFL_ASSIGN(join.device_id, read_string(in.device_id(), "join.device_id", limits));
  join.boot_counter = in.boot_counter();
  const fb::Capabilities* caps = in.capabilities();
  if (caps == nullptr) return missing("join.capabilities");
  Capabilities& c = join.capabilities;
  EDGEFL_ASSIGN(c.arch, read_string(caps->arch(), "capabilities.arch", limits));
  c.cores = caps->cores();
  c.memory_budget_bytes = caps->memory_budget_bytes();
  c.max_micro_batch = caps->max_micro_batch();
  c.sample_count = caps->sample_count();
  EDGEFL_ASSIGN(c.codecs, (read_list<CodecKind>(caps->codecs(), "capabilities.codecs", limits)));
  EDGEFL_ASSIGN(c.software_version,
                read_string(caps->software_version(), "capabilities.software_version", limits));
  c.backend = caps->backend();
  c.dataset_bytes = caps->dataset_bytes();
  c.process_bytes = caps->process_bytes();
  EDGEFL_ASSIGN(join.peer_endpoint, read_string(in.peer_endpoint(), "join.peer_endpoint", limits));
  join.relay = in.relay();
  return Message(std::move(join));
}

Result<Message> read(const fb::Welcome& in, const DecodeLimits& limits) {
  Welcome w;
  EDGEFL_ASSIGN(w.device_id, read_string(in.device_id(), "welcome.device_id", limits));
  w.server_session = in.server_session();
  w.heartbeat_interval_ms = in.heartbeat_interval_ms();
  w.peer_timeout_ms = in.peer_timeout_ms();
  w.max_message_bytes = in.max_message_bytes();
  w.server_time_ms = in.server_time_ms();
  w.data_statistics_wanted = in.data_statistics_wanted();
  if (const fb::EligibilityRule* e = in.eligibility()) {
    w.eligibility = EligibilityRule{e->max_temperature_c(), e->temperature_hysteresis_c(),  e->max_load_per_core(),
                                    e->load_hysteresis(),   e->min_battery_percent(),       e->battery_hysteresis_percent(),
                                    e->min_available_memory_bytes(), e->memory_hysteresis_bytes()};
  }
  return Message(std::move(w));
}

TaskConfig read_config(const fb::TrainConfig& in) {
  TaskConfig c;
  c.optimizer = static_cast<OptimizerKind>(in.optimizer());
  c.lr = in.lr();
  c.momentum = in.momentum();
  c.weight_decay = in.weight_decay();
  c.beta1 = in.beta1();
  c.beta2 = in.beta2();
  c.eps = in.eps();
  c.batch_size = in.batch_size();
  c.local_steps = in.local_steps();
  c.local_epochs = in.local_epochs();
  if (const fb::CodecConfig* upload = in.upload()) {
    c.upload.kind = static_cast<CodecKind>(upload->codec());
    c.upload.int8_block_size = upload->int8_block_size();
    c.upload.topk_k = upload->topk_k();
    c.upload.topk_fraction = upload->topk_fraction();
  }
  c.seed = in.seed();
  c.deadline_ms = in.deadline_ms();
  if (const fb::PalsgdConfig* p = in.palsgd()) {
    c.palsgd = PalsgdSettings{p->p(), p->rho(), p->h(), p->warmup_steps()};
  }
  if (const fb::AdaptiveBatchConfig* a = in.adaptive_batch()) {
    c.adaptive_batch = AdaptiveBatchSettings{a->theta(), a->eta(), a->batch_cap(), a->test_interval(), a->test(),
                                             a->nu(),   a->lr_scaling(), a->max_lr(), a->interval_clock()};
  }
  c.lr_schedule = LrSchedule{static_cast<LrScheduleKind>(in.lr_schedule()), in.lr_warmup_steps(),
                             in.lr_total_steps(), in.lr_min()};
  c.start_step = in.start_step();
  c.keep_optimizer_state = in.keep_optimizer_state();
  c.clip_norm = in.clip_norm();
  c.gradient_only = in.gradient_only();
  return c;
}

// A 1.5 Task carries the model as a table and as text (for 1.4 peers); a table alone fills
// in the text, and both must describe the same model.
Status read_model_into(const fb::Model& table, std::string& spec_text, const DecodeLimits& limits) {
  Result<ModelSpec> from_table = proto_detail::read_model(table, limits);
  if (!from_table) return from_table.status();
  if (spec_text.empty()) {
    spec_text = from_table->to_string();
    return Status();
  }
  Result<ModelSpec> from_text = ModelSpec::parse(spec_text);
  if (!from_text) return from_text.status().with_context("task.model_spec");
  if (!(*from_text == *from_table)) {
    return Status(StatusCode::shape_mismatch, "task.model (" + from_table->to_string() +
                                                  ") and task.model_spec (" + spec_text +
                                                  ") describe different models");
  }
  return Status();
}

Result<Task> read_task(const fb::Task& in, const DecodeLimits& limits) {
  Task task;
  task.task_id = in.task_id();
  task.round = in.round();
  task.model_version = in.model_version();
  EDGEFL_ASSIGN(task.model_spec, read_string(in.model_spec(), "task.model_spec", limits));
  if (in.config() == nullptr) return missing("task.config");
  task.config = read_config(*in.config());
  EDGEFL_ASSIGN(task.params, proto_detail::read_tensor(in.params(), limits, "task.params"));
  task.run_id = in.run_id();
  task.base_hash = in.base_hash();
  if (in.optimizer_state() != nullptr) {
    EDGEFL_ASSIGN(task.optimizer_state,
                  proto_detail::read_tensor(in.optimizer_state(), limits, "task.optimizer_state"));
  }
  task.optimizer_steps = in.optimizer_steps();
  if (in.model() != nullptr) EDGEFL_RETURN_IF_ERROR(read_model_into(*in.model(), task.model_spec, limits));
  EDGEFL_ASSIGN(task.trainable_layers, (read_list<uint32_t>(in.trainable_layers(), "task.trainable_layers", limits)));
  if (const fb::Standardization* s = in.standardization()) {
    EDGEFL_ASSIGN(task.standardization.mean,
                  (read_list<double>(s->mean(), "task.standardization.mean", limits)));
    EDGEFL_ASSIGN(task.standardization.deviation,
                  (read_list<double>(s->deviation(), "task.standardization.deviation", limits)));
  }
  return task;
}

Result<Message> read(const fb::Task& in, const DecodeLimits& limits) {
  Result<Task> task = read_task(in, limits);
  if (!task) return task.status();
  return Message(std::move(*task));
}

Result<Message> read(const fb::PeerAssignment& in, const DecodeLimits& limits) {
  PeerAssignment a;
  a.epoch = in.epoch();
  a.topology = in.topology();
  a.self_weight = in.self_weight();
  if (const auto* list = in.neighbours()) {
    EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(list->size(), "peer_assignment.neighbours", limits));
    for (const fb::PeerNeighbour* n : *list) {
      if (n == nullptr) return missing("peer_assignment.neighbours entry");
      PeerNeighbour neighbour;
      EDGEFL_ASSIGN(neighbour.device_id, read_string(n->device_id(), "peer_neighbour.device_id", limits));
      EDGEFL_ASSIGN(neighbour.endpoint, read_string(n->endpoint(), "peer_neighbour.endpoint", limits));
      EDGEFL_ASSIGN(neighbour.public_key, read_string(n->public_key(), "peer_neighbour.public_key", limits));
      neighbour.weight = n->weight();
      a.neighbours.push_back(std::move(neighbour));
    }
  }
  a.step_deadline_ms = in.step_deadline_ms();
  a.staleness_bound = in.staleness_bound();
  a.report_interval = in.report_interval();
  a.snapshot_interval = in.snapshot_interval();
  if (in.start() == nullptr) return missing("peer_assignment.start");
  EDGEFL_ASSIGN(a.start, read_task(*in.start(), limits));
  return Message(std::move(a));
}

Result<Message> read(const fb::PeerModel& in, const DecodeLimits& limits) {
  PeerModel m;
  EDGEFL_ASSIGN(m.sender, read_string(in.sender(), "peer_model.sender", limits));
  m.epoch = in.epoch();
  m.step = in.step();
  m.missed_previous = in.missed_previous();
  EDGEFL_ASSIGN(m.params, proto_detail::read_tensor(in.params(), limits, "peer_model.params"));
  m.run_id = in.run_id();
  return Message(std::move(m));
}

Result<Message> read(const fb::PeerReport& in, const DecodeLimits& limits) {
  PeerReport r;
  r.epoch = in.epoch();
  r.step = in.step();
  r.train_loss = in.train_loss();
  if (const auto* ids = in.neighbours()) {
    EDGEFL_RETURN_IF_ERROR(proto_detail::check_list(ids->size(), "peer_report.neighbours", limits));
    for (const flatbuffers::String* id : *ids) {
      std::string text;
      EDGEFL_ASSIGN(text, read_string(id, "peer_report.neighbours", limits));
      r.neighbours.push_back(std::move(text));
    }
  }
  EDGEFL_ASSIGN(r.squared_distances,
                (read_list<double>(in.squared_distances(), "peer_report.squared_distances", limits)));
  r.missed = in.missed();
  r.one_sided_misses = in.one_sided_misses();
  r.refused = in.refused();
  r.bytes_sent = in.bytes_sent();
  r.bytes_received = in.bytes_received();
  if (in.snapshot() != nullptr) {
    EDGEFL_ASSIGN(r.snapshot, proto_detail::read_tensor(in.snapshot(), limits, "peer_report.snapshot"));
  }
  return Message(std::move(r));
}

Result<Message> read(const fb::Update& in, const DecodeLimits& limits) {
  Update u;
  u.update_id = in.update_id();
  u.task_id = in.task_id();
  u.round = in.round();
  u.base_version = in.base_version();
  u.sample_count = in.sample_count();
  if (const fb::Metrics* m = in.metrics()) {
    u.metrics.train_loss = m->train_loss();
    u.metrics.steps = m->steps();
    EDGEFL_ASSIGN(u.metrics.batch_sizes,
                  (read_list<uint32_t>(m->batch_sizes(), "update.metrics.batch_sizes", limits)));
    u.metrics.partial_updates = m->partial_updates();
  }
  EDGEFL_ASSIGN(u.payload, proto_detail::read_tensor(in.payload(), limits, "update.payload"));
  u.run_id = in.run_id();
  u.base_hash = in.base_hash();
  if (const fb::PartialSum* p = in.partial_sum()) {
    // A partial sum has one entry per parameter: bounded like a tensor, not like a short list.
    DecodeLimits sum_limits = limits;
    sum_limits.max_list_entries = limits.max_parameters;
    EDGEFL_ASSIGN(u.partial_sum.high,
                  (read_list<int64_t>(p->high(), "update.partial_sum.high", sum_limits)));
    EDGEFL_ASSIGN(u.partial_sum.low,
                  (read_list<uint64_t>(p->low(), "update.partial_sum.low", sum_limits)));
    u.partial_sum.total_weight = p->total_weight();
    u.partial_sum.update_count = p->update_count();
    if (u.partial_sum.update_count == 0) {
      return Status(StatusCode::out_of_range, "update.partial_sum.update_count must be >= 1");
    }
  }
  return Message(std::move(u));
}

Result<Message> read(const fb::Ack& in, const DecodeLimits&) {
  return Message(Ack{in.update_id(), in.round(), static_cast<AckStatus>(in.status())});
}

Result<Message> read(const fb::Reject& in, const DecodeLimits& limits) {
  Reject r;
  r.reason = static_cast<StatusCode>(in.reason());
  EDGEFL_ASSIGN(r.message, read_string(in.message(), "reject.message", limits));
  if (in.update_id()) r.update_id = *in.update_id();
  return Message(std::move(r));
}

Result<Message> read(const fb::Heartbeat& in, const DecodeLimits&) {
  return Message(Heartbeat{in.sequence(), in.sender_time_ms(), in.working_on(), in.ineligible()});
}

Result<Message> read(const fb::Bye& in, const DecodeLimits& limits) {
  Bye bye;
  bye.reason = static_cast<ByeReason>(in.reason());
  EDGEFL_ASSIGN(bye.message, read_string(in.message(), "bye.message", limits));
  return Message(std::move(bye));
}

Result<Message> read(const fb::DataStatistics& in, const DecodeLimits& limits) {
  DataStatistics statistics;
  statistics.moments.count = in.sample_count();
  EDGEFL_ASSIGN(statistics.moments.mean,
                (read_list<double>(in.mean(), "data_statistics.mean", limits)));
  EDGEFL_ASSIGN(statistics.moments.m2, (read_list<double>(in.m2(), "data_statistics.m2", limits)));
  return Message(std::move(statistics));
}

template <typename T>
Result<Message> read_body(const fb::Envelope& envelope, const DecodeLimits& limits) {
  const T* body = envelope.message_as<T>();
  if (body == nullptr) return missing("message body");
  return read(*body, limits);
}

Result<Message> read_message(const fb::Envelope& envelope, const DecodeLimits& limits) {
  switch (envelope.message_type()) {
    case fb::Message::NONE: return missing("message body");
    case fb::Message::Join: return read_body<fb::Join>(envelope, limits);
    case fb::Message::Welcome: return read_body<fb::Welcome>(envelope, limits);
    case fb::Message::Task: return read_body<fb::Task>(envelope, limits);
    case fb::Message::Update: return read_body<fb::Update>(envelope, limits);
    case fb::Message::Ack: return read_body<fb::Ack>(envelope, limits);
    case fb::Message::Reject: return read_body<fb::Reject>(envelope, limits);
    case fb::Message::Heartbeat: return read_body<fb::Heartbeat>(envelope, limits);
    case fb::Message::Bye: return read_body<fb::Bye>(envelope, limits);
    case fb::Message::DataStatistics:
      return read_body<fb::DataStatistics>(envelope, limits);
    case fb::Message::PeerAssignment: return read_body<fb::PeerAssignment>(envelope, limits);
    case fb::Message::PeerModel: return read_body<fb::PeerModel>(envelope, limits);
    case fb::Message::PeerReport: return read_body<fb::PeerReport>(envelope, limits);
  }
  return Status(StatusCode::unknown_enum,
                "unknown message type " + std::to_string(static_cast<int>(envelope.message_type())));
}

}  // namespace

Result<DecodedMessage> decode_message(std::span<const uint8_t> bytes, AlignedBytes& scratch,
                                      const DecodeLimits& limits) {
  Result<std::span<const uint8_t>> aligned = proto_detail::frame(bytes, scratch, limits, kWireFormat);
  if (!aligned) return aligned.status();
  EDGEFL_RETURN_IF_ERROR(proto_detail::verify<fb::Envelope>(
      *aligned, limits, kWireFormat, fb::Envelope::VT_VERSION));
  const fb::Envelope* envelope = fb::GetSizePrefixedEnvelope(aligned->data());

  DecodedMessage decoded;
  decoded.version = envelope->version();
  EDGEFL_ASSIGN(decoded.message, read_message(*envelope, limits));
  Status valid = proto_detail::validate_message(decoded.message, limits);
  if (!valid.ok()) return valid;
  return decoded;
}

}  // namespace edgefl
