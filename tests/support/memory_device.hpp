// MemoryDevice: a scripted device on a MemoryNetwork, for coordinator tests. It speaks the
// protocol by hand (Join, Update, Heartbeat) and reads back what the server sent.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coordinator.hpp"
#include "edgefl/store/fault_file_system.hpp"
#include "edgefl/net/memory_channel.hpp"
#include "edgefl/proto/proto.hpp"

namespace edgefl::testing {

class MemoryDevice {
 public:
  MemoryDevice(MemoryNetwork& net, std::string id) : net_(&net), id_(std::move(id)) { reconnect(); }

  const std::string& id() const { return id_; }
  // A new connection under a fresh routing id, as a DEALER gets after its link dropped.
  void reconnect() { link_ = net_->connect(id_ + "#" + std::to_string(++connections_)); }
  void cut() { net_->cut(id_ + "#" + std::to_string(connections_)); }

  // `version`: what the envelope says (an older peer's Join).
  void send(const Message& message, uint16_t version = kProtocolVersion) {
    Result<std::vector<uint8_t>> bytes = encode_message(message, version);
    REQUIRE(bytes.ok());
    REQUIRE(link_->send(*bytes).ok());
  }
  void join(uint16_t version = kProtocolVersion) {
    Join join;
    join.device_id = id_;
    join.capabilities.sample_count = 100;
    join.boot_counter = 1;
    send(join, version);
  }
  // `ineligible`: kIneligible* bits (protocol 1.6); 0 is what a 1.5 device always says.
  void heartbeat(uint64_t working_on, uint32_t ineligible = 0) {
    send(Heartbeat{++heartbeats_, 0, working_on, ineligible});
  }
  // Sends an update of `delta` for `task` (as received) with update id = task id.
  void answer(const Task& task, const std::vector<float>& delta, uint64_t samples = 100) {
    Update update;
    update.update_id = task.task_id;
    update.task_id = task.task_id;
    update.round = task.round;
    update.base_version = task.model_version;
    update.sample_count = samples;
    update.metrics.train_loss = 0.5f;
    update.metrics.steps = 1;
    update.payload = f32_tensor(delta);
    update.run_id = task.run_id;
    update.base_hash = task.base_hash;
    send(update);
  }

  // Every message waiting for this device, decoded (Tasks keep their ids, not their tensors).
  std::vector<Message> drain() {
    std::vector<Message> out;
    for (;;) {
      Result<std::optional<Bytes>> got = link_->receive(std::chrono::milliseconds(0));
      REQUIRE(got.ok());
      if (!got->has_value()) return out;
      AlignedBytes scratch;
      Result<DecodedMessage> decoded = decode_message(**got, scratch);
      REQUIRE(decoded.ok());
      if (Task* task = std::get_if<Task>(&decoded->message)) {
        task->params = TensorView{};
        if (task->optimizer_state.parameter_count > 0) {
          optimizer_state_.assign(task->optimizer_state.f32.begin(), task->optimizer_state.f32.end());
        }
        task->optimizer_state.f32 = {};  // the count stays; the values are in optimizer_state()
      }
      out.push_back(decoded->message);
    }
  }
  // The values of the last optimizer state a Task handed over.
  const std::vector<float>& optimizer_state() const { return optimizer_state_; }
  // The Tasks received so far and not yet taken.
  std::vector<Task> tasks() { return take<Task>(); }
  // The messages of type T received so far and not yet taken, in arrival order.
  template <typename T>
  std::vector<T> take() {
    for (Message& m : drain()) kept_.push_back(std::move(m));
    std::vector<T> found;
    for (auto it = kept_.begin(); it != kept_.end();) {
      if (T* hit = std::get_if<T>(&*it)) {
        found.push_back(*hit);
        it = kept_.erase(it);
      } else {
        ++it;
      }
    }
    return found;
  }

 private:
  MemoryNetwork* net_;
  std::string id_;
  int connections_ = 0;
  uint64_t heartbeats_ = 0;
  std::unique_ptr<DeviceChannel> link_;
  std::deque<Message> kept_;
  std::vector<float> optimizer_state_;
};

// A server on an in-memory file system and network, with a clock that moves only as the
// coordinator waits on an empty channel.
struct MemoryServer {
  ManualTimeSource clock;
  MemoryNetwork net{&clock};
  FaultFileSystem fs;
  std::vector<std::string> log;
  std::unique_ptr<server::Coordinator> coordinator;

  static server::ServerConfig config(const std::string& strategy = "fedavg") {
    server::ServerConfig c;
    c.model = "linear:4-1";
    c.data = "none";
    c.eval_samples = 0;
    c.strategy.name = strategy;
    c.state_dir = "/state";
    c.heartbeat_s = 1;
    c.quiet = true;
    return c;
  }

  // initial_model: the coordinator's starting model (empty: from the spec and the seed).
  Status start(server::ServerConfig c, std::span<const float> initial_model = {}) {
    if (!initial_model.empty()) c.initial_params.assign(initial_model.begin(), initial_model.end());
    Result<std::unique_ptr<server::Coordinator>> created = server::Coordinator::create(
        c, fs, [this](const std::string& line) { log.push_back(line); }, clock);
    if (!created) return created.status();
    coordinator = std::move(*created);
    return Status();
  }
  // Handles everything queued, then lets `span` of time pass in 10 ms polls.
  void run_for(std::chrono::milliseconds span) {
    const SteadyTime until = clock.now() + span;
    while (clock.now() < until) REQUIRE(coordinator->poll(net.server(), std::chrono::milliseconds(10)).ok());
  }
  void deliver() { run_for(std::chrono::milliseconds(10)); }
};

}  // namespace edgefl::testing
