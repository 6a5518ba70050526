#include "simulated_outage.hpp"

#include "edgefl/proto/proto.hpp"
#include "edgefl/base/rng.hpp"
#include "stoppable_sleep.hpp"

namespace edgefl::device {

class SimulatedOutages::Link final : public DeviceChannel {
 public:
  Link(std::unique_ptr<DeviceChannel> inner, SimulatedOutages& owner, Rng rng,
       const std::atomic<bool>& stop)
      : inner_(std::move(inner)), owner_(&owner), rng_(rng), stop_(&stop) {}

  Status send(ByteView message) override {
    take_request();
    if (down_) return make_status(StatusCode::unavailable, "offline (simulated outage)");
    Status sent = inner_->send(message);
    if (owner_->first_send(message) && rng_.uniform() < owner_->options_.probability) {
      down_ = true;
      owner_->went_offline();
    }
    return sent;
  }

  Result<std::optional<Bytes>> receive(std::chrono::milliseconds timeout) override {
    take_request();
    if (!down_) return inner_->receive(timeout);
    if (!waited_) {
      waited_ = true;
      (void)sleep_unless_stopped(owner_->options_.duration, *stop_);
    }
    return make_status(StatusCode::unavailable, "offline (simulated outage)");
  }

  std::vector<LinkEvent> poll_events(std::chrono::milliseconds wait) override {
    return inner_->poll_events(wait);
  }

 private:
  // An outage asked for by go_offline() starts on this link.
  void take_request() {
    if (!down_ && owner_->offline_requested_.exchange(false)) {
      down_ = true;
      owner_->went_offline();
    }
  }

  std::unique_ptr<DeviceChannel> inner_;
  SimulatedOutages* owner_;
  Rng rng_;
  const std::atomic<bool>* stop_;
  bool down_ = false;
  bool waited_ = false;
};

SimulatedOutages::SimulatedOutages(OutageOptions options, std::vector<std::string> sent_before,
                                   LogSink log)
    : options_(std::move(options)),
      sent_(sent_before.begin(), sent_before.end()),
      log_(std::move(log)) {}

ChannelFactory SimulatedOutages::wrap(ChannelFactory connect, const std::atomic<bool>& stop) {
  return [this, connect = std::move(connect), &stop]() -> Result<std::unique_ptr<DeviceChannel>> {
    Result<std::unique_ptr<DeviceChannel>> link = connect();
    if (!link) return link.status();
    ++links_;
    Rng rng(options_.seed, options_.stream + links_);
    return std::unique_ptr<DeviceChannel>(
        std::make_unique<Link>(std::move(*link), *this, rng, stop));
  };
}

bool SimulatedOutages::first_send(ByteView message) {
  AlignedBytes scratch;
  Result<DecodedMessage> decoded = decode_message(message, scratch);
  if (!decoded) return false;
  const Update* update = std::get_if<Update>(&decoded->message);
  return update != nullptr && sent_.insert(UpstreamSession::outbox_id(update->update_id)).second;
}

void SimulatedOutages::went_offline() {
  ++periods_;
  log_(options_.device_id + ": going offline for " + std::to_string(options_.offline_s) +
       " s (simulated)");
}

}  // namespace edgefl::device
