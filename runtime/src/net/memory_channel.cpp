#include "edgefl/net/memory_channel.hpp"

#include <utility>

namespace edgefl {

class MemoryNetwork::ServerEnd final : public ServerChannel {
 public:
  explicit ServerEnd(MemoryNetwork& net) : net_(&net) {}

  Status send(const std::string& peer, ByteView message) override {
    std::lock_guard<std::mutex> lock(net_->mutex_);
    auto link = net_->links_.find(peer);
    if (link == net_->links_.end() || !link->second.alive) {
      return make_status(StatusCode::unavailable, "no live connection to this peer");
    }
    link->second.to_device.emplace_back(message.begin(), message.end());
    return Status();
  }

  Result<std::optional<Inbound>> receive(std::chrono::milliseconds timeout) override {
    {
      std::lock_guard<std::mutex> lock(net_->mutex_);
      if (!net_->to_server_.empty()) {
        Inbound next = std::move(net_->to_server_.front());
        net_->to_server_.pop_front();
        return std::optional<Inbound>(std::move(next));
      }
    }
    net_->wait_out(timeout);
    return std::optional<Inbound>();
  }

  std::vector<LinkEvent> poll_events(std::chrono::milliseconds) override { return {}; }

  void charge(const std::string& peer, double messages) override {
    std::lock_guard<std::mutex> lock(net_->mutex_);
    net_->charged_[peer] += messages;
  }

 private:
  MemoryNetwork* net_;
};

class MemoryNetwork::DeviceEnd final : public DeviceChannel {
 public:
  DeviceEnd(MemoryNetwork& net, std::string peer) : net_(&net), peer_(std::move(peer)) {}

  Status send(ByteView message) override {
    std::lock_guard<std::mutex> lock(net_->mutex_);
    const Link& link = net_->links_.at(peer_);
    if (!link.alive) return make_status(StatusCode::unavailable, "the connection was cut");
    net_->to_server_.push_back(Inbound{peer_, link.identity, Bytes(message.begin(), message.end())});
    return Status();
  }

  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override {
    {
      std::lock_guard<std::mutex> lock(net_->mutex_);
      Link& link = net_->links_.at(peer_);
      if (!link.to_device.empty()) {
        Bytes next = std::move(link.to_device.front());
        link.to_device.pop_front();
        return std::optional<Bytes>(std::move(next));
      }
    }
    net_->wait_out(timeout);
    return std::optional<Bytes>();
  }

  std::vector<LinkEvent> poll_events(std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(net_->mutex_);
    return std::exchange(net_->links_.at(peer_).events, {});
  }

 private:
  MemoryNetwork* net_;
  std::string peer_;
};

MemoryNetwork::MemoryNetwork(ManualTimeSource* clock) : clock_(clock), server_(std::make_unique<ServerEnd>(*this)) {}

MemoryNetwork::~MemoryNetwork() = default;

ServerChannel& MemoryNetwork::server() { return *server_; }

std::unique_ptr<DeviceChannel> MemoryNetwork::connect(const std::string& peer, const std::string& identity) {
  std::lock_guard<std::mutex> lock(mutex_);
  Link& link = links_[peer];
  link = Link{identity, true, {}, {}};
  return std::make_unique<DeviceEnd>(*this, peer);
}

void MemoryNetwork::cut(const std::string& peer) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto link = links_.find(peer);
  if (link == links_.end()) return;
  link->second.alive = false;
  link->second.to_device.clear();
}

std::size_t MemoryNetwork::pending_for(const std::string& peer) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto link = links_.find(peer);
  return link == links_.end() ? 0 : link->second.to_device.size();
}

double MemoryNetwork::charged(const std::string& peer) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = charged_.find(peer);
  return found == charged_.end() ? 0.0 : found->second;
}

void MemoryNetwork::report(const std::string& peer, LinkEvent::Kind kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto link = links_.find(peer);
  if (link == links_.end()) return;
  link->second.events.push_back(LinkEvent{kind, peer, clock_ != nullptr ? clock_->now() : SteadyTime{}});
}

void MemoryNetwork::wait_out(std::chrono::milliseconds timeout) {
  if (clock_ != nullptr) clock_->advance(timeout);
}

}  // namespace edgefl
