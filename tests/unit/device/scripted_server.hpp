// A scripted upstream server and a hand-driven UpstreamSession on a MemoryNetwork, for device
// session tests: the test plays the server message by message; time moves only as the session
// waits on an empty link.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgefl/codec/codec.hpp"
#include "edgefl/store/fault_file_system.hpp"
#include "edgefl/net/memory_channel.hpp"
#include "edgefl/store/outbox.hpp"
#include "edgefl/proto/proto.hpp"
#include "upstream_session.hpp"

namespace edgefl::testing {

using namespace std::chrono_literals;

// The server end: what devices sent, decoded, and replies to the last sender.
class ScriptedServer {
 public:
  explicit ScriptedServer(ServerChannel& channel) : channel_(&channel) {}

  // Sends to the device that spoke last.
  void send(const Message& message) {
    Result<std::vector<uint8_t>> bytes = encode_message(message);
    REQUIRE(bytes.ok());
    REQUIRE(channel_->send(peer_, *bytes).ok());
  }
  void welcome(uint32_t heartbeat_ms = 1000, uint32_t peer_timeout_ms = 60000, EligibilityRule rule = {}) {
    Welcome welcome;
    welcome.device_id = "dev";
    welcome.heartbeat_interval_ms = heartbeat_ms;
    welcome.peer_timeout_ms = peer_timeout_ms;
    welcome.eligibility = rule;
    send(welcome);
  }
  // A Task for a 4-parameter linear model.
  void task(uint64_t id) {
    Task task;
    task.task_id = id;
    task.round = 1;
    task.model_spec = "linear:4-1";
    task.params = f32_tensor(params_);
    send(task);
  }

  // The messages of type T received so far and not yet taken, in arrival order.
  template <typename T>
  std::vector<T> take() {
    drain();
    std::vector<T> found;
    for (auto it = kept_.begin(); it != kept_.end();) {
      if (T* hit = std::get_if<T>(&*it)) {
        found.push_back(std::move(*hit));
        it = kept_.erase(it);
      } else {
        ++it;
      }
    }
    return found;
  }
  const std::string& peer() const { return peer_; }

 private:
  void drain() {
    for (;;) {
      Result<std::optional<Inbound>> got = channel_->receive(0ms);
      REQUIRE(got.ok());
      if (!got->has_value()) return;
      peer_ = (*got)->peer;
      AlignedBytes scratch;
      Result<DecodedMessage> decoded = decode_message((*got)->payload, scratch);
      REQUIRE(decoded.ok());
      if (Update* update = std::get_if<Update>(&decoded->message)) update->payload = TensorView{};
      kept_.push_back(std::move(decoded->message));
    }
  }

  ServerChannel* channel_;
  std::string peer_;
  std::deque<Message> kept_;
  std::vector<float> params_{0.f, 0.f, 0.f, 0.f};
};

// The session's owner: records Tasks, reports what it works on, hands over queued results.
class FakeClient final : public device::UpstreamClient {
 public:
  Status turn(device::UpstreamSession& session) override {
    if (on_turn) on_turn();
    while (!results.empty()) {
      EDGEFL_RETURN_IF_ERROR(session.deliver(results.front().first, results.front().second));
      results.pop_front();
    }
    return Status();
  }
  void on_task(const Task& task, Bytes message) override {
    tasks.push_back(task.task_id);
    task_messages.push_back(std::move(message));
    busy_with = task.task_id;
  }
  uint64_t working_on() const override { return busy_with; }
  bool finishing() const override { return leaving; }
  void on_welcome(const Welcome& welcome) override { rule = welcome.eligibility; }
  uint32_t ineligible() const override { return reasons; }

  std::vector<uint64_t> tasks;
  std::vector<Bytes> task_messages;
  std::deque<std::pair<uint64_t, Bytes>> results;
  uint64_t busy_with = 0;
  bool leaving = false;
  EligibilityRule rule;  // of the last Welcome
  uint32_t reasons = 0;  // what heartbeats say about eligibility
  std::function<void()> on_turn;
};

// An encoded Update for `id` (update id = task id), as a trainer would make it.
inline Bytes update_bytes(uint64_t id) {
  const std::vector<float> delta{0.1f, -0.2f, 0.3f, 0.5f};
  Update update;
  update.update_id = id;
  update.task_id = id;
  update.round = 1;
  update.sample_count = 100;
  update.metrics.steps = 1;
  update.payload = f32_tensor(delta);
  Result<std::vector<uint8_t>> bytes = encode_message(update);
  REQUIRE(bytes.ok());
  return *bytes;
}

// A session on an in-memory network, file system and clock, driven turn by turn.
struct SessionRig {
  ManualTimeSource clock;
  MemoryNetwork net{&clock};
  ScriptedServer server{net.server()};
  FaultFileSystem fs;
  std::optional<Outbox> outbox;
  std::vector<std::string> log;
  std::unique_ptr<device::UpstreamSession> session;
  FakeClient client;
  std::unique_ptr<DeviceChannel> link;
  std::string link_name;
  int links = 0;
  std::atomic<bool> stop{false};
  device::ChannelFactory factory;  // set: connect() opens links through it (decorators)

  SessionRig() {
    REQUIRE(fs.create_dir("/state").ok());
    Result<Outbox> opened = Outbox::open(fs, "/state/outbox");
    REQUIRE(opened.ok());
    outbox.emplace(std::move(*opened));
    device::UpstreamOptions options;
    options.endpoint = "memory";
    options.join.device_id = "dev";
    options.join.boot_counter = 3;
    options.heartbeat_interval = 1000ms;
    session = std::make_unique<device::UpstreamSession>(
        options, *outbox, clock, [this](const std::string& line) { log.push_back(line); });
  }

  // A new link (a fresh routing id, as a DEALER gets after a drop); the session sends Join.
  void connect() {
    link_name = "dev#" + std::to_string(++links);
    if (factory) {
      Result<std::unique_ptr<DeviceChannel>> opened = factory();
      REQUIRE(opened.ok());
      link = std::move(*opened);
    } else {
      link = net.connect(link_name);
    }
    session->open(*link);
  }
  // What a factory for decorators wraps: the link connect() names next.
  device::ChannelFactory memory_links() {
    return [this]() -> Result<std::unique_ptr<DeviceChannel>> { return net.connect(link_name); };
  }
  void cut() { net.cut(link_name); }
  // One turn; the link's end if it ended.
  std::optional<device::LinkEnd> turn() {
    Result<std::optional<device::LinkEnd>> end = session->turn(client, stop);
    REQUIRE(end.ok());
    return *end;
  }
  // Turns until `span` of time passed or the link ended.
  std::optional<device::LinkEnd> run_for(std::chrono::milliseconds span) {
    const SteadyTime until = clock.now() + span;
    while (clock.now() < until) {
      if (std::optional<device::LinkEnd> end = turn()) return end;
    }
    return std::nullopt;
  }
  // Connects and completes the join.
  void join() {
    connect();
    REQUIRE(server.take<Join>().size() == 1);
    server.welcome();
    REQUIRE_FALSE(turn().has_value());
    REQUIRE(session->joined());
  }
  std::vector<std::string> pending() {
    Result<std::vector<std::string>> ids = outbox->list();
    REQUIRE(ids.ok());
    return *ids;
  }
};

}  // namespace edgefl::testing
