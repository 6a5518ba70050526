// RecordingChannel: a ServerChannel decorator that remembers every Ack and Reject the server
// sent, so tests can check exactly-once delivery from the outside.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "edgefl/proto/messages.hpp"
#include "edgefl/net/transport.hpp"

namespace edgefl::test {

class RecordingChannel final : public ServerChannel {
 public:
  explicit RecordingChannel(ServerChannel& inner) : inner_(&inner) {}

  Status send(const std::string& peer, ByteView message) override;
  Result<std::optional<Inbound>> receive(std::chrono::milliseconds timeout) override {
    return inner_->receive(timeout);
  }
  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override { return inner_->poll_events(wait); }
  void charge(const std::string& peer, double messages) override { inner_->charge(peer, messages); }

  // Update id -> how many times it was acknowledged as accepted (applied).
  std::map<uint64_t, int> accepted;
  uint64_t duplicate_acks = 0;
  std::vector<Reject> rejects;

 private:
  ServerChannel* inner_;
};

}  // namespace edgefl::test
