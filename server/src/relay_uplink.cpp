#include "relay_uplink.hpp"

namespace edgefl::server {

std::optional<UpstreamTask> RelayUplink::take_task() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<UpstreamTask> taken = std::move(task_);
  task_.reset();
  return taken;
}

void RelayUplink::release(uint64_t update_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  released_.push_back(update_id);
}

void RelayUplink::end(Status why) {
  std::lock_guard<std::mutex> lock(mutex_);
  end_status_ = std::move(why);
  ended_.store(true);
}

Status RelayUplink::end_status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return end_status_;
}

Status RelayUplink::turn(device::UpstreamSession& session) {
  std::vector<uint64_t> released;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    released.swap(released_);
  }
  for (uint64_t id : released) {
    Result<std::vector<std::byte>> bytes = outbox_->read(device::UpstreamSession::outbox_id(id));
    if (!bytes) continue;  // acknowledged already (a resend raced this turn)
    const ByteView update(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
    EDGEFL_RETURN_IF_ERROR(session.deliver(id, update));
  }
  return Status();
}

void RelayUplink::on_task(const Task& task, Bytes message) {
  UpstreamTask received{task, std::move(message), std::chrono::steady_clock::now()};
  received.task.params = TensorView{};
  received.task.optimizer_state = TensorView{};
  std::lock_guard<std::mutex> lock(mutex_);
  task_ = std::move(received);
}

}  // namespace edgefl::server
