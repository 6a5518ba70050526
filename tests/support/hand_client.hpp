// A hand-made device: a DEALER link (edgefl::DeviceTransport) that sends whatever message a
// test builds with encode_message and waits for the reply of a given type.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "edgefl/net/net_context.hpp"
#include "edgefl/proto/proto.hpp"
#include "edgefl/net/zmq_transport.hpp"

namespace edgefl::testing {

class HandClient {
 public:
  HandClient(NetContext& context, const std::string& endpoint) {
    SocketPolicy policy;
    policy.time_scale = 0.1;
    auto link = DeviceTransport::connect(context, endpoint, policy, DeviceSecurity{});
    if (link) link_ = std::move(*link);
  }
  bool ok() const { return link_ != nullptr; }

  Status send(const Message& message) {
    Result<std::vector<uint8_t>> bytes = encode_message(message);
    if (!bytes) return bytes.status();
    return send_raw(*bytes);
  }
  Status send_raw(ByteView bytes) { return link_->send(bytes); }

  // The next message of `type` within `limit` (others, e.g. heartbeats, are skipped).
  std::optional<Bytes> expect(MessageType type, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      Result<std::optional<Bytes>> got = link_->receive(std::chrono::milliseconds(20));
      if (!got || !got->has_value()) continue;
      AlignedBytes scratch;
      Result<DecodedMessage> decoded = decode_message(**got, scratch);
      if (decoded && decoded->type() == type) return std::move(**got);
    }
    return std::nullopt;
  }

  Status join(const std::string& id) {
    Join join;
    join.device_id = id;
    join.capabilities.sample_count = 100;
    join.capabilities.software_version = "hand-made test client";
    return send(join);
  }

 private:
  std::unique_ptr<DeviceTransport> link_;
};

// Decodes `bytes` as message type T (copied out; TensorViews would dangle, so not for Task).
template <typename T>
std::optional<T> decode_as(const Bytes& bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  if (!decoded) return std::nullopt;
  const T* message = std::get_if<T>(&decoded->message);
  if (message == nullptr) return std::nullopt;
  return *message;
}

// The round, model version and parameter count of an encoded Task.
struct TaskFacts {
  uint64_t round = 0;
  uint64_t version = 0;
  std::vector<float> params;
};

inline std::optional<TaskFacts> task_facts(const Bytes& bytes) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(bytes, scratch);
  if (!decoded) return std::nullopt;
  const Task* task = std::get_if<Task>(&decoded->message);
  if (task == nullptr) return std::nullopt;
  TaskFacts facts{task->round, task->model_version, std::vector<float>(task->params.parameter_count)};
  if (!decoded->payload_into(facts.params).ok()) return std::nullopt;
  return facts;
}

// An Update whose delta is `delta` (the caller keeps `delta` alive until it is encoded).
inline Update make_update(uint64_t id, uint64_t round, uint64_t version, const std::vector<float>& delta) {
  Update update;
  update.update_id = id;
  update.task_id = round;
  update.round = round;
  update.base_version = version;
  update.sample_count = 100;
  update.metrics.train_loss = 1.0f;
  update.metrics.steps = 1;
  update.payload = f32_tensor(delta);
  return update;
}

}  // namespace edgefl::testing
