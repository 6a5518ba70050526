#include "edgefl/net/fault_transport.hpp"

namespace edgefl {

FaultInjector::FaultInjector(const FaultPlan& plan, uint64_t stream)
    : plan_(plan), rng_(plan.seed, stream) {}

void FaultInjector::release_due(std::vector<Item>& out) {
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->remaining == 0 || --it->remaining == 0) {
      out.push_back(std::move(it->item));
      ++stats_.passed;
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<FaultInjector::Item> FaultInjector::tick() {
  std::vector<Item> out;
  release_due(out);
  return out;
}

std::vector<FaultInjector::Item> FaultInjector::feed(Item item) {
  std::vector<Item> out;
  release_due(out);
  // Draw every decision for every message, so one message's fate does not shift the next's.
  const double drop = rng_.uniform_double();
  const double truncate = rng_.uniform_double();
  const double delay = rng_.uniform_double();
  const double reorder = rng_.uniform_double();
  const double duplicate = rng_.uniform_double();
  const uint32_t cut_draw = rng_.next_u32();

  if (drop < plan_.drop) {
    ++stats_.dropped;
    return out;
  }
  if (truncate < plan_.truncate && !item.payload.empty()) {
    item.payload.resize(cut_draw % item.payload.size());  // strictly shorter
    ++stats_.truncated;
  }
  if (delay < plan_.delay && plan_.delay_ops > 0) {
    ++stats_.delayed;
    delayed_.push_back(Held{std::move(item), plan_.delay_ops});
    return out;
  }
  if (reorder < plan_.reorder && !reorder_slot_) {
    ++stats_.reordered;
    reorder_slot_ = std::move(item);  // goes out right after the next message
    return out;
  }
  const bool twice = duplicate < plan_.duplicate;
  if (twice) {
    ++stats_.duplicated;
    out.push_back(item);
    ++stats_.passed;
  }
  out.push_back(std::move(item));
  ++stats_.passed;
  if (reorder_slot_) {
    out.push_back(std::move(*reorder_slot_));
    reorder_slot_.reset();
    ++stats_.passed;
  }
  return out;
}

namespace {
FaultStats add(const FaultStats& a, const FaultStats& b) {
  return FaultStats{a.passed + b.passed,   a.dropped + b.dropped,     a.duplicated + b.duplicated,
                    a.delayed + b.delayed, a.reordered + b.reordered, a.truncated + b.truncated};
}

// Streams of the seeded generator, so send and receive faults are independent.
constexpr uint64_t kSendStream = 1;
constexpr uint64_t kReceiveStream = 2;
}  // namespace

// ---- device side ----

FaultyDeviceChannel::FaultyDeviceChannel(DeviceChannel& inner, const FaultPlan& plan)
    : inner_(inner),
      plan_(plan),
      send_faults_(plan, kSendStream),
      receive_faults_(plan, kReceiveStream) {}

Status FaultyDeviceChannel::send(ByteView message) {
  if (!plan_.on_send) return inner_.send(message);
  auto out = send_faults_.feed({{}, {}, Bytes(message.begin(), message.end())});
  for (auto& item : out) EDGEFL_RETURN_IF_ERROR(inner_.send(item.payload));
  return Status();
}

Result<std::optional<Bytes>> FaultyDeviceChannel::receive(std::chrono::milliseconds timeout) {
  if (!plan_.on_receive) return inner_.receive(timeout);
  if (ready_.empty()) {
    auto got = inner_.receive(timeout);
    if (!got) return got.status();
    auto out = *got ? receive_faults_.feed({{}, {}, std::move(**got)}) : receive_faults_.tick();
    for (auto& item : out) ready_.push_back(std::move(item.payload));
  }
  if (ready_.empty()) return std::optional<Bytes>();
  Bytes next = std::move(ready_.front());
  ready_.pop_front();
  return std::optional<Bytes>(std::move(next));
}

std::vector<LinkEvent> FaultyDeviceChannel::poll_events(std::chrono::milliseconds wait) {
  return inner_.poll_events(wait);
}

FaultStats FaultyDeviceChannel::stats() const {
  return add(send_faults_.stats(), receive_faults_.stats());
}

// ---- server side ----

FaultyServerChannel::FaultyServerChannel(ServerChannel& inner, const FaultPlan& plan)
    : inner_(inner),
      plan_(plan),
      send_faults_(plan, kSendStream),
      receive_faults_(plan, kReceiveStream) {}

Status FaultyServerChannel::send(const std::string& peer, ByteView message) {
  if (!plan_.on_send) return inner_.send(peer, message);
  auto out = send_faults_.feed({peer, {}, Bytes(message.begin(), message.end())});
  for (auto& item : out) EDGEFL_RETURN_IF_ERROR(inner_.send(item.peer, item.payload));
  return Status();
}

Result<std::optional<Inbound>> FaultyServerChannel::receive(std::chrono::milliseconds timeout) {
  if (!plan_.on_receive) return inner_.receive(timeout);
  if (ready_.empty()) {
    auto got = inner_.receive(timeout);
    if (!got) return got.status();
    auto out =
        *got ? receive_faults_.feed({(*got)->peer, (*got)->identity, std::move((*got)->payload)})
             : receive_faults_.tick();
    for (auto& item : out) {
      ready_.push_back(
          Inbound{std::move(item.peer), std::move(item.identity), std::move(item.payload)});
    }
  }
  if (ready_.empty()) return std::optional<Inbound>();
  Inbound next = std::move(ready_.front());
  ready_.pop_front();
  return std::optional<Inbound>(std::move(next));
}

std::vector<LinkEvent> FaultyServerChannel::poll_events(std::chrono::milliseconds wait) {
  return inner_.poll_events(wait);
}

FaultStats FaultyServerChannel::stats() const {
  return add(send_faults_.stats(), receive_faults_.stats());
}

}  // namespace edgefl
