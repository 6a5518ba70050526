// Message helpers that need no FlatBuffers: type tags and payload access.
#include "edgefl/proto/messages.hpp"

#include "edgefl/proto/proto.hpp"

namespace edgefl {

MessageType message_type(const Message& message) {
  return static_cast<MessageType>(message.index() + 1);
}

std::string_view message_type_name(MessageType type) {
  switch (type) {
    case MessageType::join: return "join";
    case MessageType::welcome: return "welcome";
    case MessageType::task: return "task";
    case MessageType::update: return "update";
    case MessageType::ack: return "ack";
    case MessageType::reject: return "reject";
    case MessageType::heartbeat: return "heartbeat";
    case MessageType::bye: return "bye";
    case MessageType::data_statistics: return "data_statistics";
    case MessageType::peer_assignment: return "peer_assignment";
    case MessageType::peer_model: return "peer_model";
    case MessageType::peer_report: return "peer_report";
  }
  return "unknown_message";
}

const TensorView* DecodedMessage::payload() const {
  if (const auto* task = std::get_if<Task>(&message)) return &task->params;
  if (const auto* update = std::get_if<Update>(&message)) return &update->payload;
  if (const auto* model = std::get_if<PeerModel>(&message)) return &model->params;
  if (const auto* assignment = std::get_if<PeerAssignment>(&message)) return &assignment->start.params;
  if (const auto* report = std::get_if<PeerReport>(&message)) {
    return report->snapshot.parameter_count > 0 ? &report->snapshot : nullptr;
  }
  return nullptr;
}

Status DecodedMessage::payload_into(std::span<float> out) const {
  const TensorView* tensor = payload();
  if (tensor == nullptr) {
    return Status(StatusCode::failed_precondition,
                  std::string(message_type_name(type())) + " carries no payload");
  }
  return decode_into(*tensor, out);
}

}  // namespace edgefl
